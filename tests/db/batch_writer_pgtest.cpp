#include "daemon/db/batch_writer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/cdr_record.h"
#include "daemon/core/metrics.h"
#include "daemon/db/batch_sql.h"
#include "daemon/db/embedded_postgres.h"
#include "daemon/db/migrations.h"
#include "daemon/spool/spool.h"
#include "tests/db/writer_test_util.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd {
namespace {

using test::append_durably;
using test::cdr_json;
using test::count;
using test::drained;
using test::eventually;
using test::fast_options;
using test::kGregorianOffset;
using test::now_unix;
using test::open_spool;
using test::payload;
using test::TempDir;
using test::utc_text;

class BatchWriterTest : public testing::Test {
 protected:
  void SetUp() override {
    dsn_ = test::create_migrated_database("batch_writer");
    pqxx::connection conn(dsn_);
    std::vector<std::string> applied;
    std::string error;
    ASSERT_TRUE(apply_migrations(conn, &applied, &error)) << error;
    spool_ = open_spool(dir_.path() + "/spool");
    ASSERT_NE(spool_, nullptr);
  }

  std::string dsn_;
  TempDir dir_;
  std::unique_ptr<Spool> spool_;
  Metrics metrics_;
};

TEST_F(BatchWriterTest, WritesEveryRecordWithItsTypedColumns) {
  const int64_t end = now_unix();
  // Every COPY special character, and a literal \N that must not turn into NULL.
  const std::string raw = "{\"a\":\"tab\there\"}\nline2\r\\N back\\slash\\";
  const std::string full = cdr_json("full", end,
                                    R"(,"channel_created_time":)" + std::to_string((end - 20) * 1000000 + 534355) +
                                        R"(,"answered_at":"2024-01-11T10:25:47.100000Z","duration_seconds":20,)"
                                        R"("billing_seconds":14,"ringing_seconds":3,"call_direction":"inbound",)"
                                        R"("hangup_cause":"NORMAL_CLEARING","hangup_code":"sip:200",)"
                                        R"("billing_status":"answered","caller_id_number":"+15551230000",)"
                                        R"("callee_id_number":"+15559870000","from_uri":"sip:1000@example.com",)"
                                        R"("to_uri":"sip:2000@example.com","other_leg_call_id":"other",)"
                                        R"("interaction_id":"63682885544-1a2b3c4d","media_server":"fs1",)"
                                        R"("leg":"A","imported":true,"caller_id_name":"Tab\tand \"quote\"")");
  std::vector<std::string> payloads = {payload(full, raw, "json")};
  for (int i = 1; i < 250; ++i) payloads.push_back(payload(cdr_json("call-" + std::to_string(i), end)));
  append_durably(spool_.get(), payloads);

  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  EXPECT_TRUE(writer.connected());
  writer.stop();

  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 250);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 0);
  EXPECT_EQ(metrics_.written.load(), 250u);
  EXPECT_EQ(metrics_.inserted.load(), 250u);
  EXPECT_GE(metrics_.batches.load(), 3u);  // at most 100 rows each
  EXPECT_EQ(metrics_.writer_errors.load(), 0u);
  // Every step of every batch took some time, and it is reported by step.
  EXPECT_GT(metrics_.writer_prepare_us.load(), 0u);
  EXPECT_GT(metrics_.writer_call_step_us.load(), 0u);
  EXPECT_GT(metrics_.writer_rows_us.load(), 0u);
  EXPECT_GT(metrics_.writer_checkpoint_us.load(), 0u);
  const std::string text = metrics_.render();
  EXPECT_NE(text.find("cdrd_writer_step_seconds_total{step=\"call_step\"} "), std::string::npos) << text;

  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  tx.exec("SET TimeZone = 'UTC'");
  const pqxx::row r = tx.exec_params1(
      "SELECT id, ts::text, gregorian_ts, account_id, call_id, started_at::text, answered_at::text, duration_seconds, "
      "billing_seconds, ringing_seconds, call_direction, hangup_cause, hangup_code, billing_status, "
      "caller_id_number, callee_id_number, from_uri, to_uri, other_leg_call_id, interaction_id, media_server, leg, "
      "source, imported, record - 'direction_class' = $1::jsonb, record->>'caller_id_name', raw, raw_format, "
      "received_at IS NOT NULL "
      "FROM cdrs WHERE id = '202401-full'",
      full);
  EXPECT_EQ(r[0].as<std::string>(), "202401-full");
  EXPECT_EQ(r[1].as<std::string>(), utc_text(end, "%Y-%m-%d %H:%M:%S+00"));
  EXPECT_EQ(r[2].as<int64_t>(), end + kGregorianOffset);
  EXPECT_EQ(r[3].as<std::string>(), "acc-1");
  EXPECT_EQ(r[4].as<std::string>(), "full");
  EXPECT_EQ(r[5].as<std::string>(), utc_text(end - 20, "%Y-%m-%d %H:%M:%S") + ".534355+00");
  EXPECT_EQ(r[6].as<std::string>(), "2024-01-11 10:25:47.1+00");
  EXPECT_EQ(r[7].as<int>(), 20);
  EXPECT_EQ(r[8].as<int>(), 14);
  EXPECT_EQ(r[9].as<int>(), 3);
  EXPECT_EQ(r[10].as<std::string>(), "inbound");
  EXPECT_EQ(r[11].as<std::string>(), "NORMAL_CLEARING");
  EXPECT_EQ(r[12].as<std::string>(), "sip:200");
  EXPECT_EQ(r[13].as<std::string>(), "answered");
  EXPECT_EQ(r[14].as<std::string>(), "+15551230000");
  EXPECT_EQ(r[15].as<std::string>(), "+15559870000");
  EXPECT_EQ(r[16].as<std::string>(), "sip:1000@example.com");
  EXPECT_EQ(r[17].as<std::string>(), "sip:2000@example.com");
  EXPECT_EQ(r[18].as<std::string>(), "other");
  EXPECT_EQ(r[19].as<std::string>(), "63682885544-1a2b3c4d");
  EXPECT_EQ(r[20].as<std::string>(), "fs1");
  EXPECT_EQ(r[21].as<std::string>(), "A");
  EXPECT_EQ(r[22].as<std::string>(), "json_cdr");
  EXPECT_TRUE(r[23].as<bool>());
  EXPECT_TRUE(r[24].as<bool>());  // the record as sent, plus the call's direction_class
  EXPECT_EQ(r[25].as<std::string>(), "Tab\tand \"quote\"");
  EXPECT_EQ(r[26].as<std::string>(), raw);
  EXPECT_EQ(r[27].as<std::string>(), "json");
  EXPECT_TRUE(r[28].as<bool>());

  // A minimal record: absent fields are NULL or the column default.
  const pqxx::row m = tx.exec1(
      "SELECT started_at IS NULL, answered_at IS NULL, duration_seconds, billing_seconds, ringing_seconds, "
      "leg IS NULL, hangup_cause IS NULL, imported, raw IS NULL, raw_format IS NULL "
      "FROM cdrs WHERE id = '202401-call-7'");
  EXPECT_TRUE(m[0].as<bool>());
  EXPECT_TRUE(m[1].as<bool>());
  EXPECT_EQ(m[2].as<int>(), 0);
  EXPECT_EQ(m[3].as<int>(), 0);
  EXPECT_EQ(m[4].as<int>(), 0);
  EXPECT_TRUE(m[5].as<bool>());
  EXPECT_TRUE(m[6].as<bool>());
  EXPECT_FALSE(m[7].as<bool>());
  EXPECT_TRUE(m[8].as<bool>());
  EXPECT_TRUE(m[9].as<bool>());
}

