// End to end: `cdrd renormalize` and `cdrd rerate` with the real binary
// against rows the running daemon wrote: fields a newer cdrd derives reach
// rows stored without them, a run resumes after the cursor a killed run
// committed, rows without a raw document are counted and left alone, and a
// deck imported after the calls prices them on rerate.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <string>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

CommandResult cdrd_command(const std::string& args) { return run_command(std::string(CDRD_BINARY) + " " + args); }

std::string value(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  const pqxx::row row = tx.exec1(sql);
  return row[0].is_null() ? "NULL" : row[0].as<std::string>();
}

void exec(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

constexpr const char* kSipCallId = "818e26f805701988c1a330175d7d2629@0:0:0:0:0:0:0:0";

TEST(ReprocessE2E, RenormalizeBringsNewFieldsToOldRowsResumesAndLeavesRowsWithoutRaw) {
  TempDir dir;
  const std::string dsn = create_migrated_database("e2e_renormalize");
  CdrdProcess cdrd(dir.path(), dsn);
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  // Three legs (the 2017 sample under new uuids, in time order 1, 2, 3 by id).
  const std::string uuids[] = {"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
                               "00000000-0000-4000-8000-000000000003"};
  for (const auto& uuid : uuids) {
    ASSERT_EQ(http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid, "acct-r"),
                           {{"Content-Type", "application/json"}})
                  .status,
              200);
  }
  ASSERT_TRUE(eventually([&] { return query_count(dsn, "SELECT count(*) FROM cdrs") == 3; }));
  // As an older cdrd stored them: no sip_call_id, no rang_at.
  exec(dsn, "UPDATE cdrs SET record = record - 'sip_call_id' - 'rang_at', sip_call_id = NULL");
  // The third lost its raw document (say, imported from a system that kept none).
  exec(dsn, std::string("UPDATE cdrs SET raw = NULL WHERE call_id = '") + uuids[2] + "'");
  // A run killed after its first batch left its cursor at the first row.
  exec(dsn, std::string("INSERT INTO cdrd_jobs (job, cursor_account, cursor_ts, cursor_id, rows_done) SELECT "
                        "'renormalize from=-infinity to=infinity account=acct-r', account_id, ts, id, 1 FROM cdrs "
                        "WHERE call_id = '") +
                uuids[0] + "'");

  const CommandResult resumed = cdrd_command("renormalize --account acct-r --batch 1 -c " + cdrd.config_path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming an unfinished run after 1 rows"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("2 rows derived again, 1 left as they were"), std::string::npos) << resumed.output;
  // The first row was before the cursor: untouched by the resumed run.
  EXPECT_EQ(value(dsn, std::string("SELECT record->>'sip_call_id' FROM cdrs WHERE call_id = '") + uuids[0] + "'"),
            "NULL");
  EXPECT_EQ(value(dsn, std::string("SELECT record->>'sip_call_id' FROM cdrs WHERE call_id = '") + uuids[1] + "'"),
            kSipCallId);
  EXPECT_EQ(value(dsn, std::string("SELECT sip_call_id FROM cdrs WHERE call_id = '") + uuids[1] + "'"), kSipCallId);
  // progress_uepoch 1515666344594267.
  EXPECT_EQ(value(dsn, std::string("SELECT record->>'rang_at' FROM cdrs WHERE call_id = '") + uuids[1] + "'"),
            "2018-01-11T10:25:44.594267Z");
  EXPECT_EQ(value(dsn, std::string("SELECT record->>'sip_call_id' FROM cdrs WHERE call_id = '") + uuids[2] + "'"),
            "NULL");
  EXPECT_EQ(value(dsn, "SELECT finished_at IS NOT NULL FROM cdrd_jobs"), "t");

  // A leg that came over ESL, stored with a bare record (as a cdrd before
  // the trunk rules would have): renormalize derives it from the event text.
  const ChainLeg& esl_leg = three_hop_chain()[5];
  exec(dsn,
       "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record, raw, raw_format) VALUES "
       "('201801-esl', '2018-01-11 10:30:00+00', 63682885800, 'acct-r', '" +
           esl_leg.uuid + "', 'esl', '{\"source\":\"esl\"}', '" +
           chain_esl_body(chain_variables(esl_leg, "acct-r", 1515666344534355)) + "', 'esl')");
  // A second run of a finished window starts over: every row, idempotent.
  for (int run = 0; run < 2; ++run) {
    const CommandResult again = cdrd_command("renormalize --account acct-r -c " + cdrd.config_path());
    ASSERT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("3 rows derived again, 1 left as they were"), std::string::npos) << again.output;
  }
  EXPECT_EQ(query_count(dsn, std::string("SELECT count(*) FROM cdrs WHERE sip_call_id = '") + kSipCallId + "'"), 2);
  EXPECT_EQ(query_count(dsn, "SELECT count(*) FROM cdrs"), 4);
  // The source survives.
  EXPECT_EQ(query_count(dsn, "SELECT count(*) FROM cdrs WHERE source = 'json_cdr'"), 3);
  // The ESL leg, derived again from its event: under the id the rules give
  // it (the month of its start), with its trunk and the uuid it names.
  EXPECT_EQ(value(dsn,
                  "SELECT id || ' ' || trunk || ' ' || source || ' ' || (record->'related_call_ids'->>0) FROM cdrs "
                  "WHERE call_id = '" +
                      esl_leg.uuid + "'"),
            "201801-" + esl_leg.uuid + " carrier1 esl " + three_hop_chain()[4].uuid);

  const CommandResult bad = cdrd_command("renormalize --from yesterday -c " + cdrd.config_path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--from 'yesterday' is not an ISO-8601 time"), std::string::npos) << bad.output;
}

