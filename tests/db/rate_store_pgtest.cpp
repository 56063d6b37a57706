// The rating tables on a real database: a deck is stored and read back
// unchanged, a failed replacement leaves the old deck as it was, every
// change moves the version and sends NOTIFY cdrd_rates, assignments, and
// the snapshot the writer rates with.
#include "daemon/db/rate_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/db/migrations.h"
#include "daemon/rating/deck_csv.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const char kDeckCsv[] =
    "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee,attempt_fee,grace_seconds,"
    "min_length,max_length,valid_from,valid_till,tiers\n"
    "33,France,60,0.012,6,0.010,0.005,,,,,,,\n"
    "331,Paris,60,0.02,6,0.02,,0.001,2,,,,2024-06-01,\n"
    "331,Paris,60,0.025,6,0.025,,0.001,2,,,2024-06-01,,\n"
    "33170,\"Paris, old\",60,0.03,6,0.03,,,,11,11,,,\n"
    "44,UK,,,,,0.2,,,,,,,0:0.1:60;60:0.05:1\n";

// What export writes for kDeckCsv: every column, canonical numbers, ordered
// by prefix and valid_from.
const char kExported[] =
    "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee,attempt_fee,grace_seconds,"
    "min_length,max_length,valid_from,valid_till,tiers\n"
    "33,France,60,0.012,6,0.01,0.005,0,0,,,,,\n"
    "331,Paris,60,0.02,6,0.02,0,0.001,2,,,,2024-06-01T00:00:00Z,\n"
    "331,Paris,60,0.025,6,0.025,0,0.001,2,,,2024-06-01T00:00:00Z,,\n"
    "33170,\"Paris, old\",60,0.03,6,0.03,0,0,0,11,11,,,\n"
    "44,UK,,,,,0.2,0,0,,,,,0:0.1:60;60:0.05:1\n";

RateDeck deck_from_csv(const std::string& name, const std::string& csv) {
  RateDeck deck;
  deck.settings.name = name;
  deck.settings.currency = "USD";
  deck.settings.duration_rounding = DurationRounding::kNearest;
  deck.settings.price_rounding = PriceRounding::kHalfUp;
  deck.settings.decimals = 5;
  std::string error;
  EXPECT_TRUE(parse_deck_csv(csv, name + ".csv", &deck.entries, &error)) << error;
  return deck;
}

int64_t at(const std::string& iso) { return parse_iso_time_us(iso).value(); }

class RateStorePg : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("rate_store");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    std::vector<std::string> applied;
    std::string error;
    ASSERT_TRUE(apply_migrations(*conn_, &applied, &error)) << error;
  }
  uint64_t version() {
    pqxx::read_transaction tx(*conn_);
    return rating_version(tx);
  }
  long long count(const std::string& sql) {
    pqxx::read_transaction tx(*conn_);
    return tx.exec1(sql)[0].as<long long>();
  }
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(RateStorePg, DeckIsStoredAndExportedUnchanged) {
  const uint64_t before = version();
  const uint64_t after = replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "retail.csv");
  EXPECT_GT(after, before);
  EXPECT_EQ(version(), after);

  const std::vector<StoredDeck> decks = list_decks(*conn_);
  ASSERT_EQ(decks.size(), 1u);
  EXPECT_EQ(decks[0].settings.name, "retail");
  EXPECT_EQ(decks[0].settings.currency, "USD");
  EXPECT_EQ(decks[0].settings.duration_rounding, DurationRounding::kNearest);
  EXPECT_EQ(decks[0].settings.price_rounding, PriceRounding::kHalfUp);
  EXPECT_EQ(decks[0].settings.decimals, 5);
  EXPECT_EQ(decks[0].entries, 5);
  EXPECT_EQ(decks[0].source, "retail.csv");
  EXPECT_EQ(decks[0].imported_at.back(), 'Z');

  const auto loaded = load_deck(*conn_, "retail");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(deck_csv(loaded->entries), kExported);
  // Money is numeric in the table, exact.
  EXPECT_EQ(count("SELECT count(*) FROM rate_deck_entries WHERE initial_rate = 0.012 AND next_rate = 0.01"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM rate_deck_entries WHERE tiers = '0:0.1:60;60:0.05:1' AND initial_rate IS NULL"),
            1);

  // The export imports again to the same deck.
  replace_deck(*conn_, deck_from_csv("retail", kExported), "export.csv");
  EXPECT_EQ(deck_csv(load_deck(*conn_, "retail")->entries), kExported);
  EXPECT_FALSE(load_deck(*conn_, "other").has_value());
  EXPECT_FALSE(find_deck(*conn_, "other").has_value());
}

