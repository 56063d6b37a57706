// database.retention_months against a real PostgreSQL: which monthly
// partitions drop_expired_partitions() drops for a fixed "now", the guards
// against a clock that jumps ahead, and the writer running it at connect.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "daemon/core/metrics.h"
#include "daemon/db/batch_writer.h"
#include "daemon/db/migrations.h"
#include "tests/db/writer_test_util.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

using Time = std::chrono::system_clock::time_point;

Time utc(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = 12;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

int64_t unix_of(Time t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

std::string yyyymm(Time t) { return utc_text(unix_of(t), "%Y%m"); }

class RetentionTest : public testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("retention");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    std::string error;
    ASSERT_TRUE(apply_migrations(*conn_, nullptr, &error)) << error;
  }

  // The partition of the month of `t`, with `rows` rows in it.
  void month_with_rows(Time t, int rows) {
    std::string error;
    ASSERT_TRUE(ensure_partitions(*conn_, t, 0, &error)) << error;
    for (int i = 0; i < rows; ++i) insert_row(t, yyyymm(t) + "-" + std::to_string(i));
  }

  void insert_row(Time t, const std::string& id) {
    pqxx::work tx(*conn_);
    const int64_t unix_ts = unix_of(t);
    tx.exec_params(
        "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record) "
        "VALUES ($1, to_timestamp($2), $3, 'acct', $1, 'json_cdr', '{}')",
        id, unix_ts, unix_ts + kGregorianOffset);
    // The leg's own link, as the writer's call step stores it.
    tx.exec_params("INSERT INTO cdr_links (account_id, link, call_id, ts) VALUES ('acct', $1, $1, to_timestamp($2))",
                   id, unix_ts);
    tx.commit();
  }

  std::vector<std::string> drop(Time now, int retention_months) {
    std::vector<std::string> dropped;
    std::string error;
    EXPECT_TRUE(drop_expired_partitions(*conn_, now, retention_months, &dropped, &error)) << error;
    return dropped;
  }

  std::vector<std::string> partitions() {
    pqxx::nontransaction tx(*conn_);
    std::vector<std::string> out;
    for (const auto& r : tx.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                 "WHERE i.inhparent = 'cdrs'::regclass ORDER BY c.relname")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }

  std::vector<std::string> tables_named(const std::string& like) {
    pqxx::nontransaction tx(*conn_);
    std::vector<std::string> out;
    for (const auto& r :
         tx.exec_params("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE $1 ORDER BY 1", like)) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }

  // Old months with rows, the current month (2024-06 for now = 2024-06-15)
  // with rows, two months ahead, and a 2019 row in cdrs_default.
  void old_months() {
    for (const Time t : {utc(2023, 1, 10), utc(2023, 6, 10), utc(2023, 11, 10), utc(2023, 12, 10), utc(2024, 1, 10),
                         utc(2024, 6, 10)}) {
      month_with_rows(t, 3);
    }
    std::string error;
    ASSERT_TRUE(ensure_partitions(*conn_, utc(2024, 6, 15), 2, &error)) << error;
    insert_row(utc(2019, 3, 15), "default-2019");
  }

  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

// retention 6 at 2024-06-15: a month is dropped once it ended more than six
// months ago. 2023-11 ended 2023-12-01, six months before 2024-06-01:
// dropped. 2023-12 (ends 2024-01-01 + 6 months = 2024-07-01) is the
// boundary month that stays.
TEST_F(RetentionTest, DropsTheMonthsThatEndedMoreThanRetentionMonthsAgo) {
  old_months();
  EXPECT_EQ(drop(utc(2024, 6, 15), 6), (std::vector<std::string>{"cdrs_p202311", "cdrs_p202306", "cdrs_p202301"}));
  EXPECT_EQ(partitions(), (std::vector<std::string>{"cdrs_default", "cdrs_p202312", "cdrs_p202401", "cdrs_p202406",
                                                    "cdrs_p202407", "cdrs_p202408"}));
  EXPECT_EQ(tables_named("cdrs_p2023%"), std::vector<std::string>{"cdrs_p202312"});  // detached AND dropped
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 3 * 3 + 1);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs WHERE ts < '2023-12-01'"), 1);  // the 2019 row in default
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_default"), 1);
  // The links of the dropped months went with them; the 2019 stray in
  // cdrs_default keeps its own.
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdr_links WHERE ts < '2023-12-01'"), 1);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdr_links"), 3 * 3 + 1);

  // Idempotent; 0 keeps everything; 1 month keeps only the month before.
  EXPECT_TRUE(drop(utc(2024, 6, 15), 6).empty());
  EXPECT_TRUE(drop(utc(2024, 6, 15), 0).empty());
  EXPECT_EQ(drop(utc(2024, 6, 15), 1), (std::vector<std::string>{"cdrs_p202401", "cdrs_p202312"}));
  EXPECT_EQ(partitions(), (std::vector<std::string>{"cdrs_default", "cdrs_p202406", "cdrs_p202407", "cdrs_p202408"}));
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 3 + 1);
}