// Every writer connection (the writer's own and each lane's) names itself
// and runs without JIT, which compiled code for each batch's statements.
TEST_F(BatchWriterTest, WriterSessionsNameThemselvesAndRunWithoutJit) {
  pqxx::connection conn(dsn_);
  configure_writer_session(conn, "cdrd-writer-3");
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SHOW application_name")[0].as<std::string>(), "cdrd-writer-3");
  EXPECT_EQ(tx.exec1("SHOW jit")[0].as<std::string>(), "off");
}

TEST_F(BatchWriterTest, SameRecordTwiceIsOneRow) {
  const std::string p = payload(cdr_json("dup", now_unix()), "raw", "json");
  append_durably(spool_.get(), {p, p});
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  EXPECT_EQ(metrics_.written.load(), 2u);
  EXPECT_EQ(metrics_.inserted.load(), 1u);

  // A later batch with the same record again: still one row.
  append_durably(spool_.get(), {p});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(metrics_.written.load(), 3u);
  EXPECT_EQ(metrics_.inserted.load(), 1u);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 1);
}

TEST_F(BatchWriterTest, RestartReplaysNothingAlreadyCommitted) {
  const int64_t end = now_unix();
  std::vector<std::string> first;
  first.reserve(20);
  for (int i = 0; i < 20; ++i) first.push_back(payload(cdr_json("first-" + std::to_string(i), end)));
  append_durably(spool_.get(), first);
  {
    BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
    writer.start();
    ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
    writer.stop();
    writer.stop();  // idempotent
  }
  const SpoolPosition checkpoint = spool_->committed();
  spool_.reset();

  spool_ = open_spool(dir_.path() + "/spool");
  ASSERT_NE(spool_, nullptr);
  EXPECT_EQ(spool_->committed(), checkpoint);
  std::vector<std::string> second;
  second.reserve(5);
  for (int i = 0; i < 5; ++i) second.push_back(payload(cdr_json("second-" + std::to_string(i), end)));
  append_durably(spool_.get(), second);

  Metrics after_restart;
  BatchWriter writer(fast_options(dsn_), spool_.get(), &after_restart);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(after_restart.written.load(), 5u);  // the first 20 were not sent again
  EXPECT_EQ(after_restart.inserted.load(), 5u);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 25);
}

