// summarize_cdrs() against rows inserted with plain SQL: every counter of the
// totals and of each bucket is worked out by hand below. Two sets: legs
// with statuses only (acct-a, acct-b: the leg counters per hour / day) and
// calls of two or three legs with the billing columns of migration 006
// (acct-bill: call counters, charges, group_by a column, filters).
#include "daemon/db/cdr_summary.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/api/cdr_store.h"
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

// acct-bill: six calls in the same window. Legs of a call share the
// interaction_id; c5 and c6 have none (each is a call alone). Charges are
// numeric text: 0.1 + 0.2 and four times 0.0001 are not exact in binary
// floating point.
const std::string kAcctBill = "acct-bill";

struct BillRow {
  const char* id;
  const char* interaction_id;  // nullptr: NULL
  const char* leg;
  int64_t gregorian_ts;
  const char* billing_status;
  const char* hangup_cause;
  int billing_seconds;
  bool is_loopback;
  const char* trunk;
  const char* direction_class;
  const char* destination_country;
  const char* media_server;
  const char* customer_charge;
  const char* customer_currency;
  const char* vendor_charge;
  const char* vendor_currency;
};

// clang-format off
const std::vector<BillRow> kBillRows = {
    // i-1: outbound to US on fs1, answered; the A-leg (a device, no trunk) 65 s, the B-leg on carrier-1 60 s.
    {"203005-c1a", "i-1", "A", gregorian(2030, 5, 20, 10, 5), "answered", "NORMAL_CLEARING", 65, false,
     nullptr, "outbound", "US", "fs1", "0.1", "USD", nullptr, nullptr},
    {"203005-c1b", "i-1", "B", gregorian(2030, 5, 20, 10, 5), "answered", "NORMAL_CLEARING", 60, false,
     "carrier-1", "outbound", "US", "fs1", nullptr, nullptr, "0.0001", "USD"},
    // i-2: outbound to US on fs1; carrier-1 failed (a setup fee of 0.0001), carrier-2 answered (120 s), A 125 s.
    {"203005-c2b1", "i-2", "B", gregorian(2030, 5, 20, 10, 18), "failed", "NORMAL_TEMPORARY_FAILURE", 0, false,
     "carrier-1", "outbound", "US", "fs1", nullptr, nullptr, "0.0001", "USD"},
    {"203005-c2a", "i-2", "A", gregorian(2030, 5, 20, 10, 20), "answered", "NORMAL_CLEARING", 125, false,
     nullptr, "outbound", "US", "fs1", "0.2", "USD", nullptr, nullptr},
    {"203005-c2b2", "i-2", "B", gregorian(2030, 5, 20, 10, 20), "answered", "NORMAL_CLEARING", 120, false,
     "carrier-2", "outbound", "US", "fs1", nullptr, nullptr, "0.0001", "USD"},
    // i-3: outbound to GB on fs2, busy on carrier-2; no charges.
    {"203005-c3a", "i-3", "A", gregorian(2030, 5, 20, 11, 0), "busy", "USER_BUSY", 0, false,
     nullptr, "outbound", "GB", "fs2", nullptr, nullptr, nullptr, nullptr},
    {"203005-c3b", "i-3", "B", gregorian(2030, 5, 20, 11, 0), "busy", "USER_BUSY", 0, false,
     "carrier-2", "outbound", "GB", "fs2", nullptr, nullptr, nullptr, nullptr},
    // i-4: inbound from GB on carrier-1 (fs2), answered through loopback/: the A-leg 30 s, the B-leg (a device)
    // 28 s; the loopback half, with its charges, is left out everywhere.
    {"203005-c4a", "i-4", "A", gregorian(2030, 5, 20, 11, 30), "answered", "NORMAL_CLEARING", 30, false,
     "carrier-1", "inbound", "GB", "fs2", "0.2", "EUR", "0.2", "EUR"},
    {"203005-c4l", "i-4", "B", gregorian(2030, 5, 20, 11, 30), "answered", "NORMAL_CLEARING", 30, true,
     nullptr, "inbound", "GB", "fs2", "5", "USD", "5", "USD"},
    {"203005-c4b", "i-4", "B", gregorian(2030, 5, 20, 11, 30), "answered", "NORMAL_CLEARING", 28, false,
     nullptr, "inbound", "GB", "fs2", "0.1", "EUR", nullptr, nullptr},
    // c5: one leg, refused by the callee on carrier-2 (US, fs1), a fee of 0.0001.
    {"203005-c5", nullptr, "A", gregorian(2030, 5, 21, 2, 0), "failed", "CALL_REJECTED", 0, false,
     "carrier-2", "outbound", "US", "fs1", nullptr, nullptr, "0.0001", "USD"},
    // c6: one leg, internal (no country) on fs1, 10 s, charged 1.5 without a currency.
    {"203005-c6", nullptr, "A", gregorian(2030, 5, 21, 3, 0), "answered", "NORMAL_CLEARING", 10, false,
     nullptr, "internal", nullptr, "fs1", "1.5", nullptr, nullptr, nullptr},
    // Outside the window: not counted.
    {"203005-c7", "i-7", "A", gregorian(2030, 5, 22, 0, 0), "answered", "NORMAL_CLEARING", 99, false,
     "carrier-1", "outbound", "US", "fs1", "9", "USD", "9", "USD"},
};
// clang-format on