// cdrd's clock jumps 400 days ahead: partitions for 2025-07.. appear
// (empty), but the newest month holding rows is still 2024-06, so retention
// counts from there and drops exactly what it would have dropped anyway.
TEST_F(RetentionTest, AClockFarAheadCannotDropTheNewestData) {
  old_months();
  const Time jumped = utc(2024, 6, 15) + std::chrono::hours(24 * 400);
  std::string error;
  ASSERT_TRUE(ensure_partitions(*conn_, jumped, 2, &error)) << error;
  EXPECT_EQ(yyyymm(jumped), "202507");
  EXPECT_EQ(drop(jumped, 6), (std::vector<std::string>{"cdrs_p202311", "cdrs_p202306", "cdrs_p202301"}));
  EXPECT_EQ(partitions(),
            (std::vector<std::string>{"cdrs_default", "cdrs_p202312", "cdrs_p202401", "cdrs_p202406", "cdrs_p202407",
                                      "cdrs_p202408", "cdrs_p202507", "cdrs_p202508", "cdrs_p202509"}));
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_p202406"), 3);
}

// cdrd's clock years ahead, and rows arrived stamped with that time: the
// database's clock still says today, so today's month (with rows) stays.
TEST_F(RetentionTest, TheDatabaseClockHoldsBackACdrdClockYearsAhead) {
  const Time now = std::chrono::system_clock::now();
  const Time ahead = now + std::chrono::hours(24 * 365 * 5);
  month_with_rows(now, 2);
  month_with_rows(ahead, 2);
  EXPECT_TRUE(drop(ahead, 1).empty());
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_p" + yyyymm(now)), 2);
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs_p" + yyyymm(ahead)), 2);
}

// The writer applies database.retention_months when it connects and counts
// what it dropped.
TEST_F(RetentionTest, TheWriterDropsExpiredPartitionsAtConnect) {
  const Time now = std::chrono::system_clock::now();
  month_with_rows(utc(2020, 1, 10), 2);
  month_with_rows(utc(2020, 2, 10), 2);
  month_with_rows(now, 1);
  TempDir dir;
  auto spool = open_spool(dir.path() + "/spool");
  ASSERT_NE(spool, nullptr);
  Metrics metrics;
  BatchWriterOptions options = fast_options(dsn_);
  options.retention_months = 12;
  BatchWriter writer(options, spool.get(), &metrics);
  writer.start();
  ASSERT_TRUE(eventually([&] { return metrics.partitions_dropped.load() == 2; }));
  append_durably(spool.get(), {payload(cdr_json("after-retention", now_unix()))});
  ASSERT_TRUE(eventually([&] { return drained(*spool); }));
  writer.stop();
  EXPECT_TRUE(tables_named("cdrs_p2020%").empty());
  EXPECT_EQ(count(dsn_, "SELECT count(*) FROM cdrs"), 2);
  EXPECT_EQ(metrics.partitions_dropped.load(), 2u);
  EXPECT_NE(metrics.render().find("\ncdrd_partitions_dropped_total 2\n"), std::string::npos);
}

}  // namespace
}  // namespace cdrd::test
