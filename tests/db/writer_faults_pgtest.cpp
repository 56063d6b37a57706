// Poison rows and retryable errors, against a real PostgreSQL: rows the
// server refuses (type, CHECK constraint, trigger, deferred constraint, a
// value too large for an index) are quarantined one by one and the rest
// written; errors that are not about a row (serialization failure,
// deadlock, disk full, statement cancel, a lost connection, an in-doubt
// COMMIT) are retried and never quarantine anything.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/metrics.h"
#include "daemon/db/batch_sql.h"
#include "daemon/db/batch_writer.h"
#include "daemon/db/migrations.h"
#include "tests/db/pg_cut_proxy.h"
#include "tests/db/writer_test_util.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

// libpqxx 6.4 leaks the PGresult of a statement during which the server
// closed the connection: connection_base::make_result() asks the dead
// connection for its client encoding, which throws broken_connection before
// a pqxx::result owns the PGresult. The tests below cut the connection
// mid-statement on purpose, so LeakSanitizer (ASan build) is told to ignore
// leaks allocated inside libpq; cdrd never calls libpq itself, so this hides
// nothing of its own. About 1-2 kB per lost connection, in the daemon too.
// NOLINTNEXTLINE(bugprone-reserved-identifier): the name LeakSanitizer looks up
extern "C" __attribute__((used)) const char* __lsan_default_suppressions() { return "leak:libpq.so.5\n"; }

namespace cdrd::test {
namespace {

void exec(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

std::vector<std::string> strings(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  for (const auto& r : tx.exec(sql)) out.push_back(r[0].is_null() ? "(null)" : r[0].as<std::string>());
  return out;
}

// Random letters and digits: nothing for pglz to compress, so an index
// entry holding it stays over btree's 2704-byte limit.
std::string incompressible(size_t n) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string s(n, ' ');
  for (auto& c : s) c = kAlphabet[pick(rng)];
  return s;
}

class WriterFaultsTest : public testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("writer_faults");
    pqxx::connection conn(dsn_);
    std::string error;
    ASSERT_TRUE(apply_migrations(conn, nullptr, &error)) << error;
    ASSERT_TRUE(ensure_partitions(conn, std::chrono::system_clock::now(), 1, &error)) << error;
    spool_ = open_spool(dir_.path() + "/spool");
    ASSERT_NE(spool_, nullptr);
  }

  // `n` good records "<prefix>-<i>" ending now.
  std::vector<std::string> good(const std::string& prefix, int n) {
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out.push_back(payload(cdr_json(prefix + "-" + std::to_string(i), now_unix())));
    return out;
  }

  // Writes `payloads` (appended before the writer starts, so batches are
  // exactly max_rows long) and waits for the spool to drain.
  void write_all(const std::vector<std::string>& payloads, const BatchWriterOptions& options) {
    append_durably(spool_.get(), payloads);
    BatchWriter writer(options, spool_.get(), &metrics_);
    writer.start();
    ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
    writer.stop();
  }

  std::string dsn_;
  TempDir dir_;
  std::unique_ptr<Spool> spool_;
  Metrics metrics_;
};