// Per group, by hand from kBillRows (the loopback half c4l and c7 never count).
struct Figures {
  SummaryCounters legs;
  CallCounters calls;
  std::string charges;  // as charges_text()
};

// "CUR=customer/vendor;..." in currency order ("" first).
std::string charges_text(const SummaryCharges& charges) {
  std::string out;
  for (const auto& [currency, sums] : charges) out += currency + "=" + sums.customer + "/" + sums.vendor + ";";
  return out;
}

void expect_calls(const CallCounters& got, const CallCounters& want, const std::string& what) {
  EXPECT_EQ(got.attempts, want.attempts) << what << " calls";
  EXPECT_EQ(got.answered, want.answered) << what << " calls";
  EXPECT_EQ(got.billed_seconds, want.billed_seconds) << what << " calls";
}

void expect_totals(const CdrSummary& s, const Figures& want, const std::string& what) {
  expect_counters(s.totals, want.legs, what + " totals");
  expect_calls(s.calls, want.calls, what + " totals");
  EXPECT_EQ(charges_text(s.charges), want.charges) << what << " totals";
}

void expect_bucket(const SummaryBucket& got, const Figures& want, const std::string& what) {
  expect_counters(got.counters, want.legs, what);
  expect_calls(got.calls, want.calls, what);
  EXPECT_EQ(charges_text(got.charges), want.charges) << what;
}