TEST_F(BatchWriterTest, RowsTheDatabaseRefusesAreQuarantinedAndTheRestWritten) {
  const int64_t end = now_unix();
  const std::string too_long = cdr_json("too-long", end, R"(,"duration_seconds":99999999999)");
  const std::string bad_time = cdr_json("bad-time", end, R"(,"answered_at":"not a time")");
  const std::string nul_escape = cdr_json("nul", end, R"(,"caller_id_name":"a\u0000b")");
  const std::string bad_utf8_raw = "caf\xff\xfe";
  const std::string nul_raw("a\0b", 3);
  std::vector<std::string> payloads;
  for (int i = 0; i < 40; ++i) {
    payloads.push_back(payload(cdr_json("good-" + std::to_string(i), end)));
    if (i == 3) payloads.push_back(payload(too_long, "the raw doc", "xml"));
    if (i == 17) payloads.push_back(payload(bad_time));
    if (i == 18) payloads.push_back(payload(nul_escape));
    if (i == 30) payloads.push_back(payload(cdr_json("bad-raw", end), bad_utf8_raw, "esl"));
    if (i == 35) payloads.push_back(payload(cdr_json("nul-raw", end), nul_raw, "esl"));
  }
  append_durably(spool_.get(), payloads);  // all before start: one batch

  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  EXPECT_EQ(metrics_.batches.load(), 1u);
  EXPECT_EQ(metrics_.written.load(), 40u);
  EXPECT_EQ(metrics_.inserted.load(), 40u);
  EXPECT_EQ(metrics_.writer_errors.load(), 0u);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 40);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE id LIKE '202401-good-%'"), 40);

  {
    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    const pqxx::result q = tx.exec("SELECT error, record, raw, raw_format, payload FROM cdrs_quarantine ORDER BY qid");
    ASSERT_EQ(q.size(), 5u);
    // The two the writer refuses itself, before the database, naming the
    // field; the spool payload is kept with them.
    EXPECT_EQ(q[0][0].as<std::string>(),
              "field 'duration_seconds' (99999999999) is out of range for an integer column");
    EXPECT_EQ(q[0][1].as<std::string>(), too_long);
    EXPECT_EQ(q[0][2].as<std::string>(), "the raw doc");
    EXPECT_EQ(q[0][3].as<std::string>(), "xml");
    EXPECT_EQ(pqxx::binarystring(q[0][4]).str(), payload(too_long, "the raw doc", "xml"));
    EXPECT_EQ(q[1][0].as<std::string>(), "field 'answered_at' (not a time) is not an ISO-8601 time");
    EXPECT_EQ(q[1][1].as<std::string>(), bad_time);
    EXPECT_TRUE(q[1][2].is_null());
    EXPECT_NE(q[2][0].as<std::string>().find("unsupported Unicode escape sequence"), std::string::npos)
        << q[2][0].as<std::string>();
    EXPECT_EQ(q[2][1].as<std::string>(), nul_escape);
    // Text columns cannot hold invalid UTF-8: the record is kept as bytes.
    EXPECT_NE(q[3][0].as<std::string>().find("invalid byte sequence"), std::string::npos) << q[3][0].as<std::string>();
    EXPECT_TRUE(q[3][1].is_null());
    EXPECT_EQ(pqxx::binarystring(q[3][4]).str(), payload(cdr_json("bad-raw", end), bad_utf8_raw, "esl"));
    // Nor a NUL byte, which a text parameter would silently cut short.
    EXPECT_NE(q[4][0].as<std::string>().find("0x00"), std::string::npos) << q[4][0].as<std::string>();
    EXPECT_TRUE(q[4][1].is_null());
    EXPECT_EQ(pqxx::binarystring(q[4][4]).str(), payload(cdr_json("nul-raw", end), nul_raw, "esl"));
  }

  // The writer goes on with the next batch.
  append_durably(spool_.get(), {payload(cdr_json("after", end))});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE id = '202401-after'"), 1);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 5);
}

TEST_F(BatchWriterTest, UnusableSpoolPayloadsAreQuarantinedWithTheirBytes) {
  const int64_t end = now_unix();
  const std::string garbage = std::string("\x00\x01", 2) + "not a record";
  const std::string no_account = R"({"id":"202401-na","call_id":"na","timestamp":)" +
                                 std::to_string(end + kGregorianOffset) + R"(,"source":"esl"})";
  append_durably(spool_.get(), {garbage, payload(no_account, "raw body", "esl"), payload(cdr_json("fine", end))});
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();

  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 1);
  EXPECT_EQ(metrics_.written.load(), 1u);
  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  const pqxx::result q = tx.exec("SELECT error, record, raw, raw_format, payload FROM cdrs_quarantine ORDER BY qid");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_NE(q[0][0].as<std::string>().find("spool payload has no CDR1 magic"), std::string::npos)
      << q[0][0].as<std::string>();
  EXPECT_TRUE(q[0][1].is_null());
  EXPECT_EQ(pqxx::binarystring(q[0][4]).str(), garbage);
  EXPECT_EQ(q[1][0].as<std::string>(), "required field 'account_id' is missing");
  EXPECT_EQ(q[1][1].as<std::string>(), no_account);
  EXPECT_EQ(q[1][2].as<std::string>(), "raw body");
  EXPECT_EQ(q[1][3].as<std::string>(), "esl");
  EXPECT_EQ(pqxx::binarystring(q[1][4]).str(), payload(no_account, "raw body", "esl"));
}