// The issue's first test vector, priced after the fact: the call came in
// before any deck existed (no rating), the deck is imported and assigned,
// rerate prices it: answered 16:55:53.518, ended 16:57:28.918, nearest -> 95 s:
// 0.005 + 0.012 + ceil(35/6)*6*0.010/60 = 0.023, billed 96.
TEST(ReprocessE2E, RerateAfterADeckIsAssignedPricesStoredCalls) {
  TempDir dir;
  const std::string dsn = create_migrated_database("e2e_rerate");
  CdrdProcess cdrd(dir.path(), dsn);
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  const std::string record =
      R"({"call_id":"rerate-1","account_id":"acct-q","timestamp":63883097848,)"
      R"("channel_created_time":1715878550000000,"answered_at":"2024-05-16T16:55:53.518000Z",)"
      R"("ended_at":"2024-05-16T16:57:28.918000Z","billing_seconds":96,"call_direction":"inbound",)"
      R"("callee_id_number":"+33170363950"})";
  ASSERT_EQ(http_request(cdrd.port(), "POST", "/ingest/cdr", record, {{"Content-Type", "application/json"}}).status,
            200);
  ASSERT_TRUE(eventually([&] { return query_count(dsn, "SELECT count(*) FROM cdrs") == 1; }));
  // No deck exists yet: rating is not in use, the record has no rating.
  EXPECT_EQ(value(dsn, "SELECT record->'rating' FROM cdrs"), "NULL");

  write_file(dir.path() + "/retail.csv",
             "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee\n"
             "33,France,60,0.012,6,0.010,0.005\n");
  const CommandResult imported = cdrd_command("rates import --deck retail --currency USD --duration-rounding nearest " +
                                              dir.path() + "/retail.csv -c " + cdrd.config_path());
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  const CommandResult assigned =
      cdrd_command("rates assign --side customer --account acct-q --deck retail -c " + cdrd.config_path());
  ASSERT_EQ(assigned.exit_code, 0) << assigned.output;

  const CommandResult rerated = cdrd_command("rerate --deck retail -c " + cdrd.config_path());
  ASSERT_EQ(rerated.exit_code, 0) << rerated.output;
  EXPECT_NE(rerated.output.find("1 rows rated again"), std::string::npos) << rerated.output;
  EXPECT_EQ(value(dsn, "SELECT customer_charge::text FROM cdrs"), "0.023");
  EXPECT_EQ(value(dsn, "SELECT record->'rating'->'customer'->>'billed_seconds' FROM cdrs"), "96");
  EXPECT_EQ(value(dsn, "SELECT record->'rating'->'customer'->>'name' FROM cdrs"), "France");
  EXPECT_EQ(value(dsn, "SELECT record->'destination'->>'name' FROM cdrs"), "France");
  EXPECT_EQ(value(dsn, "SELECT source FROM cdrs"), "import");
}

}  // namespace
}  // namespace cdrd::test