// Legs c1a c1b c2b1 c2a c2b2 c3a c3b c4a c4b c5 c6: answered c1a c1b c2a c2b2 c4a c4b c6, busy c3a c3b, failed
// c2b1 c5 (c5 rejected), billed 65+60+125+120+30+28+10 = 438. Calls i-1 i-2 i-3 i-4 c5 c6; answered i-1 (65 s,
// its longest answered leg), i-2 (125), i-4 (30), c6 (10) = 230. Charges: USD customer 0.1 + 0.2, vendor 4 x
// 0.0001; EUR customer 0.2 + 0.1, vendor 0.2; no currency: customer 1.5.
const Figures kBillTotals = {{11, 7, 2, 0, 2, 1, 438}, {6, 4, 230}, "=1.5/0;EUR=0.3/0.2;USD=0.3/0.0004;"};
// fs2 and GB: c3a c3b c4a c4b. Calls i-3 (busy) and i-4 (answered, 30 s).
const Figures kFs2 = {{4, 2, 2, 0, 0, 0, 58}, {2, 1, 30}, "EUR=0.3/0.2;"};
// c6 alone.
const Figures kC6 = {{1, 1, 0, 0, 0, 0, 10}, {1, 1, 10}, "=1.5/0;"};

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
    for (const BillRow& r : kBillRows) {
      tx.exec_params(
          "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record, interaction_id, leg, "
          "billing_status, hangup_cause, billing_seconds, is_loopback, trunk, direction_class, destination_country, "
          "media_server, customer_charge, customer_currency, vendor_charge, vendor_currency) "
          "VALUES ($1, to_timestamp($2), $3, $4, $1, 'json_cdr', '{}', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
          "$15::numeric, $16, $17::numeric, $18)",
          r.id, r.gregorian_ts - kGregorianUnixOffset, r.gregorian_ts, kAcctBill, r.interaction_id, r.leg,
          r.billing_status, r.hangup_cause, r.billing_seconds, r.is_loopback, r.trunk, r.direction_class,
          r.destination_country, r.media_server, r.customer_charge, r.customer_currency, r.vendor_charge,
          r.vendor_currency);
    }
    // acct-many: 1000 answered one-leg calls of 1 s, each charged 0.0001 USD to the customer and 0.0003 to the
    // vendor; a double sum of 1000 x 0.0001 is 0.10000000000000184.
    tx.exec_params(
        "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record, billing_status, "
        "billing_seconds, customer_charge, customer_currency, vendor_charge, vendor_currency) "
        "SELECT '203005-m' || n, to_timestamp($1), $2, 'acct-many', 'm' || n, 'json_cdr', '{}', 'answered', 1, "
        "0.0001, 'USD', 0.0003, 'USD' FROM generate_series(1, 1000) n",
        kFrom - kGregorianUnixOffset + 60, kFrom + 60);
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

  CdrSummary summarize(const std::string& account, int64_t from, int64_t to, SummaryGrouping group_by,
                       const std::vector<std::pair<std::string, std::string>>& filters = {}) {
    CdrSummaryQuery q;
    q.account_id = account;
    q.from_gregorian = from;
    q.to_gregorian = to;
    q.group_by = group_by;
    for (const auto& [name, value] : filters) {
      CdrFilter filter;
      std::string error;
      EXPECT_TRUE(parse_cdr_filter(name, value, &filter, &error)) << error;
      q.filters.push_back(filter);
    }
    return summarize_cdrs(*conn_, q);
  }

  // The value buckets' keys, "(null)" for NULL.
  static std::vector<std::string> keys_of(const CdrSummary& s) {
    std::vector<std::string> keys;
    for (const SummaryBucket& b : s.buckets) keys.push_back(b.key ? *b.key : "(null)");
    return keys;
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
    expect_counters(s.totals, {0, 0, 0, 0, 0, 0, 0}, summary_grouping_name(g));
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

TEST_F(CdrSummaryTest, CallsAndExactChargesOverTheWindow) {
  const CdrSummary s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kNone);
  expect_totals(s, kBillTotals, "ungrouped");
  EXPECT_TRUE(s.buckets.empty());
  // The leg set of the first test has no interaction_id: every leg is a call alone, none charged.
  const CdrSummary a = summarize(kAcctA, kFrom, kTo, SummaryGrouping::kNone);
  expect_calls(a.calls, {9, 3, 211}, "acct-a");
  EXPECT_TRUE(a.charges.empty());
}

TEST_F(CdrSummaryTest, ManySmallChargesSumExactly) {
  for (SummaryGrouping g : {SummaryGrouping::kNone, SummaryGrouping::kDay, SummaryGrouping::kTrunk}) {
    const CdrSummary s = summarize("acct-many", kFrom, kTo, g);
    expect_totals(s, {{1000, 1000, 0, 0, 0, 0, 1000}, {1000, 1000, 1000}, "USD=0.1000/0.3000;"},
                  summary_grouping_name(g));
    if (g != SummaryGrouping::kNone) {
      ASSERT_EQ(s.buckets.size(), 1u);
      EXPECT_EQ(charges_text(s.buckets[0].charges), "USD=0.1000/0.3000;");
    }
  }
}

// A call counts in each trunk bucket its legs touched, made of those legs only.
TEST_F(CdrSummaryTest, GroupByTrunk) {
  const CdrSummary s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kTrunk);
  expect_totals(s, kBillTotals, "trunk");
  ASSERT_EQ(keys_of(s), (std::vector<std::string>{"carrier-1", "carrier-2", "(null)"}));
  // carrier-1: c1b (answered 60 s), c2b1 (failed), c4a (answered 30 s). Calls i-1 (answered, 60), i-2 (only its
  // failed leg is here: not answered), i-4 (answered, 30).
  expect_bucket(s.buckets[0], {{3, 2, 0, 0, 1, 0, 90}, {3, 2, 90}, "EUR=0.2/0.2;USD=0/0.0002;"}, "carrier-1");
  // carrier-2: c2b2 (answered 120 s), c3b (busy), c5 (rejected). Calls i-2 (answered, 120), i-3, c5.
  expect_bucket(s.buckets[1], {{3, 1, 1, 0, 1, 1, 120}, {3, 1, 120}, "USD=0/0.0002;"}, "carrier-2");
  // No trunk: c1a (65 s), c2a (125 s), c3a (busy), c4b (28 s), c6 (10 s), one call each.
  expect_bucket(s.buckets[2], {{5, 4, 1, 0, 0, 0, 228}, {5, 4, 228}, "=1.5/0;EUR=0.1/0;USD=0.3/0;"}, "no trunk");
}