TEST_F(RateStorePg, ShowByPrefixListsWhatANumberCouldMatch) {
  replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "");
  const auto prefixes_for = [&](const std::string& prefix) {
    const std::optional<RateDeck> deck = load_deck(*conn_, "retail", prefix);
    std::vector<std::string> out;
    for (const RateEntry& e : deck.value().entries) out.push_back(e.prefix);
    return out;
  };
  EXPECT_EQ(prefixes_for("3317"), (std::vector<std::string>{"33", "331", "331", "33170"}));
  EXPECT_EQ(prefixes_for("4"), (std::vector<std::string>{"44"}));
  EXPECT_EQ(prefixes_for("5"), (std::vector<std::string>{}));
  EXPECT_THROW(load_deck(*conn_, "retail", "4%"), std::invalid_argument);
}

TEST_F(RateStorePg, FailedReplacementLeavesTheOldDeck) {
  replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "v1.csv");
  const uint64_t v1 = version();

  // The database refuses the last row (not UTF-8), after the others went
  // into the COPY: nothing of the new deck stays, not even its settings.
  RateDeck bad = deck_from_csv("retail",
                               "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n"
                               "1,USA,6,0.5,6,0.5\n7,Russia,60,0.9,60,0.9\n");
  bad.settings.currency = "EUR";
  bad.entries.back().name = "Russia \xff";
  EXPECT_THROW(replace_deck(*conn_, bad, "v2.csv"), pqxx::data_exception);
  EXPECT_EQ(deck_csv(load_deck(*conn_, "retail")->entries), kExported);
  EXPECT_EQ(find_deck(*conn_, "retail")->settings.currency, "USD");
  EXPECT_EQ(find_deck(*conn_, "retail")->source, "v1.csv");
  EXPECT_EQ(version(), v1);

  // Refused before the database: overlapping rates, bad settings, no rates.
  RateDeck overlap = deck_from_csv("retail", kDeckCsv);
  overlap.entries.push_back(overlap.entries.front());
  EXPECT_THROW(replace_deck(*conn_, overlap, ""), std::invalid_argument);
  RateDeck no_currency = deck_from_csv("retail", kDeckCsv);
  no_currency.settings.currency = "usd";
  EXPECT_THROW(replace_deck(*conn_, no_currency, ""), std::invalid_argument);
  RateDeck empty = deck_from_csv("retail", kDeckCsv);
  empty.entries.clear();
  EXPECT_THROW(replace_deck(*conn_, empty, ""), std::invalid_argument);
  EXPECT_EQ(deck_csv(load_deck(*conn_, "retail")->entries), kExported);
  EXPECT_EQ(version(), v1);
}

TEST_F(RateStorePg, ADeletedDeckTakesItsRatesAndStrayRatesAreIgnored) {
  replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "");
  replace_deck(*conn_, deck_from_csv("other", kDeckCsv), "");
  {
    pqxx::work tx(*conn_);
    tx.exec("DELETE FROM rate_decks WHERE name = 'retail'");
    // A rate of no deck, as an edit by hand could leave one.
    tx.exec(
        "INSERT INTO rate_deck_entries (deck, prefix, initial_interval, initial_rate, next_interval, next_rate) "
        "VALUES ('ghost', '33', 60, 0.1, 60, 0.1)");
    tx.commit();
  }
  EXPECT_EQ(count("SELECT count(*) FROM rate_deck_entries WHERE deck = 'retail'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM rate_deck_entries WHERE deck = 'other'"), 5);
  const auto snap = load_rating_snapshot(*conn_);
  EXPECT_EQ(snap->deck_count(), 1u);
  EXPECT_NE(snap->deck("other"), nullptr);
  EXPECT_EQ(snap->deck("ghost"), nullptr);
  ASSERT_EQ(list_decks(*conn_).size(), 1u);
  EXPECT_EQ(list_decks(*conn_)[0].entries, 5);
}