// An old import (2000, 2019) and a clock far ahead (2031): no partition for
// those months, so the rows land in cdrs_default, never in the quarantine,
// and are counted as they land.
TEST_F(BatchWriterTest, RecordOutsideThePartitionsLandsInDefaultAndIsCounted) {
  const int64_t end = now_unix();
  const int64_t y2000 = 946684800 + 3600;  // 2000-01-01 01:00:00 UTC
  const int64_t y2019 = 1552608000;        // 2019-03-15 00:00:00 UTC
  const int64_t y2031 = 1940889600;        // 2031-07-04 00:00:00 UTC
  const std::string old_import = payload(cdr_json("old-2019", y2019));
  append_durably(spool_.get(), {payload(cdr_json("old", y2000)), payload(cdr_json("current", end)), old_import,
                                payload(cdr_json("ahead", y2031)), old_import});
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  // The same record again in a later batch changes no row, so counts nothing.
  append_durably(spool_.get(), {old_import});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT tableoid::regclass::text FROM cdrs WHERE id = '202401-old'")[0].as<std::string>(),
            "cdrs_default");
  EXPECT_EQ(tx.exec1("SELECT tableoid::regclass::text FROM cdrs WHERE id = '202401-current'")[0].as<std::string>(),
            "cdrs_p" + utc_text(end, "%Y%m"));
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_default"), 3);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 4);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 0);
  EXPECT_EQ(metrics_.rows_default_partition.load(), 3u);
  EXPECT_EQ(metrics_.inserted.load(), 4u);
  EXPECT_EQ(metrics_.quarantined.load(), 0u);
  EXPECT_NE(metrics_.render().find("\ncdrd_rows_default_partition_total 3\n"), std::string::npos);
}

// The same leg as a given source would deliver it: mod_json_cdr and
// mod_xml_cdr carry more fields than an ESL hangup event.
std::string leg_json(const std::string& source, int64_t unix_end, const std::string& extra) {
  return R"({"id":"202401-leg","call_id":"leg","account_id":"acc-1","timestamp":)" +
         std::to_string(unix_end + kGregorianOffset) + R"(,"source":")" + source + "\"" + extra + "}";
}

std::string esl_leg(int64_t unix_end, const std::string& caller = "+15550000001") {
  return leg_json("esl", unix_end, R"(,"caller_id_number":")" + caller + R"(","hangup_cause":"NORMAL_CLEARING")");
}

std::string full_leg(const std::string& source, int64_t unix_end) {
  return leg_json(source, unix_end,
                  R"(,"caller_id_number":"+15551230000","hangup_cause":"NORMAL_CLEARING","leg":"A",)"
                  R"("interaction_id":"63682885544-1a2b3c4d","duration_seconds":20,"is_loopback":true,)"
                  R"("custom_channel_vars":{"account_id":"acc-1"})");
}

// The stored leg "202401-leg", as text.
struct StoredLeg {
  std::string source, record, caller_id_number, leg, interaction_id, raw, raw_format, received_at;
  int duration_seconds = 0;
  bool is_loopback = false;
};

StoredLeg stored_leg(const std::string& dsn) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  const pqxx::row r = tx.exec1(
      "SELECT source, (record - 'interaction_id' - 'direction_class')::text, caller_id_number, coalesce(leg, '-'), "
      "coalesce(interaction_id, '-'), "
      "coalesce(raw, '-'), coalesce(raw_format, '-'), received_at::text, duration_seconds, is_loopback "
      "FROM cdrs WHERE id = '202401-leg'");
  return StoredLeg{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                   r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>(), r[7].as<std::string>(),
                   r[8].as<int>(),         r[9].as<bool>()};
}

// record::text as PostgreSQL prints `json` once stored as jsonb, without the
// call-level fields the writer's call assembly adds (interaction_id,
// direction_class; tested in call_assembly_pgtest.cpp): the records compared
// here are read back the same way.
std::string as_jsonb_text(const std::string& dsn, const std::string& json) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  return tx.exec_params1("SELECT ($1::jsonb - 'interaction_id' - 'direction_class')::text", json)[0].as<std::string>();
}