TEST_F(CdrSummaryTest, GroupByDestinationCountry) {
  const CdrSummary s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kDestinationCountry);
  expect_totals(s, kBillTotals, "destination_country");
  ASSERT_EQ(keys_of(s), (std::vector<std::string>{"GB", "US", "(null)"}));
  expect_bucket(s.buckets[0], kFs2, "GB");
  // US: i-1 (65 s), i-2 (125 s), c5: legs c1a c1b c2b1 c2a c2b2 c5.
  expect_bucket(s.buckets[1], {{6, 4, 0, 0, 2, 1, 370}, {3, 2, 190}, "USD=0.3/0.0004;"}, "US");
  expect_bucket(s.buckets[2], kC6, "no country");
}

TEST_F(CdrSummaryTest, GroupByDirectionClass) {
  const CdrSummary s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kDirectionClass);
  expect_totals(s, kBillTotals, "direction_class");
  ASSERT_EQ(keys_of(s), (std::vector<std::string>{"inbound", "internal", "outbound"}));
  // inbound: i-4 (c4a c4b; 30 s).
  expect_bucket(s.buckets[0], {{2, 2, 0, 0, 0, 0, 58}, {1, 1, 30}, "EUR=0.3/0.2;"}, "inbound");
  expect_bucket(s.buckets[1], kC6, "internal");
  // outbound: i-1 i-2 i-3 c5.
  expect_bucket(s.buckets[2], {{8, 4, 2, 0, 2, 1, 370}, {4, 2, 190}, "USD=0.3/0.0004;"}, "outbound");
}

TEST_F(CdrSummaryTest, GroupByMediaServer) {
  const CdrSummary s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kMediaServer);
  expect_totals(s, kBillTotals, "media_server");
  ASSERT_EQ(keys_of(s), (std::vector<std::string>{"fs1", "fs2"}));
  // fs1: i-1 (65), i-2 (125), c5, c6 (10).
  expect_bucket(s.buckets[0], {{7, 5, 0, 0, 2, 1, 380}, {4, 3, 200}, "=1.5/0;USD=0.3/0.0004;"}, "fs1");
  expect_bucket(s.buckets[1], kFs2, "fs2");
}

TEST_F(CdrSummaryTest, GroupByAccountIsOneBucketOfTheRoutesAccount) {
  const CdrSummary s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kAccount);
  expect_totals(s, kBillTotals, "account");
  ASSERT_EQ(keys_of(s), (std::vector<std::string>{kAcctBill}));
  expect_bucket(s.buckets[0], kBillTotals, "acct-bill");
}

TEST_F(CdrSummaryTest, CallsPerHourAndDay) {
  CdrSummary s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kHour);
  expect_totals(s, kBillTotals, "hour");
  ASSERT_EQ(s.buckets.size(), 4u);
  // 20th 10:00: i-1 and i-2.
  EXPECT_EQ(s.buckets[0].start_gregorian, gregorian(2030, 5, 20, 10));
  EXPECT_FALSE(s.buckets[0].key);
  expect_bucket(s.buckets[0], {{5, 4, 0, 0, 1, 0, 370}, {2, 2, 190}, "USD=0.3/0.0003;"}, "20th 10:00");
  // 20th 11:00: i-3 and i-4.
  EXPECT_EQ(s.buckets[1].start_gregorian, gregorian(2030, 5, 20, 11));
  expect_bucket(s.buckets[1], kFs2, "20th 11:00");
  // 21st 02:00: c5, refused: no answered call.
  EXPECT_EQ(s.buckets[2].start_gregorian, gregorian(2030, 5, 21, 2));
  expect_bucket(s.buckets[2], {{1, 0, 0, 0, 1, 1, 0}, {1, 0, 0}, "USD=0/0.0001;"}, "21st 02:00");
  EXPECT_EQ(s.buckets[3].start_gregorian, gregorian(2030, 5, 21, 3));
  expect_bucket(s.buckets[3], kC6, "21st 03:00");

  s = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kDay);
  expect_totals(s, kBillTotals, "day");
  ASSERT_EQ(s.buckets.size(), 2u);
  // 20th: i-1 (65) i-2 (125) i-3 i-4 (30).
  expect_bucket(s.buckets[0], {{9, 6, 2, 0, 1, 0, 428}, {4, 3, 220}, "EUR=0.3/0.2;USD=0.3/0.0003;"}, "20th");
  // 21st: c5, c6.
  expect_bucket(s.buckets[1], {{2, 1, 0, 0, 1, 1, 10}, {2, 1, 10}, "=1.5/0;USD=0/0.0001;"}, "21st");
}