TEST_F(WriterFaultsTest, RowsRefusedByConstraintsTriggersAndSizeAreQuarantinedOneByOne) {
  // A CHECK constraint, a row trigger and a deferred constraint trigger
  // (it refuses at COMMIT), each raising check_violation (23514) for its
  // marked rows only.
  exec(dsn_,
       "ALTER TABLE cdrs ADD CONSTRAINT no_poison_caller CHECK (caller_id_number IS DISTINCT FROM 'poison-check');"
       "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
       "  IF NEW.hangup_cause = 'POISON_TRIGGER' THEN"
       "    RAISE EXCEPTION 'cdr % refused by the test trigger', NEW.id USING ERRCODE = 'check_violation';"
       "  END IF; RETURN NEW; END $$;"
       "CREATE TRIGGER refuse_marked BEFORE INSERT ON cdrs FOR EACH ROW EXECUTE FUNCTION refuse_marked();"
       "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
       "  IF NEW.hangup_cause = 'POISON_DEFERRED' THEN"
       "    RAISE EXCEPTION 'cdr % refused at commit', NEW.id USING ERRCODE = 'check_violation';"
       "  END IF; RETURN NULL; END $$;"
       "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON cdrs DEFERRABLE INITIALLY DEFERRED "
       "FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();");
  const int64_t end = now_unix();
  const std::string huge_call = incompressible(10000);
  std::vector<std::string> payloads = good("good", 50);
  // Batches of 20: two poison rows in the first, one in the second, one
  // in the third, next to good rows.
  payloads.insert(payloads.begin() + 45, payload(cdr_json(huge_call, end)));
  payloads.insert(payloads.begin() + 25, payload(cdr_json("deferred", end, R"(,"hangup_cause":"POISON_DEFERRED")")));
  payloads.insert(payloads.begin() + 11, payload(cdr_json("trigger", end, R"(,"hangup_cause":"POISON_TRIGGER")")));
  payloads.insert(payloads.begin() + 3, payload(cdr_json("check", end, R"(,"caller_id_number":"poison-check")")));
  BatchWriterOptions options = fast_options(dsn_);
  options.max_rows = 20;
  write_all(payloads, options);

  EXPECT_EQ(metrics_.batches.load(), 3u);
  EXPECT_EQ(metrics_.written.load(), 50u);
  EXPECT_EQ(metrics_.inserted.load(), 50u);
  EXPECT_EQ(metrics_.quarantined.load(), 4u);
  EXPECT_EQ(metrics_.writer_errors.load(), 0u);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 50);
  EXPECT_EQ(count(dsn_, "SELECT count(DISTINCT id) FROM cdrs WHERE id LIKE '202401-good-%'"), 50);

  const auto errors = strings(dsn_, "SELECT error FROM cdrs_quarantine ORDER BY qid");
  const auto ids = strings(dsn_, "SELECT left(record::jsonb->>'id', 20) FROM cdrs_quarantine ORDER BY qid");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(ids, (std::vector<std::string>{"202401-check", "202401-trigger", "202401-deferred",
                                           "202401-" + huge_call.substr(0, 13)}));
  EXPECT_NE(errors[0].find("violates check constraint \"no_poison_caller\""), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("cdr 202401-trigger refused by the test trigger"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("cdr 202401-deferred refused at commit"), std::string::npos) << errors[2];
  // 54000 program_limit_exceeded ("index row requires 10040 bytes, maximum size is 8191").
  EXPECT_NE(errors[3].find("index row"), std::string::npos) << errors[3];

  // The writer goes on with the next batch.
  append_durably(spool_.get(), {payload(cdr_json("after", end))});
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE id = '202401-after'"), 1);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 4);
}

// A trigger fails the first `failures` attempts at the batch with the
// SQLSTATE of the test; a sequence counts the attempts, since nextval() is
// not rolled back with them.
struct RetryCase {
  const char* sqlstate;
  const char* reason;  // cdrd_writer_retries_total{reason=...}
};

uint64_t retries(const Metrics& m, const std::string& reason) {
  if (reason == "connection") return m.writer_retries_connection.load();
  if (reason == "in_doubt") return m.writer_retries_in_doubt.load();
  if (reason == "conflict") return m.writer_retries_conflict.load();
  if (reason == "resources") return m.writer_retries_resources.load();
  if (reason == "interrupted") return m.writer_retries_interrupted.load();
  return m.writer_retries_other.load();
}

uint64_t all_retries(const Metrics& m) {
  return m.writer_retries_connection.load() + m.writer_retries_in_doubt.load() + m.writer_retries_conflict.load() +
         m.writer_retries_resources.load() + m.writer_retries_interrupted.load() + m.writer_retries_other.load();
}

class WriterRetryTest : public WriterFaultsTest, public testing::WithParamInterface<RetryCase> {};