TEST_F(BatchWriterTest, EslThenJsonCdrBecomesTheJsonCdrRow) {
  const int64_t end = now_unix();
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  append_durably(spool_.get(), {payload(esl_leg(end), "Event-Name: CHANNEL_HANGUP_COMPLETE", "esl")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  const StoredLeg first = stored_leg(dsn_);
  EXPECT_EQ(first.source, "esl");
  EXPECT_EQ(first.leg, "-");
  EXPECT_FALSE(first.is_loopback);

  const std::string json = full_leg("json_cdr", end);
  append_durably(spool_.get(), {payload(json, "{\"variables\":{}}", "json")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();

  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 1);
  const StoredLeg row = stored_leg(dsn_);
  EXPECT_EQ(row.source, "json_cdr");
  EXPECT_EQ(row.record, as_jsonb_text(dsn_, json));
  EXPECT_EQ(row.caller_id_number, "+15551230000");
  EXPECT_EQ(row.leg, "A");
  EXPECT_EQ(row.interaction_id, "63682885544-1a2b3c4d");
  EXPECT_EQ(row.duration_seconds, 20);
  EXPECT_TRUE(row.is_loopback);
  EXPECT_EQ(row.raw, "{\"variables\":{}}");
  EXPECT_EQ(row.raw_format, "json");
  EXPECT_EQ(row.received_at, first.received_at);  // the first arrival's
  EXPECT_EQ(metrics_.written.load(), 2u);
  EXPECT_EQ(metrics_.inserted.load(), 2u);  // new, then replaced
}

// The direct COPY (batch_sql.h insert_rows()): new legs go straight into
// cdrs; a leg with a stored version takes the upsert, which leaves a replay
// unchanged and lets the richer source win.
TEST_F(BatchWriterTest, NewLegsAreCopiedStraightInAndARepeatTakesTheUpsert) {
  const int64_t end = now_unix();
  std::vector<std::string> first;
  first.reserve(30);
  for (int i = 0; i < 30; ++i) first.push_back(payload(cdr_json("direct-" + std::to_string(i), end)));
  append_durably(spool_.get(), first);
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  EXPECT_EQ(metrics_.rows_copied_direct.load(), 30u);
  EXPECT_EQ(metrics_.inserted.load(), 30u);

  // The same 30 again (a replay) and one new leg, in one batch.
  std::vector<std::string> again = first;
  again.push_back(payload(cdr_json("direct-new", end)));
  append_durably(spool_.get(), again);
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(metrics_.rows_copied_direct.load(), 31u);  // only the new one
  EXPECT_EQ(metrics_.inserted.load(), 31u);            // the replay changed nothing
  EXPECT_EQ(metrics_.direct_copy_conflicts.load(), 0u);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 31);
  EXPECT_EQ(count(dsn_, "SELECT count(DISTINCT row_seq) FROM cdrs"), 31);
}

TEST_F(BatchWriterTest, AStoredLegTheCallWalkCannotSeeMakesTheDirectCopyFallBackToTheUpsert) {
  const int64_t end = now_unix();
  std::string esl = cdr_json("hidden", end);
  esl.replace(esl.find(R"("source":"json_cdr")"), 19, R"("source":"esl")");
  BatchWriterOptions options = fast_options(dsn_);
  options.connections = 1;  // one share: the fallback takes the whole batch
  {
    BatchWriter first(options, spool_.get(), &metrics_);
    first.start();
    append_durably(spool_.get(), {payload(esl)});
    ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  }
  {
    // As for a row stored before the links existed: the walk finds nothing.
    pqxx::connection conn(dsn_);
    pqxx::work tx(conn);
    tx.exec("DELETE FROM cdr_links WHERE call_id = 'hidden'");
    tx.commit();
  }
  std::vector<std::string> batch;
  batch.reserve(6);
  for (int i = 0; i < 5; ++i) batch.push_back(payload(cdr_json("beside-" + std::to_string(i), end)));
  batch.push_back(payload(cdr_json("hidden", end, R"(,"caller_id_number":"+15550001111")")));
  append_durably(spool_.get(), batch);  // before the writer starts: one batch
  BatchWriter writer(options, spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();

  EXPECT_EQ(metrics_.direct_copy_conflicts.load(), 1u);
  EXPECT_EQ(metrics_.rows_copied_direct.load(), 1u);  // the first batch's esl row only
  EXPECT_EQ(metrics_.inserted.load(), 7u);            // esl, then 5 new and the esl row replaced
  EXPECT_EQ(metrics_.writer_errors.load(), 0u);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 6);
  EXPECT_EQ(count(dsn_,
                  "SELECT count(*) FROM cdrs WHERE call_id = 'hidden' AND source = 'json_cdr' AND "
                  "caller_id_number = '+15550001111'"),
            1);
}

// database.writer_connections: the rows of a batch are written in shares on
// several connections at once, but call assembly ran once for all of them:
// 20 calls of three legs (A names itself, B names A as its other leg, C
// names B), the legs hashed to 3 connections, make 20 calls each with one
// root and one interaction id, the A-leg's, as on one connection.
TEST_F(BatchWriterTest, LegsOfOneCallWrittenOnDifferentConnectionsAreStillOneCall) {
  const int64_t end = now_unix();
  std::vector<std::string> payloads;
  for (int i = 0; i < 20; ++i) {
    const std::string n = std::to_string(i);
    const std::string created = std::to_string((end - 60) * 1000000);
    const std::string later = std::to_string((end - 50) * 1000000);
    payloads.push_back(
        payload(cdr_json("a" + n, end, R"(,"interaction_id":"a)" + n + R"(","channel_created_time":)" + created)));
    payloads.push_back(
        payload(cdr_json("b" + n, end, R"(,"other_leg_call_id":"a)" + n + R"(","channel_created_time":)" + later)));
    payloads.push_back(
        payload(cdr_json("c" + n, end, R"(,"related_call_ids":["b)" + n + R"("],"channel_created_time":)" + later)));
  }
  append_durably(spool_.get(), payloads);
  BatchWriterOptions options = fast_options(dsn_);
  options.connections = 3;
  BatchWriter writer(options, spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(metrics_.batches.load(), 1u);
  EXPECT_EQ(metrics_.rows_copied_direct.load(), 60u);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 60);
  EXPECT_EQ(count(dsn_, "SELECT count(DISTINCT interaction_id) FROM cdrs"), 20);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE interaction_id = 'a' || substr(call_id, 2)"), 60);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE call_root AND call_id LIKE 'a%'"), 20);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE call_root"), 20);
  // Every leg's links are stored once, with share 0's transaction.
  EXPECT_EQ(count(dsn_, "SELECT count(DISTINCT call_id) FROM cdr_links"), 60);
}