// A call is made of its legs in the window: [10:00:00, 10:18:59] holds c1a,
// c1b and c2b1 (i-2's answered legs end at 10:20).
TEST_F(CdrSummaryTest, CallsAreMadeOfTheirLegsInTheWindow) {
  const CdrSummary s =
      summarize(kAcctBill, gregorian(2030, 5, 20, 10), gregorian(2030, 5, 20, 10, 18, 59), SummaryGrouping::kNone);
  expect_totals(s, {{3, 2, 0, 0, 1, 0, 125}, {2, 1, 65}, "USD=0.1/0.0002;"}, "10:00-10:18");
}

// The list's filters select the legs; the calls are made of the selected legs.
TEST_F(CdrSummaryTest, FiltersSelectTheLegs) {
  // A-legs only: c1a c2a c3a c4a c5 c6, each its call's only selected leg.
  expect_totals(summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kNone, {{"filter_leg", "A"}}),
                {{6, 4, 1, 0, 1, 1, 230}, {6, 4, 230}, "=1.5/0;EUR=0.2/0.2;USD=0.3/0.0001;"}, "filter_leg=A");

  // B-legs per trunk: c1b c2b1 (carrier-1), c2b2 c3b (carrier-2), c4b (none). Calls i-1 (60) i-2 (120) i-3
  // i-4 (28).
  const CdrSummary b = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kTrunk, {{"filter_leg", "B"}});
  expect_totals(b, {{5, 3, 1, 0, 1, 0, 208}, {4, 3, 208}, "EUR=0.1/0;USD=0/0.0003;"}, "filter_leg=B");
  ASSERT_EQ(keys_of(b), (std::vector<std::string>{"carrier-1", "carrier-2", "(null)"}));
  expect_bucket(b.buckets[0], {{2, 1, 0, 0, 1, 0, 60}, {2, 1, 60}, "USD=0/0.0002;"}, "B carrier-1");
  expect_bucket(b.buckets[1], {{2, 1, 1, 0, 0, 0, 120}, {2, 1, 120}, "USD=0/0.0001;"}, "B carrier-2");
  expect_bucket(b.buckets[2], {{1, 1, 0, 0, 0, 0, 28}, {1, 1, 28}, "EUR=0.1/0;"}, "B none");

  // Several filters AND together, a prefix included: i-2's answered legs.
  expect_totals(summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kNone,
                          {{"filter_interaction_id", "i-2"}, {"filter_billing_status", "answ*"}}),
                {{2, 2, 0, 0, 0, 0, 245}, {1, 1, 125}, "USD=0.2/0.0001;"}, "i-2 answered");

  // Loopback halves are never counted, whatever the filter says.
  const CdrSummary loop = summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kDay, {{"filter_is_loopback", "true"}});
  expect_totals(loop, {{0, 0, 0, 0, 0, 0, 0}, {0, 0, 0}, ""}, "loopback");
  EXPECT_TRUE(loop.buckets.empty());

  // A filter on a member of the record (not a column): every record here is {}.
  expect_totals(summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kTrunk, {{"filter_node", "n1"}}),
                {{0, 0, 0, 0, 0, 0, 0}, {0, 0, 0}, ""}, "filter_node");
  // A filter value that is not UTF-8 names no row.
  expect_totals(summarize(kAcctBill, kFrom, kTo, SummaryGrouping::kHour, {{"filter_leg", "\xff"}}),
                {{0, 0, 0, 0, 0, 0, 0}, {0, 0, 0}, ""}, "\\xff");
}

