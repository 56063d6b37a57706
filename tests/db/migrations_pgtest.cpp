// apply_migrations and ensure_partitions on a real database.
#include "daemon/db/migrations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/db/schema_sql.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

constexpr long long kGregorianUnixOffset = 62167219200LL;

std::chrono::system_clock::time_point utc(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = 12;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string partition_name_of(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "cdrs_p%Y%m", &tm);
  return buf;
}

std::vector<std::string> column(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  for (const auto& row : tx.exec(sql)) out.push_back(row[0].as<std::string>());
  return out;
}

// The partitions of cdrs, from the catalog.
std::vector<std::string> partitions(pqxx::connection& conn) {
  return column(conn,
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'cdrs'::regclass ORDER BY c.relname");
}

// A row with only the NOT NULL columns, ending at Unix time `unix_ts`.
void insert_cdr(pqxx::connection& conn, const std::string& id, long long unix_ts) {
  pqxx::work tx(conn);
  const long long gregorian = unix_ts + kGregorianUnixOffset;
  tx.exec_params(
      "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record) "
      "VALUES ($1, to_timestamp($2), $3, 'acct', $1, 'json_cdr', $4)",
      id, unix_ts, gregorian,
      "{\"id\":\"" + id + "\",\"account_id\":\"acct\",\"timestamp\":" + std::to_string(gregorian) + "}");
  tx.commit();
}

long long unix_of(int year, int month, int day) {
  return static_cast<long long>(std::chrono::system_clock::to_time_t(utc(year, month, day)));
}

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override { conn_ = std::make_unique<pqxx::connection>(create_database("migrations")); }

  void migrate() {
    std::vector<std::string> applied;
    std::string error;
    ASSERT_TRUE(apply_migrations(*conn_, &applied, &error)) << error;
  }

  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(MigrationsTest, AppliesEachMigrationOnce) {
  std::vector<std::string> expected;
  for (const auto& migration : schema_migrations()) expected.push_back(migration.first);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(expected.front(), "001_init");

  std::vector<std::string> applied;
  std::string error;
  ASSERT_TRUE(apply_migrations(*conn_, &applied, &error)) << error;
  EXPECT_EQ(applied, expected);
  EXPECT_EQ(column(*conn_, "SELECT name FROM schema_migrations ORDER BY name"), expected);
  EXPECT_EQ(column(*conn_, "SELECT relkind::text FROM pg_class WHERE relname = 'cdrs'"), std::vector<std::string>{"p"});
  EXPECT_EQ(partitions(*conn_), std::vector<std::string>{"cdrs_default"});

  std::vector<std::string> again;
  ASSERT_TRUE(apply_migrations(*conn_, &again, &error)) << error;
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(column(*conn_, "SELECT count(*) FROM schema_migrations"),
            std::vector<std::string>{std::to_string(expected.size())});
}

// Every partition's is_loopback column, as "table nullable default".
std::vector<std::string> is_loopback_columns(pqxx::connection& conn) {
  return column(conn,
                "SELECT table_name || ' ' || is_nullable || ' ' || column_default FROM information_schema.columns "
                "WHERE column_name = 'is_loopback' AND data_type = 'boolean' ORDER BY table_name");
}

TEST_F(MigrationsTest, FreshDatabaseHasIsLoopback) {
  migrate();
  std::string error;
  ASSERT_TRUE(ensure_partitions(*conn_, utc(2035, 6, 15), 0, &error)) << error;
  EXPECT_EQ(is_loopback_columns(*conn_),
            (std::vector<std::string>{"cdrs NO false", "cdrs_default NO false", "cdrs_p203506 NO false"}));
}

// A database that an older cdrd (001 only) created and filled: the next
// start adds the column to the parent and to every existing partition.
TEST_F(MigrationsTest, LaterMigrationsApplyOnADatabaseWith001Only) {
  const auto& migrations = schema_migrations();
  ASSERT_GE(migrations.size(), 2u);
  ASSERT_EQ(migrations[0].first, "001_init");
  {
    pqxx::work tx(*conn_);
    tx.exec("CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    tx.exec(migrations[0].second);
    tx.exec("INSERT INTO schema_migrations (name) VALUES ('001_init')");
    tx.commit();
  }
  std::string error;
  ASSERT_TRUE(ensure_partitions(*conn_, utc(2035, 6, 15), 0, &error)) << error;
  insert_cdr(*conn_, "203506-old", unix_of(2035, 6, 10));
  insert_cdr(*conn_, "201001-stray", unix_of(2010, 1, 10));
  EXPECT_TRUE(is_loopback_columns(*conn_).empty());

  std::vector<std::string> applied;
  ASSERT_TRUE(apply_migrations(*conn_, &applied, &error)) << error;
  std::vector<std::string> expected;
  for (size_t i = 1; i < migrations.size(); ++i) expected.push_back(migrations[i].first);
  EXPECT_EQ(applied, expected);
  EXPECT_EQ(applied.front(), "002_cdrs_is_loopback");
  EXPECT_EQ(is_loopback_columns(*conn_),
            (std::vector<std::string>{"cdrs NO false", "cdrs_default NO false", "cdrs_p203506 NO false"}));
  EXPECT_EQ(column(*conn_, "SELECT id || ' ' || is_loopback::text FROM cdrs ORDER BY id"),
            (std::vector<std::string>{"201001-stray false", "203506-old false"}));

  // A partition created after the migration has the column too.
  ASSERT_TRUE(ensure_partitions(*conn_, utc(2035, 7, 15), 0, &error)) << error;
  EXPECT_EQ(column(*conn_,
                   "SELECT is_nullable || ' ' || column_default FROM information_schema.columns "
                   "WHERE table_name = 'cdrs_p203507' AND column_name = 'is_loopback'"),
            std::vector<std::string>{"NO false"});
}

// Migration 006 gives the custom objects of rows stored before it Kazoo's key
// spelling (issue 12: ecallmgr_Owner-ID was stored as Owner-ID, clients look
// up owner_id), and leaves everything else of the record as it was.
TEST_F(MigrationsTest, Migration006GivesStoredCustomKeysKazoosSpelling) {
  const auto& migrations = schema_migrations();
  {
    pqxx::work tx(*conn_);
    tx.exec("CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    for (const auto& [name, sql] : migrations) {
      if (name >= "006") break;
      tx.exec(sql);
      tx.exec_params("INSERT INTO schema_migrations (name) VALUES ($1)", name);
    }
    tx.commit();
  }
  std::string error;
  ASSERT_TRUE(ensure_partitions(*conn_, utc(2035, 6, 15), 0, &error)) << error;
  const long long unix_ts = unix_of(2035, 6, 10);
  const auto insert = [&](const std::string& id, const std::string& fields) {
    pqxx::work tx(*conn_);
    tx.exec_params(
        "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record) "
        "VALUES ($1, to_timestamp($2), $3, 'acct', $1, 'json_cdr', $4)",
        id, unix_ts, unix_ts + kGregorianUnixOffset, "{\"id\":\"" + id + "\"" + fields + "}");
    tx.commit();
  };
  insert("203506-a", R"(,"custom_channel_vars":{"Owner-ID":"user-1","Account-ID":"acct","Realm":"pbx.example"},)"
                     R"("custom_sip_headers":{"X-Foo-Bar":"b","P-Asserted-Identity":"<sip:1001@h>"},)"
                     R"("custom_application_vars":{"Campaign-Name":"spring"},"caller_id_name":"Ann-Marie")");
  insert("203506-b", R"(,"custom_channel_vars":"not an object","to":"1002@h")");
  insert("203506-c", R"(,"from":"1001@h")");

  std::vector<std::string> applied;
  ASSERT_TRUE(apply_migrations(*conn_, &applied, &error)) << error;
  ASSERT_FALSE(applied.empty());
  EXPECT_EQ(applied.front(), "006_billing_fields");
  EXPECT_EQ(
      column(*conn_, "SELECT record::text FROM cdrs ORDER BY id"),
      (std::vector<std::string>{R"({"id": "203506-a", "caller_id_name": "Ann-Marie", "custom_sip_headers": )"
                                R"({"x_foo_bar": "b", "p_asserted_identity": "<sip:1001@h>"}, "custom_channel_vars": )"
                                R"({"realm": "pbx.example", "owner_id": "user-1", "account_id": "acct"}, )"
                                R"("custom_application_vars": {"campaign_name": "spring"}})",
                                R"({"id": "203506-b", "to": "1002@h", "custom_channel_vars": "not an object"})",
                                R"({"id": "203506-c", "from": "1001@h"})"}));
}

TEST_F(MigrationsTest, CreatesPartitionsFromThisMonthAhead) {
  migrate();
  const auto now = std::chrono::system_clock::now();
  std::string error;
  ASSERT_TRUE(ensure_partitions(*conn_, now, 2, &error)) << error;
  const std::vector<std::string> names = partitions(*conn_);
  EXPECT_EQ(names.size(), 4u);  // cdrs_default + this month + 2 ahead
  EXPECT_NE(std::find(names.begin(), names.end(), partition_name_of(now)), names.end())
      << "no partition for this month";
}

TEST_F(MigrationsTest, PartitionsCrossTheYearAndAreIdempotent) {
  migrate();
  std::string error;
  ASSERT_TRUE(ensure_partitions(*conn_, utc(2031, 11, 15), 3, &error)) << error;
  const std::vector<std::string> expected = {"cdrs_default", "cdrs_p203111", "cdrs_p203112", "cdrs_p203201",
                                             "cdrs_p203202"};
  EXPECT_EQ(partitions(*conn_), expected);
  EXPECT_EQ(
      column(*conn_, "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = 'cdrs_p203112'"),
      std::vector<std::string>{"FOR VALUES FROM ('2031-12-01 00:00:00+00') TO ('2032-01-01 00:00:00+00')"});

  ASSERT_TRUE(ensure_partitions(*conn_, utc(2031, 11, 15), 3, &error)) << error;
  EXPECT_EQ(partitions(*conn_), expected);
  // Overlapping: only the missing month is added.
  ASSERT_TRUE(ensure_partitions(*conn_, utc(2032, 1, 31), 2, &error)) << error;
  std::vector<std::string> more = expected;
  more.push_back("cdrs_p203203");
  EXPECT_EQ(partitions(*conn_), more);
}

TEST_F(MigrationsTest, RowsThatLandedInDefaultMoveIntoTheNewPartition) {
  migrate();
  insert_cdr(*conn_, "204003-stray", unix_of(2040, 3, 10));
  insert_cdr(*conn_, "204003-last-second", unix_of(2040, 4, 1) - 12LL * 3600 - 1);  // 2040-03-31T23:59:59Z
  insert_cdr(*conn_, "204004-other-month", unix_of(2040, 4, 1) - 12LL * 3600);      // 2040-04-01T00:00:00Z
  const std::string where_rows = "SELECT id || ' ' || tableoid::regclass::text FROM cdrs ORDER BY id";
  ASSERT_EQ(column(*conn_, where_rows),
            (std::vector<std::string>{"204003-last-second cdrs_default", "204003-stray cdrs_default",
                                      "204004-other-month cdrs_default"}));

  std::string error;
  ASSERT_TRUE(ensure_partitions(*conn_, utc(2040, 3, 15), 0, &error)) << error;
  EXPECT_EQ(partitions(*conn_), (std::vector<std::string>{"cdrs_default", "cdrs_p204003"}));
  EXPECT_EQ(column(*conn_, where_rows),
            (std::vector<std::string>{"204003-last-second cdrs_p204003", "204003-stray cdrs_p204003",
                                      "204004-other-month cdrs_default"}));

  // The moved partition carries the primary key: a replayed row still collides.
  EXPECT_THROW(insert_cdr(*conn_, "204003-stray", unix_of(2040, 3, 10)), pqxx::unique_violation);
  // ... and is a full partition: new rows of the month are routed to it.
  insert_cdr(*conn_, "204003-new", unix_of(2040, 3, 20));
  EXPECT_EQ(column(*conn_, "SELECT tableoid::regclass::text FROM cdrs WHERE id = '204003-new'"),
            std::vector<std::string>{"cdrs_p204003"});
}

}  // namespace
}  // namespace cdrd::test