// The same rows through one connection and through four: the same table.
TEST_F(BatchWriterTest, OneConnectionOrFourWriteTheSameRows) {
  const int64_t end = now_unix();
  for (const int connections : {1, 4}) {
    Metrics metrics;
    std::vector<std::string> payloads;
    payloads.reserve(151);
    for (int i = 0; i < 150; ++i) {
      payloads.push_back(payload(
          cdr_json("n" + std::to_string(connections) + "-" + std::to_string(i), end, R"(,"billing_seconds":7)")));
    }
    payloads.push_back(payloads[3]);  // a leg twice in the batch
    append_durably(spool_.get(), payloads);
    BatchWriterOptions options = fast_options(dsn_);
    options.connections = connections;
    options.max_rows = 1000;
    BatchWriter writer(options, spool_.get(), &metrics);
    writer.start();
    ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
    writer.stop();
    EXPECT_EQ(metrics.written.load(), 151u) << connections;
    EXPECT_EQ(metrics.inserted.load(), 150u) << connections;
    EXPECT_EQ(metrics.rows_copied_direct.load(), 149u) << connections;  // not the leg that came twice
    EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE call_id LIKE 'n" + std::to_string(connections) +
                              "-%' AND billing_seconds = 7 AND call_root"),
              150)
        << connections;
  }
}