TEST_F(CdrSummaryTest, GroupingNames) {
  std::vector<std::string> names;
  for (SummaryGrouping g : summary_groupings()) {
    names.emplace_back(summary_grouping_name(g));
    SummaryGrouping back = SummaryGrouping::kNone;
    EXPECT_TRUE(parse_summary_grouping(names.back(), &back));
    EXPECT_EQ(back, g);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"hour", "day", "trunk", "destination_country", "direction_class",
                                             "media_server", "account"}));
  SummaryGrouping g = SummaryGrouping::kNone;
  EXPECT_FALSE(parse_summary_grouping("", &g));
  EXPECT_FALSE(parse_summary_grouping("week", &g));
  EXPECT_FALSE(parse_summary_grouping("Trunk", &g));
  EXPECT_FALSE(is_time_grouping(SummaryGrouping::kTrunk));
  EXPECT_TRUE(is_time_grouping(SummaryGrouping::kHour));
}

// The plan reads the account's window from the covering summary index alone
// (an index-only scan, migrations 005 and 006), for both statements and
// every grouping: a check of the plan's shape, not of its speed. The fixture
// is too small for the planner to prefer an index on its own, so the other
// scans are switched off; VACUUM marks the pages all-visible as autovacuum
// does on a real table.
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
  std::vector<SummaryGrouping> groupings = summary_groupings();
  groupings.push_back(SummaryGrouping::kNone);
  for (SummaryGrouping g : groupings) {
    CdrSummaryQuery q;
    q.account_id = kAcctA;
    q.from_gregorian = kFrom;
    q.to_gregorian = kTo;
    q.group_by = g;
    for (const SummaryStatement& st : {summary_counters_statement(q), summary_charges_statement(q)}) {
      const pqxx::result plan = tx.exec_params("EXPLAIN " + st.sql, pqxx::prepare::make_dynamic_params(st.params));
      std::string text;
      for (const auto& row : plan) text += row[0].as<std::string>() + "\n";
      bool uses_index = false;
      for (const std::string& name : index_names) {
        uses_index = uses_index || text.find("Index Only Scan using " + name) != std::string::npos;
      }
      EXPECT_TRUE(uses_index) << summary_grouping_name(g) << "\n" << text;
      EXPECT_EQ(text.find("Seq Scan"), std::string::npos) << summary_grouping_name(g) << "\n" << text;
    }
  }
}

// Buckets in a time zone (issue 13): the legs of acct-tz end on both sides
// of Europe/Berlin's DST changes, each answered, a call alone, with billed
// seconds of its own power of two, so a bucket's billed seconds name its
// legs. Berlin's 2026-03-29 runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z
// (23 h: 02:00 CET is 03:00 CEST, at 01:00Z); its 2026-10-25 from
// 2026-10-24T22:00Z to 2026-10-25T23:00Z (25 h: 03:00 CEST is 02:00 CET,
// at 01:00Z, so 02:00..02:59 happens twice).
struct ZoneRow {
  const char* id;
  int64_t gregorian_ts;
  int billing_seconds;
  const char* leg;
  const char* customer_charge;  // EUR; nullptr: none
};

// clang-format off
const std::vector<ZoneRow> kZoneRows = {
    {"202603-s1", gregorian(2026, 3, 28, 22, 59, 59), 1, "A", nullptr},     // Berlin 28th 23:59:59 CET
    {"202603-s2", gregorian(2026, 3, 28, 23, 0, 0), 2, "A", nullptr},       // Berlin 29th 00:00:00 CET
    {"202603-s3", gregorian(2026, 3, 29, 0, 59, 59), 4, "A", nullptr},      // Berlin 29th 01:59:59 CET
    {"202603-s4", gregorian(2026, 3, 29, 1, 0, 0), 8, "A", "0.5"},          // Berlin 29th 03:00:00 CEST
    {"202603-s5", gregorian(2026, 3, 29, 21, 59, 59), 16, "B", nullptr},    // Berlin 29th 23:59:59 CEST
    {"202603-s6", gregorian(2026, 3, 29, 22, 0, 0), 32, "A", nullptr},      // Berlin 30th 00:00:00 CEST
    {"202610-a1", gregorian(2026, 10, 24, 21, 59, 59), 64, "A", nullptr},   // Berlin 24th 23:59:59 CEST
    {"202610-a2", gregorian(2026, 10, 24, 22, 0, 0), 128, "A", nullptr},    // Berlin 25th 00:00:00 CEST
    {"202610-a3", gregorian(2026, 10, 25, 0, 30, 0), 256, "A", "0.25"},     // Berlin 25th 02:30:00 CEST
    {"202610-a4", gregorian(2026, 10, 25, 1, 30, 0), 512, "A", "0.125"},    // Berlin 25th 02:30:00 CET
    {"202610-a5", gregorian(2026, 10, 25, 22, 59, 59), 1024, "A", nullptr}, // Berlin 25th 23:59:59 CET
    {"202610-a6", gregorian(2026, 10, 25, 23, 0, 0), 2048, "A", nullptr},   // Berlin 26th 00:00:00 CET
};
// clang-format on

