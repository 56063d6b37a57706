// summarize_cdrs() against rows inserted with plain SQL: every counter of the
// totals and of each hour / day bucket is worked out by hand below.
#include "daemon/db/cdr_summary.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/db/cdr_store.h"
#include "daemon/db/migrations.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200LL;

int64_t gregorian(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) + kGregorianUnixOffset;
}

const std::string kAcctA = "acct-a";
const std::string kAcctB = "acct-b";

// The window of most tests: 2030-05-20T00:00:00Z .. 2030-05-21T23:59:59Z, both inclusive.
const int64_t kFrom = gregorian(2030, 5, 20);
const int64_t kTo = gregorian(2030, 5, 21, 23, 59, 59);

struct Row {
  std::string id;
  std::string account;
  int64_t gregorian_ts;
  const char* billing_status;
  const char* hangup_cause;
  int billing_seconds;
  bool is_loopback;
};

const std::vector<Row> kRows = {
    // 2030-05-20, hour 00: the first second of the window.
    {"203005-r0", kAcctA, gregorian(2030, 5, 20, 0, 0, 0), "busy", "USER_BUSY", 0, false},
    // 2030-05-20, hour 10.
    {"203005-r1", kAcctA, gregorian(2030, 5, 20, 10, 5, 0), "answered", "NORMAL_CLEARING", 61, false},
    {"203005-r2", kAcctA, gregorian(2030, 5, 20, 10, 59, 59), "answered", "NORMAL_CLEARING", 30, false},
    {"203005-r3", kAcctA, gregorian(2030, 5, 20, 10, 30, 0), "busy", "USER_BUSY", 0, false},
    {"203005-r4", kAcctA, gregorian(2030, 5, 20, 10, 40, 0), "noanswer", "NO_ANSWER", 0, false},
    // 2030-05-20, hour 11: a refused call, another failure, and a loopback
    // half (left out everywhere although it is answered).
    {"203005-r5", kAcctA, gregorian(2030, 5, 20, 11, 0, 0), "failed", "CALL_REJECTED", 0, false},
    {"203005-r6", kAcctA, gregorian(2030, 5, 20, 11, 10, 0), "failed", "NORMAL_TEMPORARY_FAILURE", 0, false},
    {"203005-r7", kAcctA, gregorian(2030, 5, 20, 11, 20, 0), "answered", "NORMAL_CLEARING", 9, true},
    // 2030-05-21, hour 02.
    {"203005-r8", kAcctA, gregorian(2030, 5, 21, 2, 0, 0), "answered", "NORMAL_CLEARING", 120, false},
    {"203005-r9", kAcctA, gregorian(2030, 5, 21, 2, 30, 0), "noanswer", "ORIGINATOR_CANCEL", 0, false},
    // Outside the window, one second either side.
    {"203005-x1", kAcctA, gregorian(2030, 5, 19, 23, 59, 59), "answered", "NORMAL_CLEARING", 500, false},
    {"203005-x2", kAcctA, gregorian(2030, 5, 22, 0, 0, 0), "answered", "NORMAL_CLEARING", 700, false},
    // Another account, inside the window.
    {"203005-b1", kAcctB, gregorian(2030, 5, 20, 10, 10, 0), "answered", "NORMAL_CLEARING", 100, false},
    {"203005-b2", kAcctB, gregorian(2030, 5, 20, 11, 10, 0), "failed", "CALL_REJECTED", 0, false},
};

// acct-a in [kFrom, kTo] without the loopback half r7: r0 r1 r2 r3 r4 r5 r6 r8 r9.
//   attempts 9; answered r1 r2 r8 = 3; busy r0 r3 = 2; noanswer r4 r9 = 2;
//   failed r5 r6 = 2; rejected r5 = 1; billed 61 + 30 + 120 = 211.
const SummaryCounters kTotals = {9, 3, 2, 2, 2, 1, 211};

void expect_counters(const SummaryCounters& got, const SummaryCounters& want, const std::string& what) {
  EXPECT_EQ(got.attempts, want.attempts) << what;
  EXPECT_EQ(got.answered, want.answered) << what;
  EXPECT_EQ(got.busy, want.busy) << what;
  EXPECT_EQ(got.noanswer, want.noanswer) << what;
  EXPECT_EQ(got.failed, want.failed) << what;
  EXPECT_EQ(got.rejected, want.rejected) << what;
  EXPECT_EQ(got.billed_seconds, want.billed_seconds) << what;
}

class CdrSummaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dsn_ = new std::string(create_migrated_database("cdr_summary"));
    pqxx::connection conn(*dsn_);
    std::string error;
    ASSERT_TRUE(apply_migrations(conn, nullptr, &error)) << error;
    const auto may = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(kFrom - kGregorianUnixOffset));
    ASSERT_TRUE(ensure_partitions(conn, may, 1, &error)) << error;
    pqxx::work tx(conn);
    for (const Row& r : kRows) {
      tx.exec_params(
          "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record, billing_status, "
          "hangup_cause, billing_seconds, is_loopback) "
          "VALUES ($1, to_timestamp($2), $3, $4, $1, 'json_cdr', '{}', $5, $6, $7, $8)",
          r.id, r.gregorian_ts - kGregorianUnixOffset, r.gregorian_ts, r.account, r.billing_status, r.hangup_cause,
          r.billing_seconds, r.is_loopback);
    }
    tx.commit();
  }
  static void TearDownTestSuite() {
    delete dsn_;
    dsn_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(dsn_, nullptr);
    conn_ = std::make_unique<pqxx::connection>(*dsn_);
  }

  CdrSummary summarize(const std::string& account, int64_t from, int64_t to, SummaryGrouping group_by) {
    CdrSummaryQuery q;
    q.account_id = account;
    q.from_gregorian = from;
    q.to_gregorian = to;
    q.group_by = group_by;
    return summarize_cdrs(*conn_, q);
  }

  static std::string* dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

std::string* CdrSummaryTest::dsn_ = nullptr;

TEST_F(CdrSummaryTest, TotalsCountLegsInTheWindowOfTheAccountWithoutLoopbackHalves) {
  const CdrSummary s = summarize(kAcctA, kFrom, kTo, SummaryGrouping::kNone);
  expect_counters(s.totals, kTotals, "totals");
  EXPECT_TRUE(s.buckets.empty());
}

TEST_F(CdrSummaryTest, HourBucketsInUtcOnlyWhereThereAreRows) {
  // A session time zone other than UTC must not move the buckets.
  pqxx::nontransaction(*conn_).exec("SET TimeZone = 'Asia/Kolkata'");
  const CdrSummary s = summarize(kAcctA, kFrom, kTo, SummaryGrouping::kHour);
  expect_counters(s.totals, kTotals, "totals");
  ASSERT_EQ(s.buckets.size(), 4u);
  // 2030-05-20 00:00: r0 (busy).
  EXPECT_EQ(s.buckets[0].start_gregorian, gregorian(2030, 5, 20, 0));
  expect_counters(s.buckets[0].counters, {1, 0, 1, 0, 0, 0, 0}, "20th 00:00");
  // 10:00: r1 r2 answered (61 + 30), r3 busy, r4 noanswer.
  EXPECT_EQ(s.buckets[1].start_gregorian, gregorian(2030, 5, 20, 10));
  expect_counters(s.buckets[1].counters, {4, 2, 1, 1, 0, 0, 91}, "20th 10:00");
  // 11:00: r5 failed + rejected, r6 failed; r7 is a loopback half.
  EXPECT_EQ(s.buckets[2].start_gregorian, gregorian(2030, 5, 20, 11));
  expect_counters(s.buckets[2].counters, {2, 0, 0, 0, 2, 1, 0}, "20th 11:00");
  // 2030-05-21 02:00: r8 answered (120), r9 noanswer.
  EXPECT_EQ(s.buckets[3].start_gregorian, gregorian(2030, 5, 21, 2));
  expect_counters(s.buckets[3].counters, {2, 1, 0, 1, 0, 0, 120}, "21st 02:00");
}

TEST_F(CdrSummaryTest, DayBuckets) {
  const CdrSummary s = summarize(kAcctA, kFrom, kTo, SummaryGrouping::kDay);
  expect_counters(s.totals, kTotals, "totals");
  ASSERT_EQ(s.buckets.size(), 2u);
  // 2030-05-20: r0..r6 but the loopback r7: answered r1 r2 (91 s), busy r0 r3,
  // noanswer r4, failed r5 r6, rejected r5.
  EXPECT_EQ(s.buckets[0].start_gregorian, gregorian(2030, 5, 20));
  expect_counters(s.buckets[0].counters, {7, 2, 2, 1, 2, 1, 91}, "20th");
  // 2030-05-21: r8 answered (120 s), r9 noanswer.
  EXPECT_EQ(s.buckets[1].start_gregorian, gregorian(2030, 5, 21));
  expect_counters(s.buckets[1].counters, {2, 1, 0, 1, 0, 0, 120}, "21st");
}