TEST_F(BatchWriterTest, JsonCdrThenEslOrXmlCdrLeavesTheRowUnchanged) {
  const int64_t end = now_unix();
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  const std::string json = full_leg("json_cdr", end);
  append_durably(spool_.get(), {payload(json, "{\"variables\":{}}", "json")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  const StoredLeg first = stored_leg(dsn_);
  EXPECT_EQ(first.record, as_jsonb_text(dsn_, json));

  // Lower rank, then equal rank (another route's copy of the same leg).
  append_durably(spool_.get(), {payload(esl_leg(end), "Event-Name: CHANNEL_HANGUP_COMPLETE", "esl")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  append_durably(spool_.get(), {payload(full_leg("xml_cdr", end), "<cdr/>", "xml")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();

  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 1);
  const StoredLeg row = stored_leg(dsn_);
  EXPECT_EQ(row.source, "json_cdr");
  EXPECT_EQ(row.record, first.record);
  EXPECT_EQ(row.raw, "{\"variables\":{}}");
  EXPECT_EQ(row.raw_format, "json");
  EXPECT_EQ(row.caller_id_number, "+15551230000");
  EXPECT_EQ(row.received_at, first.received_at);
  EXPECT_EQ(metrics_.written.load(), 3u);
  EXPECT_EQ(metrics_.inserted.load(), 1u);
}

// Both copies of a leg in one batch, in either order, and against a row an
// earlier batch left: the richest record is the one kept.
TEST_F(BatchWriterTest, InOneBatchTheRicherRecordWinsInEitherOrder) {
  const int64_t end = now_unix();
  auto pair = [&](const std::string& call, const std::string& source) {
    const std::string id = R"("id":"202401-)" + call + R"(","call_id":")" + call + "\"";
    const std::string head =
        "{" + id + R"(,"account_id":"acc-1","timestamp":)" + std::to_string(end + kGregorianOffset) + R"(,"source":")";
    return std::make_pair(payload(head + R"(esl","caller_id_number":"esl"})", "esl body", "esl"),
                          payload(head + source + R"(","caller_id_number":"full","leg":"B"})", "full body", source));
  };
  const auto esl_first = pair("esl-first", "json_cdr");
  const auto full_first = pair("full-first", "json_cdr");
  const auto xml = pair("xml", "xml_cdr");
  const auto import = pair("import", "import");
  const auto upgraded = pair("upgraded", "json_cdr");
  const auto kept = pair("kept", "json_cdr");

  // An earlier batch: an esl row to upgrade and a full row to keep.
  append_durably(spool_.get(), {upgraded.first, kept.second});
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(metrics_.batches.load(), 1u);

  append_durably(spool_.get(),
                 {esl_first.first, esl_first.second, full_first.second, full_first.first, xml.first, xml.second,
                  import.second, import.first, upgraded.second, upgraded.first, kept.first, kept.first});
  Metrics second;
  BatchWriter next(fast_options(dsn_), spool_.get(), &second);
  next.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  next.stop();
  EXPECT_EQ(second.batches.load(), 1u);
  EXPECT_EQ(second.written.load(), 12u);
  EXPECT_EQ(second.inserted.load(), 5u);  // four new rows, one esl row replaced

  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  std::vector<std::string> rows;
  for (const auto& r : tx.exec("SELECT id || ' ' || source || ' ' || caller_id_number || ' ' || leg || ' ' || raw "
                               "FROM cdrs ORDER BY id")) {
    rows.push_back(r[0].as<std::string>());
  }
  const std::vector<std::string> expected = {
      "202401-esl-first json_cdr full B full body", "202401-full-first json_cdr full B full body",
      "202401-import import full B full body",      "202401-kept json_cdr full B full body",
      "202401-upgraded json_cdr full B full body",  "202401-xml xml_cdr full B full body"};
  EXPECT_EQ(rows, expected);
}

TEST_F(BatchWriterTest, EslTwiceKeepsTheFirstArrival) {
  const int64_t end = now_unix();
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  // Twice in one batch: the first copied wins among equals.
  append_durably(spool_.get(), {payload(esl_leg(end, "+1first")), payload(esl_leg(end, "+1second"))});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  const StoredLeg first = stored_leg(dsn_);
  EXPECT_EQ(first.caller_id_number, "+1first");
  EXPECT_EQ(first.record, as_jsonb_text(dsn_, esl_leg(end, "+1first")));

  // Again in a later batch: not rewritten.
  append_durably(spool_.get(), {payload(esl_leg(end, "+1third"))});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 1);
  const StoredLeg row = stored_leg(dsn_);
  EXPECT_EQ(row.source, "esl");
  EXPECT_EQ(row.caller_id_number, "+1first");
  EXPECT_EQ(row.record, first.record);
  EXPECT_EQ(row.received_at, first.received_at);
  EXPECT_EQ(metrics_.written.load(), 3u);
  EXPECT_EQ(metrics_.inserted.load(), 1u);
}

TEST_F(BatchWriterTest, IsLoopbackColumnComesFromTheRecord) {
  const int64_t end = now_unix();
  append_durably(spool_.get(),
                 {payload(cdr_json("loop-a", end, R"(,"is_loopback":true)")), payload(cdr_json("plain", end)),
                  payload(cdr_json("loop-no", end, R"(,"is_loopback":false)"))});
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  std::vector<std::string> rows;
  for (const auto& r : tx.exec("SELECT id || ' ' || is_loopback::text FROM cdrs ORDER BY id")) {
    rows.push_back(r[0].as<std::string>());
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"202401-loop-a true", "202401-loop-no false", "202401-plain false"}));
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// The writer outlives its database: it starts before the server exists, goes
// on through a server stop, and is itself stopped while the server is down.
TEST(BatchWriterOutage, KeepsRecordsInTheSpoolUntilTheDatabaseIsBack) {
  TempDir dir;
  EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = dir.path() + "/pgdata";
  pg_options.socket_dir = dir.path() + "/run";
  pg_options.log_file = dir.path() + "/postgres.log";
  pg_options.port = free_port();
  ASSERT_GT(pg_options.port, 0);
  pg_options.fast_unsafe = true;
  EmbeddedPostgres server(pg_options);
  const std::string dsn =
      "host=" + pg_options.socket_dir + " port=" + std::to_string(pg_options.port) + " dbname=cdrd user=cdrd";

  auto spool = open_spool(dir.path() + "/spool");
  ASSERT_NE(spool, nullptr);
  const SpoolPosition start = spool->committed();
  const int64_t end = now_unix();
  std::vector<std::string> first;
  first.reserve(30);
  for (int i = 0; i < 30; ++i) first.push_back(payload(cdr_json("down-" + std::to_string(i), end)));
  append_durably(spool.get(), first);

  Metrics metrics;
  auto writer = std::make_unique<BatchWriter>(fast_options(dsn), spool.get(), &metrics);
  writer->start();
  ASSERT_TRUE(eventually([&] { return metrics.writer_errors.load() >= 3; }));
  EXPECT_FALSE(writer->connected());
  EXPECT_EQ(metrics.db_up.load(), 0);
  EXPECT_EQ(spool->committed(), start);

  // The writer creates the schema itself: nobody migrated this database.
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  ASSERT_TRUE(eventually([&] { return drained(*spool); }));
  EXPECT_TRUE(writer->connected());
  EXPECT_EQ(metrics.db_up.load(), 1);
  EXPECT_EQ(count(dsn, "SELECT count(*) FROM cdrs"), 30);

  // Down again while idle: the writer notices without a batch to write.
  ASSERT_TRUE(server.stop(&error)) << error;
  ASSERT_TRUE(eventually([&] { return !writer->connected(); }));
  const SpoolPosition before_second = spool->committed();
  std::vector<std::string> second;
  second.reserve(10);
  for (int i = 0; i < 10; ++i) second.push_back(payload(cdr_json("later-" + std::to_string(i), end)));
  append_durably(spool.get(), second);
  const uint64_t errors = metrics.writer_errors.load();
  ASSERT_TRUE(eventually([&] { return metrics.writer_errors.load() > errors; }));
  writer->stop();  // returns although the batch cannot be written
  writer.reset();
  EXPECT_EQ(spool->committed(), before_second);

  // The next writer finds the batch still in the spool.
  ASSERT_TRUE(server.start(&error)) << error;
  Metrics next_metrics;
  BatchWriter next(fast_options(dsn), spool.get(), &next_metrics);
  next.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool); }));
  next.stop();
  EXPECT_EQ(next_metrics.written.load(), 10u);
  EXPECT_EQ(next_metrics.inserted.load(), 10u);
  EXPECT_EQ(count(dsn, "SELECT count(*) FROM cdrs"), 40);
  EXPECT_EQ(metrics.inserted.load(), 30u);
}