TEST_P(WriterRetryTest, IsRetriedWithGrowingBackoffAndNeverQuarantines) {
  const RetryCase c = GetParam();
  exec(dsn_, std::string("CREATE SEQUENCE attempts;"
                         "CREATE FUNCTION fail_first_attempts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                         "  IF nextval('attempts') <= 3 THEN"
                         "    RAISE EXCEPTION 'test failure of attempt %', currval('attempts') USING ERRCODE = '") +
                 c.sqlstate +
                 "';"
                 "  END IF; RETURN NULL; END $$;"
                 "CREATE TRIGGER fail_first_attempts BEFORE INSERT ON cdrs "
                 "FOR EACH STATEMENT EXECUTE FUNCTION fail_first_attempts();");
  BatchWriterOptions options = fast_options(dsn_);
  options.retry_initial = std::chrono::milliseconds(20);
  options.retry_max = std::chrono::milliseconds(10000);
  // One connection: the trigger counts INSERT/COPY statements, one per
  // attempt here (a batch in shares sends one per share).
  options.connections = 1;
  write_all(good("retry", 30), options);

  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 30);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 0);
  EXPECT_EQ(count(dsn_, "SELECT last_value FROM attempts"), 4);  // three failures, then the batch
  EXPECT_EQ(metrics_.batches.load(), 1u);
  EXPECT_EQ(metrics_.inserted.load(), 30u);
  EXPECT_EQ(metrics_.quarantined.load(), 0u);
  EXPECT_EQ(metrics_.writer_errors.load(), 3u);
  EXPECT_EQ(retries(metrics_, c.reason), 3u);
  EXPECT_EQ(all_retries(metrics_), 3u);
  // Back-offs of 20, 40, then 80 ms: the gauge shows the last one.
  EXPECT_EQ(metrics_.writer_backoff_ms.load(), 80);
  EXPECT_NE(metrics_.render().find(std::string("cdrd_writer_retries_total{reason=\"") + c.reason + "\"} 3\n"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Sqlstates, WriterRetryTest,
                         testing::Values(RetryCase{"40001", "conflict"},     // serialization_failure
                                         RetryCase{"40P01", "conflict"},     // deadlock_detected
                                         RetryCase{"53100", "resources"},    // disk_full
                                         RetryCase{"57014", "interrupted"},  // query_canceled (statement timeout)
                                         RetryCase{"P0001", "other"},        // a trigger's plain RAISE
                                         RetryCase{"42501", "other"}),       // insufficient_privilege
                         [](const testing::TestParamInfo<RetryCase>& info) {
                           return std::string("sqlstate_") + info.param.sqlstate;
                         });

// The connection dies inside COMMIT: a deferred constraint trigger makes
// the writer's own backend terminate itself the first time. libpqxx cannot
// know whether the batch committed; the writer retries it on a new
// connection and the upsert makes the retry harmless.
TEST_F(WriterFaultsTest, ConnectionLostInCommitIsRetriedOnce) {
  exec(dsn_,
       "CREATE SEQUENCE commits;"
       "CREATE FUNCTION die_in_first_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
       "  IF nextval('commits') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;"
       "  RETURN NULL; END $$;"
       "CREATE CONSTRAINT TRIGGER die_in_first_commit AFTER INSERT ON cdrs DEFERRABLE INITIALLY DEFERRED "
       "FOR EACH ROW EXECUTE FUNCTION die_in_first_commit();");
  write_all(good("doubt", 25), fast_options(dsn_));
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 25);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 0);
  EXPECT_EQ(metrics_.writer_retries_in_doubt.load(), 1u);
  EXPECT_EQ(all_retries(metrics_), 1u);
  EXPECT_EQ(metrics_.inserted.load(), 25u);  // the first COMMIT did not happen: the retry inserted them
  EXPECT_EQ(metrics_.quarantined.load(), 0u);
}