const int64_t kSpringFrom = gregorian(2026, 3, 28);
const int64_t kSpringTo = gregorian(2026, 3, 30, 23, 59, 59);
const int64_t kAutumnFrom = gregorian(2026, 10, 24);
const int64_t kAutumnTo = gregorian(2026, 10, 26, 23, 59, 59);

class CdrSummaryZoneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dsn_ = new std::string(create_migrated_database("cdr_summary_tz"));
    pqxx::connection conn(*dsn_);
    pqxx::work tx(conn);
    for (const ZoneRow& r : kZoneRows) {
      tx.exec_params(
          "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record, billing_status, "
          "billing_seconds, leg, customer_charge, customer_currency) "
          "VALUES ($1, to_timestamp($2), $3, 'acct-tz', $1, 'json_cdr', '{}', 'answered', $4, $5, $6::numeric, "
          "CASE WHEN $6 IS NULL THEN NULL ELSE 'EUR' END)",
          r.id, r.gregorian_ts - kGregorianUnixOffset, r.gregorian_ts, r.billing_seconds, r.leg, r.customer_charge);
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
    // The session's zone must not matter.
    pqxx::nontransaction(*conn_).exec("SET TimeZone = 'America/New_York'");
  }

  CdrSummary summarize(int64_t from, int64_t to, SummaryGrouping group_by, const std::string& zone,
                       const std::vector<std::pair<std::string, std::string>>& filters = {}) {
    CdrSummaryQuery q;
    q.account_id = "acct-tz";
    q.from_gregorian = from;
    q.to_gregorian = to;
    q.group_by = group_by;
    q.time_zone = zone;
    for (const auto& [name, value] : filters) {
      CdrFilter filter;
      std::string error;
      EXPECT_TRUE(parse_cdr_filter(name, value, &filter, &error)) << error;
      q.filters.push_back(filter);
    }
    return summarize_cdrs(*conn_, q);
  }

  // One bucket of `legs` answered one-leg calls billed `billed` seconds in all.
  static void expect_legs(const SummaryBucket& b, int64_t start_gregorian, int64_t legs, int64_t billed,
                          const std::string& charges, const std::string& what) {
    EXPECT_EQ(b.start_gregorian, start_gregorian) << what;
    expect_bucket(b, {{legs, legs, 0, 0, 0, 0, billed}, {legs, legs, billed}, charges}, what);
  }

  static std::string* dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

std::string* CdrSummaryZoneTest::dsn_ = nullptr;

TEST_F(CdrSummaryZoneTest, UtcDaysByDefault) {
  CdrSummaryQuery q;
  EXPECT_EQ(q.time_zone, "UTC");
  // UTC 28th: s1 s2 (1 + 2); 29th: s3 s4 s5 s6 (4 + 8 + 16 + 32).
  const CdrSummary s = summarize(kSpringFrom, kSpringTo, SummaryGrouping::kDay, "UTC");
  ASSERT_EQ(s.buckets.size(), 2u);
  expect_legs(s.buckets[0], gregorian(2026, 3, 28), 2, 3, "", "UTC 28th");
  expect_legs(s.buckets[1], gregorian(2026, 3, 29), 4, 60, "EUR=0.5/0;", "UTC 29th");
}

TEST_F(CdrSummaryZoneTest, BerlinSpringDayHas23Hours) {
  const CdrSummary s = summarize(kSpringFrom, kSpringTo, SummaryGrouping::kDay, "Europe/Berlin");
  expect_counters(s.totals, {6, 6, 0, 0, 0, 0, 63}, "totals");
  ASSERT_EQ(s.buckets.size(), 3u);
  // 28th (from 27th 23:00Z): s1. 29th (from 28th 23:00Z): s2 s3 s4 s5. 30th (from 29th 22:00Z): s6.
  expect_legs(s.buckets[0], gregorian(2026, 3, 27, 23), 1, 1, "", "Berlin 28th");
  expect_legs(s.buckets[1], gregorian(2026, 3, 28, 23), 4, 30, "EUR=0.5/0;", "Berlin 29th");
  expect_legs(s.buckets[2], gregorian(2026, 3, 29, 22), 1, 32, "", "Berlin 30th");
  // Filters' parameters follow the zone's: without the B-leg s5.
  const CdrSummary a = summarize(kSpringFrom, kSpringTo, SummaryGrouping::kDay, "Europe/Berlin", {{"filter_leg", "A"}});
  ASSERT_EQ(a.buckets.size(), 3u);
  expect_legs(a.buckets[1], gregorian(2026, 3, 28, 23), 3, 14, "EUR=0.5/0;", "Berlin 29th A-legs");
}