// The same leg filed under `account` (top level and custom_channel_vars), as
// `source` delivers it; the ids stay those of account acc-1's copy.
std::string leg_in(const std::string& account, const std::string& source, int64_t unix_end, const std::string& caller) {
  return R"({"id":"202401-leg","call_id":"leg","account_id":")" + account + R"(","timestamp":)" +
         std::to_string(unix_end + kGregorianOffset) + R"(,"source":")" + source + R"(","caller_id_number":")" +
         caller + R"(","custom_channel_vars":{"account_id":")" + account + R"("}})";
}

// "<account> <source> <caller_id_number>" of every row of leg 202401-leg.
std::vector<std::string> legs_by_account(const std::string& dsn) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  std::vector<std::string> rows;
  for (const auto& r : tx.exec("SELECT account_id || ' ' || source || ' ' || caller_id_number FROM cdrs "
                               "WHERE id = '202401-leg' ORDER BY account_id")) {
    rows.push_back(r[0].as<std::string>());
  }
  return rows;
}

// Migration 004: the account is part of the key. Account A's leg imported
// into account B (same id and ts) is B's own row; A's esl row, which an
// import of the same account would upgrade, stays exactly as it was.
TEST_F(BatchWriterTest, TheSameIdInTwoAccountsIsTwoRowsAndNeverRewritesTheOther) {
  const int64_t end = now_unix();
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  const std::string a_esl = leg_in("acc-a", "esl", end, "+1a");
  append_durably(spool_.get(), {payload(a_esl, "Event-Name: CHANNEL_HANGUP_COMPLETE", "esl")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  const StoredLeg a_before = stored_leg(dsn_);

  // In a later batch, and twice more in one batch (a repeated import).
  const std::string b_import = leg_in("acc-b", "import", end, "+1b");
  append_durably(spool_.get(), {payload(b_import, "{}", "json")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  append_durably(spool_.get(), {payload(b_import, "{}", "json"), payload(b_import, "{}", "json")});
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();

  EXPECT_EQ(legs_by_account(dsn_), (std::vector<std::string>{"acc-a esl +1a", "acc-b import +1b"}));
  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  const pqxx::row a = tx.exec1(
      "SELECT (record - 'interaction_id' - 'direction_class')::text, raw, raw_format, received_at::text FROM cdrs "
      "WHERE id = '202401-leg' AND account_id = "
      "'acc-a'");
  EXPECT_EQ(a[0].as<std::string>(), as_jsonb_text(dsn_, a_esl));
  EXPECT_EQ(a[1].as<std::string>(), "Event-Name: CHANNEL_HANGUP_COMPLETE");
  EXPECT_EQ(a[2].as<std::string>(), "esl");
  EXPECT_EQ(a[3].as<std::string>(), a_before.received_at);
  EXPECT_EQ(
      tx.exec1("SELECT (record - 'interaction_id' - 'direction_class')::text FROM cdrs WHERE id = '202401-leg' AND "
               "account_id = 'acc-b'")[0]
          .as<std::string>(),
      as_jsonb_text(dsn_, b_import));
  EXPECT_EQ(metrics_.written.load(), 4u);
  EXPECT_EQ(metrics_.inserted.load(), 2u);  // A's row, then B's; the repeats change nothing
}

// Both accounts' copies in one batch: DISTINCT ON keeps one per account, so
// neither is lost to the other and the statement touches each row once.
TEST_F(BatchWriterTest, TheSameIdForTwoAccountsInOneBatchIsTwoRows) {
  const int64_t end = now_unix();
  append_durably(spool_.get(), {payload(leg_in("acc-a", "json_cdr", end, "+1a"), "{}", "json"),
                                payload(leg_in("acc-b", "import", end, "+1b"), "{}", "json"),
                                payload(leg_in("acc-a", "esl", end, "+1esl"), "esl", "esl"),
                                payload(leg_in("acc-b", "import", end, "+1b-again"), "{}", "json")});
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(legs_by_account(dsn_), (std::vector<std::string>{"acc-a json_cdr +1a", "acc-b import +1b"}));
  EXPECT_EQ(metrics_.inserted.load(), 2u);
}

// The key is (id, ts, account_id) after the migrations, on the parent and on
// every partition.
TEST_F(BatchWriterTest, TheKeyIsIdTsAndAccount) {
  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  const auto key_of = [&](const std::string& table) {
    return tx
        .exec_params1(
            "SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.conrelid = $1::regclass AND c.contype = 'p'",
            table)[0]
        .as<std::string>();
  };
  EXPECT_EQ(key_of("cdrs"), "id,ts,account_id");
  EXPECT_EQ(key_of("cdrs_default"), "id,ts,account_id");
}

}  // namespace
}  // namespace cdrd
