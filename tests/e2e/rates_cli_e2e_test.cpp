// End to end: `cdrd rates ...` with the real binary against a test
// database: a deck is imported, listed, shown and exported (and the export
// imports again to the same deck); a bad file is refused whole, naming its
// line and column, and leaves the stored deck as it was; assignments are
// made, listed and removed. Exit codes: 2 for bad arguments or a bad file,
// 1 for what the database says no to.
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

const char kDeck[] =
    "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee\n"
    "33,France,60,0.012,6,0.010,0.005\n"
    "331,Paris,60,0.02,6,0.02,\n"
    "44,UK,1,0.05,1,0.05,\n";

const char kExported[] =
    "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee,attempt_fee,grace_seconds,"
    "min_length,max_length,valid_from,valid_till,tiers\n"
    "33,France,60,0.012,6,0.01,0.005,0,0,,,,,\n"
    "331,Paris,60,0.02,6,0.02,0,0,0,,,,,\n"
    "44,UK,1,0.05,1,0.05,0,0,0,,,,,\n";

// A directory with the command's configuration (the test database) where
// the commands run, so a file is named as given ("deck.csv").
class RatesCli {
 public:
  explicit RatesCli(const std::string& db_prefix) : dsn_(create_migrated_database(db_prefix)) {
    write_file(dir_.file("cdrd.yaml"),
               "state_dir: " + dir_.file("state") + "\ndatabase:\n  dsn: \"" + dsn_ + "\"\nlog:\n  level: warn\n");
  }
  // `cdrd rates ARGS -c cdrd.yaml`, run in the directory; stdout and stderr
  // together, or stdout alone.
  CommandResult rates(const std::string& args, bool stdout_only = false) const {
    // run_command() appends 2>&1, so stderr is dropped inside a group.
    const std::string command = std::string(CDRD_BINARY) + " rates " + args + " -c cdrd.yaml";
    return run_command("cd " + dir_.path() + " && " + (stdout_only ? "{ " + command + " 2>/dev/null; }" : command));
  }
  void write(const std::string& name, const std::string& text) const { write_file(dir_.file(name), text); }
  const std::string& dsn() const { return dsn_; }

 private:
  TempDir dir_;
  std::string dsn_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(RatesCliE2E, ImportListShowExportAndImportAgain) {
  const RatesCli cli("e2e_rates_import");
  cli.write("deck.csv", kDeck);
  CommandResult out = cli.rates("import --deck retail --currency USD --duration-rounding nearest deck.csv");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "deck retail: 3 prefixes imported (currency USD)\n");
  EXPECT_EQ(query_count(cli.dsn(), "SELECT count(*) FROM rate_deck_entries WHERE deck = 'retail'"), 3);

  out = cli.rates("list");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_TRUE(contains(out.output, "\nretail\tUSD\t3\tnearest\tnone\t4\t")) << out.output;
  EXPECT_TRUE(contains(out.output, "\tdeck.csv\n")) << out.output;

  out = cli.rates("show --deck retail --prefix 3317");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_TRUE(contains(out.output, "deck: retail\ncurrency: USD\nduration_rounding: nearest\n")) << out.output;
  EXPECT_TRUE(contains(out.output, "matching 3317: 2\n")) << out.output;
  EXPECT_TRUE(contains(out.output, "\n33,France,60,0.012,6,0.01,0.005,0,0,,,,,\n331,Paris,")) << out.output;
  EXPECT_FALSE(contains(out.output, "44,UK")) << out.output;

  out = cli.rates("export --deck retail", true);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, kExported);
  // The settings, which the CSV does not carry, on stderr.
  out = cli.rates("export --deck retail");
  EXPECT_TRUE(contains(out.output, "--currency USD --duration-rounding nearest --price-rounding none --decimals 4"))
      << out.output;

  cli.write("export.csv", kExported);
  out = cli.rates("import --deck copy --currency USD --duration-rounding nearest export.csv");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  out = cli.rates("export --deck copy", true);
  EXPECT_EQ(out.output, kExported);

  // Replacing a deck: the new file's rates only.
  cli.write("smaller.csv",
            "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n49,Germany,1,0.1,1,0.1\n");
  out = cli.rates("import --deck retail --currency EUR --price-rounding up --decimals 2 smaller.csv");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "deck retail: 1 prefixes imported (currency EUR)\n");
  out = cli.rates("list");
  EXPECT_TRUE(contains(out.output, "\nretail\tEUR\t1\tup\tup\t2\t")) << out.output;
}