// The in-doubt case that matters for double counting: PostgreSQL commits
// the batch, but the reply never reaches cdrd (a proxy forwards COMMIT and
// then cuts both sides). The retry finds every row there and adds none.
TEST_F(WriterFaultsTest, BatchCommittedButUnacknowledgedIsNotWrittenTwice) {
  PgCutProxy proxy(test_postgres().port);
  ASSERT_GT(proxy.port(), 0);
  // One connection: the proxy loses one COMMIT reply, and the test counts
  // on that COMMIT carrying the whole batch. ConnectionLostInCommitIsRetriedOnce
  // covers a batch in shares of which one commits and one is lost.
  BatchWriterOptions options = fast_options(proxy.dsn(dsn_));
  options.connections = 1;
  write_all(good("unacked", 40), options);
  EXPECT_TRUE(proxy.cut());
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 40);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 0);
  EXPECT_EQ(metrics_.writer_retries_in_doubt.load(), 1u);
  EXPECT_EQ(all_retries(metrics_), 1u);
  EXPECT_EQ(metrics_.batches.load(), 1u);
  EXPECT_EQ(metrics_.written.load(), 40u);
  EXPECT_EQ(metrics_.inserted.load(), 0u);  // the lost COMMIT had inserted them all
}

// The connection is cut while the writer waits inside its INSERT (the test
// holds a lock on cdrs and terminates the writer's backend).
TEST_F(WriterFaultsTest, ConnectionLostMidBatchIsRetried) {
  BatchWriter writer(fast_options(dsn_), spool_.get(), &metrics_);
  writer.start();
  ASSERT_TRUE(eventually([&] { return writer.connected(); }));
  pqxx::connection locker(dsn_);
  pqxx::work lock(locker);
  lock.exec("LOCK TABLE cdrs IN ACCESS EXCLUSIVE MODE");
  append_durably(spool_.get(), good("cut", 35));
  const std::string waiting =
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'cdrd-writer' AND wait_event_type = 'Lock' "
      "AND datname = current_database()";
  ASSERT_TRUE(eventually([&] { return !strings(dsn_, waiting).empty(); }));
  EXPECT_EQ(strings(dsn_, "SELECT pg_terminate_backend(pid)::text FROM (" + waiting + ") w"),
            (std::vector<std::string>{"true"}));
  lock.abort();
  ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  writer.stop();
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 35);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_quarantine"), 0);
  EXPECT_EQ(metrics_.writer_retries_connection.load() + metrics_.writer_retries_interrupted.load(), 1u);
  EXPECT_EQ(all_retries(metrics_), 1u);
  EXPECT_EQ(metrics_.inserted.load(), 35u);
  EXPECT_EQ(metrics_.quarantined.load(), 0u);
}

// What the real server sends, through libpqxx's own mapping of SQLSTATEs to
// exception types, classified.
TEST_F(WriterFaultsTest, ServerErrorsAreClassifiedBySqlstate) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"22P02", "bad_row"},     {"22003", "bad_row"},   {"23514", "bad_row"},   {"23505", "bad_row"},
      {"23502", "bad_row"},     {"54000", "bad_row"},   {"40001", "conflict"},  {"40P01", "conflict"},
      {"40000", "conflict"},    {"40002", "conflict"},  {"40003", "in_doubt"},  {"08006", "connection"},
      {"53300", "connection"},  {"53100", "resources"}, {"53200", "resources"}, {"57014", "interrupted"},
      {"57P01", "interrupted"}, {"42P01", "other"},     {"42501", "other"},     {"P0001", "other"},
      {"0A000", "other"},       {"54001", "other"},     {"XX000", "other"},     {"25P02", "other"}};
  pqxx::connection conn(dsn_);
  for (const auto& [sqlstate, expected] : cases) {
    std::string got = "(nothing thrown)";
    try {
      pqxx::nontransaction tx(conn);
      tx.exec("DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '" + sqlstate + "'; END $$");
    } catch (const std::exception& e) {
      got = db_error_class_name(classify_db_error(e));
    }
    EXPECT_EQ(got, expected) << sqlstate;
  }
  // A real data error from a real statement.
  try {
    pqxx::nontransaction tx(conn);
    tx.exec("SELECT 1 / 0");
    ADD_FAILURE() << "no error";
  } catch (const std::exception& e) {
    EXPECT_EQ(std::string(db_error_class_name(classify_db_error(e))), "bad_row");
  }
}

}  // namespace
}  // namespace cdrd::test