TEST_F(RateStorePg, AssignmentsAreStoredReplacedAndRemoved) {
  replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "");
  replace_deck(*conn_, deck_from_csv("wholesale", kDeckCsv), "");
  RateAssignment a;
  a.side = RateSide::kCustomer;
  a.subject = "acct-1";
  a.deck = "retail";
  EXPECT_EQ(assign_deck(*conn_, a), std::nullopt);
  a.deck = "wholesale";
  EXPECT_EQ(assign_deck(*conn_, a), "retail");  // the same key: replaced
  RateAssignment later = a;
  later.valid_from_us = at("2025-01-01T00:00:00Z");
  later.direction = RateDirection::kOutbound;
  later.deck = "retail";
  EXPECT_EQ(assign_deck(*conn_, later), std::nullopt);
  RateAssignment vendor;
  vendor.side = RateSide::kVendor;
  vendor.subject = "carrier-a";
  vendor.deck = "wholesale";
  assign_deck(*conn_, vendor);

  std::vector<StoredAssignment> all = list_assignments(*conn_);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].assignment.side, RateSide::kCustomer);
  EXPECT_EQ(all[0].assignment.direction, RateDirection::kAny);
  EXPECT_EQ(all[0].assignment.valid_from_us, kNoStartUs);
  EXPECT_EQ(all[0].assignment.deck, "wholesale");
  EXPECT_EQ(all[1].assignment.direction, RateDirection::kOutbound);
  EXPECT_EQ(all[1].assignment.valid_from_us, at("2025-01-01T00:00:00Z"));
  EXPECT_EQ(all[2].assignment.subject, "carrier-a");
  EXPECT_EQ(all[2].assigned_at.back(), 'Z');
  EXPECT_EQ(list_assignments(*conn_, RateSide::kVendor).size(), 1u);
  EXPECT_EQ(list_assignments(*conn_, std::nullopt, "acct-1").size(), 2u);
  EXPECT_EQ(list_assignments(*conn_, RateSide::kVendor, "acct-1").size(), 0u);

  RateAssignment missing = a;
  missing.deck = "nope";
  EXPECT_THROW(assign_deck(*conn_, missing), NoSuchDeck);
  RateAssignment nobody = a;
  nobody.subject = "";
  EXPECT_THROW(assign_deck(*conn_, nobody), std::invalid_argument);

  const uint64_t v = version();
  EXPECT_EQ(unassign_deck(*conn_, RateSide::kCustomer, "acct-1", RateDirection::kInbound, kNoStartUs), std::nullopt);
  EXPECT_EQ(version(), v) << "nothing removed, nothing changed";
  EXPECT_EQ(unassign_deck(*conn_, RateSide::kCustomer, "acct-1", RateDirection::kOutbound, at("2025-01-01T00:00:00Z")),
            "retail");
  EXPECT_GT(version(), v);
  EXPECT_EQ(list_assignments(*conn_).size(), 2u);
}

class Notified : public pqxx::notification_receiver {
 public:
  Notified(pqxx::connection_base& conn, const std::string& channel) : pqxx::notification_receiver(conn, channel) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { ++count; }
  int count = 0;
};

TEST_F(RateStorePg, EveryChangeNotifiesAndMovesTheVersion) {
  pqxx::connection listener(dsn_);
  Notified notified(listener, kRatesChannel);
  listener.get_notifs();  // sends the LISTEN

  auto wait_for_notification = [&] {
    const int before = notified.count;
    for (int i = 0; i < 50 && notified.count == before; ++i) listener.await_notification(0, 100000);
    return notified.count > before;
  };
  uint64_t v = version();
  replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "");
  EXPECT_TRUE(wait_for_notification()) << "import";
  EXPECT_GT(version(), v);
  v = version();
  RateAssignment a;
  a.subject = "acct-1";
  a.deck = "retail";
  assign_deck(*conn_, a);
  EXPECT_TRUE(wait_for_notification()) << "assign";
  EXPECT_GT(version(), v);
  v = version();
  // An edit made by hand counts too.
  {
    pqxx::work tx(*conn_);
    tx.exec("UPDATE rate_deck_entries SET name = 'France (metro)' WHERE prefix = '33'");
    tx.commit();
  }
  EXPECT_TRUE(wait_for_notification()) << "psql edit";
  EXPECT_GT(version(), v);
  v = version();
  unassign_deck(*conn_, RateSide::kCustomer, "acct-1", RateDirection::kAny, kNoStartUs);
  EXPECT_TRUE(wait_for_notification()) << "unassign";
  EXPECT_GT(version(), v);
  // One transaction, one notification: the payload is empty, so PostgreSQL
  // folds the import's three statements into one.
  const int before = notified.count;
  replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "");
  EXPECT_TRUE(wait_for_notification());
  listener.await_notification(0, 300000);
  EXPECT_EQ(notified.count, before + 1);
}