TEST(RatesCliE2E, BadFilesAreRefusedWholeAndTheDeckStays) {
  const RatesCli cli("e2e_rates_bad");
  cli.write("deck.csv", kDeck);
  ASSERT_EQ(cli.rates("import --deck retail --currency USD deck.csv").exit_code, 0);
  const long long version = query_count(cli.dsn(), "SELECT version FROM rating_version");

  // A bad number on line 3 (the header is line 1).
  cli.write("bad.csv",
            "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n"
            "34,Spain,60,0.01,6,0.01\n"
            "35,Portugal,60,\"0,5\",6,0.01\n");
  CommandResult out = cli.rates("import --deck retail --currency USD bad.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(out.output, "cdrd: bad.csv line 3, column initial_rate: '0,5' is not a decimal number\n");

  cli.write("missing.csv", "prefix,name,initial_interval,initial_rate,next_interval\n34,Spain,60,0.01,6\n");
  out = cli.rates("import --deck retail --currency USD missing.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "missing.csv line 1, column next_rate: missing from the header")) << out.output;

  cli.write("dup.csv",
            "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n"
            "34,Spain,60,0.01,6,0.01\n"
            "36,Italy,60,0.01,6,0.01\n"
            "34,Spain again,60,0.02,6,0.02\n");
  out = cli.rates("import --deck retail --currency USD dup.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "dup.csv line 4, column prefix: 34 is also on line 2 with an overlapping validity"))
      << out.output;

  out = cli.rates("import --deck retail --currency USD nowhere.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "nowhere.csv: cannot be read")) << out.output;

  // Bad arguments: refused before the file or the database.
  out = cli.rates("import --deck retail --currency usd deck.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "currency 'usd'")) << out.output;
  out = cli.rates("import --deck 'a b' --currency USD deck.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  out = cli.rates("import --deck retail --currency USD --duration-rounding sideways deck.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  out = cli.rates("import --deck retail --currency USD --decimals 13 deck.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  out = cli.rates("import --currency USD deck.csv");
  EXPECT_EQ(out.exit_code, 2) << out.output;

  // Nothing of it reached the database.
  EXPECT_EQ(cli.rates("export --deck retail", true).output, kExported);
  EXPECT_EQ(query_count(cli.dsn(), "SELECT version FROM rating_version"), version);
  EXPECT_EQ(query_count(cli.dsn(), "SELECT count(*) FROM rate_decks WHERE currency <> 'USD'"), 0);

  out = cli.rates("export --deck nope");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_TRUE(contains(out.output, "no rate deck nope")) << out.output;
  out = cli.rates("show --deck nope");
  EXPECT_EQ(out.exit_code, 1) << out.output;
}

TEST(RatesCliE2E, AssignListAndUnassign) {
  const RatesCli cli("e2e_rates_assign");
  cli.write("deck.csv", kDeck);
  ASSERT_EQ(cli.rates("import --deck retail --currency USD deck.csv").exit_code, 0);
  ASSERT_EQ(cli.rates("import --deck carrier --currency EUR deck.csv").exit_code, 0);

  CommandResult out = cli.rates("assign --side customer --account acct-1 --deck retail");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "customer account acct-1, direction any, from always: deck retail\n");
  out = cli.rates("assign --side customer --account acct-1 --deck carrier");
  EXPECT_EQ(out.output, "customer account acct-1, direction any, from always: deck carrier (was retail)\n");
  out = cli.rates("assign --side vendor --trunk carrier-a --deck carrier --direction outbound --valid-from 2024-07-01");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "vendor trunk carrier-a, direction outbound, from 2024-07-01T00:00:00Z: deck carrier\n");

  out = cli.rates("assignments");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_TRUE(contains(out.output, "side\tsubject\tdirection\tvalid_from\tdeck\tassigned_at\n")) << out.output;
  EXPECT_TRUE(contains(out.output, "\ncustomer\tacct-1\tany\t-\tcarrier\t")) << out.output;
  EXPECT_TRUE(contains(out.output, "\nvendor\tcarrier-a\toutbound\t2024-07-01T00:00:00Z\tcarrier\t")) << out.output;
  out = cli.rates("assignments --trunk carrier-a");
  EXPECT_FALSE(contains(out.output, "acct-1")) << out.output;
  EXPECT_TRUE(contains(out.output, "carrier-a")) << out.output;

  // Refused: a deck that does not exist (1), keys that do not fit the side (2).
  out = cli.rates("assign --side customer --account acct-1 --deck nope");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_TRUE(contains(out.output, "no rate deck nope")) << out.output;
  out = cli.rates("assign --side customer --trunk carrier-a --deck retail");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  out = cli.rates("assign --side vendor --deck retail");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "--side vendor needs --trunk NAME")) << out.output;
  out = cli.rates("assign --side customer --account a --deck retail --valid-from yesterday");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  out = cli.rates("assign --side reseller --account a --deck retail");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(query_count(cli.dsn(), "SELECT count(*) FROM rate_assignments"), 2);

  out = cli.rates("unassign --side vendor --trunk carrier-a --direction outbound --valid-from 2024-07-01T00:00:00Z");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output,
            "removed vendor trunk carrier-a, direction outbound, from 2024-07-01T00:00:00Z: deck carrier\n");
  out = cli.rates("unassign --side vendor --trunk carrier-a --direction outbound --valid-from 2024-07-01");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_TRUE(contains(out.output, "no assignment for vendor trunk carrier-a")) << out.output;
  EXPECT_EQ(query_count(cli.dsn(), "SELECT count(*) FROM rate_assignments"), 1);
}

}  // namespace
}  // namespace cdrd::test