TEST_F(CdrSummaryZoneTest, BerlinAutumnDayHas25Hours) {
  const CdrSummary s = summarize(kAutumnFrom, kAutumnTo, SummaryGrouping::kDay, "Europe/Berlin");
  ASSERT_EQ(s.buckets.size(), 3u);
  // 24th (from 23rd 22:00Z): a1. 25th (from 24th 22:00Z): a2 a3 a4 a5. 26th (from 25th 23:00Z): a6.
  expect_legs(s.buckets[0], gregorian(2026, 10, 23, 22), 1, 64, "", "Berlin 24th");
  expect_legs(s.buckets[1], gregorian(2026, 10, 24, 22), 4, 1920, "EUR=0.375/0;", "Berlin 25th");
  expect_legs(s.buckets[2], gregorian(2026, 10, 25, 23), 1, 2048, "", "Berlin 26th");
}

TEST_F(CdrSummaryZoneTest, BerlinHoursAcrossBothChanges) {
  // Spring: s3 in 01:00 CET (00:00Z), s4 in 03:00 CEST (01:00Z): no 02:00 hour.
  CdrSummary s = summarize(kSpringFrom, kSpringTo, SummaryGrouping::kHour, "Europe/Berlin");
  ASSERT_EQ(s.buckets.size(), 6u);
  expect_legs(s.buckets[2], gregorian(2026, 3, 29, 0), 1, 4, "", "01:00 CET");
  expect_legs(s.buckets[3], gregorian(2026, 3, 29, 1), 1, 8, "EUR=0.5/0;", "03:00 CEST");
  // Autumn: 02:00 CEST (00:00Z) and 02:00 CET (01:00Z) are two hours.
  s = summarize(kAutumnFrom, kAutumnTo, SummaryGrouping::kHour, "Europe/Berlin");
  ASSERT_EQ(s.buckets.size(), 6u);
  expect_legs(s.buckets[1], gregorian(2026, 10, 24, 22), 1, 128, "", "00:00 CEST");
  expect_legs(s.buckets[2], gregorian(2026, 10, 25, 0), 1, 256, "EUR=0.25/0;", "02:00 CEST");
  expect_legs(s.buckets[3], gregorian(2026, 10, 25, 1), 1, 512, "EUR=0.125/0;", "02:00 CET");
}

TEST_F(CdrSummaryZoneTest, FixedOffsetDays) {
  // utc_offset=-18000 (sql_zone "<-05>+05"): s1..s4 end on the 28th (17:59:59 to 20:00 local), s5 s6 on the
  // 29th (16:59:59, 17:00); days start at 05:00Z.
  CdrSummary s = summarize(kSpringFrom, kSpringTo, SummaryGrouping::kDay, "<-05>+05");
  ASSERT_EQ(s.buckets.size(), 2u);
  expect_legs(s.buckets[0], gregorian(2026, 3, 28, 5), 4, 15, "EUR=0.5/0;", "-05:00 28th");
  expect_legs(s.buckets[1], gregorian(2026, 3, 29, 5), 2, 48, "", "-05:00 29th");
  // utc_offset=19800 ("<+0530>-05:30"): s1..s4 on the 29th (04:29:59 to 06:30), s5 s6 on the 30th (03:29:59,
  // 03:30); days start at 18:30Z the day before.
  s = summarize(kSpringFrom, kSpringTo, SummaryGrouping::kDay, "<+0530>-05:30");
  ASSERT_EQ(s.buckets.size(), 2u);
  expect_legs(s.buckets[0], gregorian(2026, 3, 28, 18, 30), 4, 15, "EUR=0.5/0;", "+05:30 29th");
  expect_legs(s.buckets[1], gregorian(2026, 3, 29, 18, 30), 2, 48, "", "+05:30 30th");
}

}  // namespace
}  // namespace cdrd::test