TEST_F(CdrSummaryTest, WindowIsInclusiveAtBothEnds) {
  // [19th 23:59:59, 22nd 00:00:00] takes x1 (answered, 500 s) and x2 (answered, 700 s) too.
  const CdrSummary s =
      summarize(kAcctA, gregorian(2030, 5, 19, 23, 59, 59), gregorian(2030, 5, 22), SummaryGrouping::kDay);
  expect_counters(s.totals, {11, 5, 2, 2, 2, 1, 1411}, "totals");
  ASSERT_EQ(s.buckets.size(), 4u);
  EXPECT_EQ(s.buckets[0].start_gregorian, gregorian(2030, 5, 19));
  expect_counters(s.buckets[0].counters, {1, 1, 0, 0, 0, 0, 500}, "19th");
  EXPECT_EQ(s.buckets[3].start_gregorian, gregorian(2030, 5, 22));
  expect_counters(s.buckets[3].counters, {1, 1, 0, 0, 0, 0, 700}, "22nd");
  // A one-second window on r0 alone.
  expect_counters(summarize(kAcctA, kFrom, kFrom, SummaryGrouping::kNone).totals, {1, 0, 1, 0, 0, 0, 0}, "r0");
}

TEST_F(CdrSummaryTest, OtherAccountSeesOnlyItsOwnRows) {
  // acct-b: b1 answered (100 s), b2 failed + rejected.
  const CdrSummary s = summarize(kAcctB, kFrom, kTo, SummaryGrouping::kHour);
  expect_counters(s.totals, {2, 1, 0, 0, 1, 1, 100}, "acct-b");
  ASSERT_EQ(s.buckets.size(), 2u);
  expect_counters(s.buckets[0].counters, {1, 1, 0, 0, 0, 0, 100}, "acct-b 10:00");
  expect_counters(s.buckets[1].counters, {1, 0, 0, 0, 1, 1, 0}, "acct-b 11:00");
}

TEST_F(CdrSummaryTest, EmptyWindowHasZeroTotalsAndNoBuckets) {
  for (SummaryGrouping g : {SummaryGrouping::kNone, SummaryGrouping::kHour, SummaryGrouping::kDay}) {
    const CdrSummary s = summarize("acct-none", kFrom, kTo, g);
    expect_counters(s.totals, {0, 0, 0, 0, 0, 0, 0}, summary_unit(g));
    EXPECT_TRUE(s.buckets.empty());
  }
  // An account id that is not UTF-8 (a URL segment passes through as it is).
  expect_counters(summarize("acct-\xff", kFrom, kTo, SummaryGrouping::kDay).totals, {0, 0, 0, 0, 0, 0, 0}, "\\xff");
}

TEST_F(CdrSummaryTest, RunsThroughACdrStoreConnection) {
  CdrStore store(*dsn_, 10000);
  CdrSummaryQuery q;
  q.account_id = kAcctA;
  q.from_gregorian = kFrom;
  q.to_gregorian = kTo;
  q.group_by = SummaryGrouping::kDay;
  const CdrSummary s = store.run([&q](pqxx::connection& conn) { return summarize_cdrs(conn, q); });
  expect_counters(s.totals, kTotals, "totals");
  EXPECT_EQ(s.buckets.size(), 2u);
}

// The plan reads the account's window from the covering summary index alone
// (an index-only scan, migration 005): a check of the plan's shape, not of
// its speed. The fixture is too small for the planner to prefer an index on
// its own, so the other scans are switched off; VACUUM marks the pages
// all-visible as autovacuum does on a real table.
TEST_F(CdrSummaryTest, PlanUsesTheAccountTimeIndex) {
  pqxx::nontransaction tx(*conn_);
  std::vector<std::string> index_names;
  for (const auto& row : tx.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                 "WHERE i.inhparent = 'cdrs_account_ts_summary'::regclass")) {
    index_names.push_back(row[0].as<std::string>());
  }
  ASSERT_FALSE(index_names.empty());
  tx.exec("VACUUM cdrs");
  tx.exec("SET enable_seqscan = off");
  tx.exec("SET enable_bitmapscan = off");
  const int64_t from = kFrom - kGregorianUnixOffset;
  const int64_t to = kTo - kGregorianUnixOffset;
  for (SummaryGrouping g : {SummaryGrouping::kNone, SummaryGrouping::kDay, SummaryGrouping::kHour}) {
    const std::string explain = "EXPLAIN " + summary_sql(g);
    const pqxx::result plan = g == SummaryGrouping::kNone ? tx.exec_params(explain, kAcctA, from, to)
                                                          : tx.exec_params(explain, kAcctA, from, to, summary_unit(g));
    std::string text;
    for (const auto& row : plan) text += row[0].as<std::string>() + "\n";
    bool uses_index = false;
    for (const std::string& name : index_names) {
      uses_index = uses_index || text.find("Index Only Scan using " + name) != std::string::npos;
    }
    EXPECT_TRUE(uses_index) << text;
    EXPECT_EQ(text.find("Seq Scan"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace cdrd::test