TEST_F(RateStorePg, SnapshotRatesWhatIsStored) {
  replace_deck(*conn_, deck_from_csv("retail", kDeckCsv), "");
  RateDeck vendor_deck = deck_from_csv("carrier",
                                       "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n"
                                       "3,Europe,1,0.006,1,0.006\n");
  vendor_deck.settings.currency = "EUR";
  vendor_deck.settings.price_rounding = PriceRounding::kNone;
  replace_deck(*conn_, vendor_deck, "");
  RateAssignment customer;
  customer.subject = "acct-1";
  customer.deck = "retail";
  assign_deck(*conn_, customer);
  RateAssignment vendor;
  vendor.side = RateSide::kVendor;
  vendor.subject = "carrier-a";
  vendor.direction = RateDirection::kOutbound;
  vendor.deck = "carrier";
  assign_deck(*conn_, vendor);

  const std::shared_ptr<const RatingSnapshot> snap = load_rating_snapshot(*conn_);
  EXPECT_EQ(snap->version(), version());
  EXPECT_EQ(snap->deck_count(), 2u);

  LegToRate leg;
  leg.account_id = "acct-1";
  leg.trunk = "carrier-a";
  leg.direction_class = "outbound";
  leg.callee_digits = "33612345678";
  leg.start_us = at("2024-05-01T16:55:40Z");
  leg.answer_us = at("2024-05-01T16:55:53.518Z");
  leg.end_us = at("2024-05-01T16:57:28.918Z");
  // d = 95 (nearest): 0.005 + 0.012 + 0.006 = 0.023, billed 96.
  EXPECT_EQ(snap->customer(leg, "2024-05-01T17:00:00Z").json(),
            "{\"deck\":\"retail\",\"prefix\":\"33\",\"name\":\"France\",\"initial_interval\":60,"
            "\"initial_rate\":\"0.012\",\"next_interval\":6,\"next_rate\":\"0.01\",\"connect_fee\":\"0.005\","
            "\"billed_seconds\":96,\"charge\":\"0.023\",\"currency\":\"USD\",\"rated_at\":\"2024-05-01T17:00:00Z\"}");
  // Vendor: 95 s at 0.006/min per second = 0.0095.
  const RatingOutcome v = snap->vendor(leg, "2024-05-01T17:00:00Z");
  EXPECT_EQ(v.charge, "0.0095");
  EXPECT_EQ(v.currency, "EUR");
  EXPECT_EQ(v.billed_seconds, 95);
  // 331 from 2024-06-01 on: 0.025/min; and its grace of 2 s with attempt fee 0.001.
  leg.callee_digits = "33199";
  leg.start_us = at("2024-07-01T10:00:00Z");
  leg.answer_us = at("2024-07-01T10:00:05Z");
  leg.end_us = at("2024-07-01T10:00:06.4Z");  // 1.4 s -> 1 s: within the grace
  EXPECT_EQ(snap->customer(leg, "t").charge, "0.001");
  leg.end_us = at("2024-07-01T10:01:05Z");  // 60 s: 0.025
  EXPECT_EQ(snap->customer(leg, "t").charge, "0.025");
  leg.direction_class = "inbound";  // the vendor deck is for outbound calls only
  EXPECT_EQ(snap->vendor(leg, "t").reason,
            "no vendor deck assigned to trunk carrier-a for inbound calls at 2024-07-01T10:00:00Z");
}

TEST_F(RateStorePg, EmptySnapshot) {
  const auto snap = load_rating_snapshot(*conn_);
  EXPECT_EQ(snap->deck_count(), 0u);
  EXPECT_EQ(snap->version(), version());
  LegToRate leg;
  leg.account_id = "acct-1";
  leg.callee_digits = "33";
  EXPECT_EQ(snap->customer(leg, "t").reason, "no customer deck assigned to account acct-1");
}

}  // namespace
}  // namespace cdrd::test
