#include "daemon/db/migrations.h"

#include <cstdio>
#include <ctime>
#include <pqxx/pqxx>

#include "daemon/db/schema_sql.h"

namespace cdrd {
namespace {

// pg_advisory_xact_lock key shared by every cdrd process on the database
// ("cdrd" in ASCII), held by migrations and partition maintenance.
constexpr long long kSchemaLockKey = 0x63647264;

void take_schema_lock(pqxx::transaction_base& tx) {
  tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLockKey) + ")");
}

struct Month {
  int year;
  int month;  // 1..12
  Month next() const { return month == 12 ? Month{year + 1, 1} : Month{year, month + 1}; }
  std::string start() const {  // 'YYYY-MM-01 00:00:00+00'
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-01 00:00:00+00", year, month);
    return buf;
  }
  std::string partition_name() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "cdrs_p%04d%02d", year, month);
    return buf;
  }
};

Month month_of(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return Month{tm.tm_year + 1900, tm.tm_mon + 1};
}

bool partition_exists(pqxx::transaction_base& tx, const std::string& name) {
  return !tx.exec_params(
                "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'cdrs'::regclass AND c.relname = $1",
                name)
              .empty();
}

// Creates the partition for `m`. Rows of that month that already landed in
// cdrs_default (the partition was missing when they arrived) would make a
// plain CREATE ... PARTITION OF fail, so they are moved into the new table
// before it is attached, all in the caller's transaction.
void create_partition(pqxx::transaction_base& tx, const Month& m) {
  const std::string name = tx.quote_name(m.partition_name());
  const std::string from = tx.quote(m.start());
  const std::string to = tx.quote(m.next().start());
  const std::string bounds = "FOR VALUES FROM (" + from + ") TO (" + to + ")";
  const std::string range = "ts >= " + from + " AND ts < " + to;
  // Parent first, then (recursively) every partition: the same order an
  // INSERT locks in, so this cannot deadlock with the writer.
  tx.exec("LOCK TABLE cdrs IN ACCESS EXCLUSIVE MODE");
  const bool strays = !tx.exec("SELECT 1 FROM cdrs_default WHERE " + range + " LIMIT 1").empty();
  if (!strays) {
    tx.exec("CREATE TABLE " + name + " PARTITION OF cdrs " + bounds);
    return;
  }
  tx.exec("CREATE TABLE " + name + " (LIKE cdrs INCLUDING ALL)");
  tx.exec("INSERT INTO " + name + " SELECT * FROM cdrs_default WHERE " + range);
  tx.exec("DELETE FROM cdrs_default WHERE " + range);
  tx.exec("ALTER TABLE cdrs ATTACH PARTITION " + name + " " + bounds);
}

}  // namespace

bool apply_migrations(pqxx::connection& conn, std::vector<std::string>* applied, std::string* error) {
  std::string current;
  try {
    {
      pqxx::work tx(conn, "cdrd-migrations");
      take_schema_lock(tx);
      tx.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " name text PRIMARY KEY,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    for (const auto& [name, sql] : schema_migrations()) {
      current = name;
      pqxx::work tx(conn, "cdrd-migration");
      take_schema_lock(tx);
      if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE name = $1", name).empty()) continue;
      tx.exec(sql);
      tx.exec_params("INSERT INTO schema_migrations (name) VALUES ($1)", name);
      tx.commit();
      if (applied) applied->push_back(name);
    }
    return true;
  } catch (const std::exception& e) {
    *error = current.empty() ? std::string("schema_migrations: ") + e.what() : "migration " + current + ": " + e.what();
    return false;
  }
}

bool ensure_partitions(pqxx::connection& conn, std::chrono::system_clock::time_point now, int months_ahead,
                       std::string* error) {
  Month m = month_of(now);
  try {
    for (int i = 0; i <= months_ahead; ++i, m = m.next()) {
      pqxx::work tx(conn, "cdrd-partitions");
      if (partition_exists(tx, m.partition_name())) continue;
      take_schema_lock(tx);
      // Another process may have created it while we waited for the lock.
      if (!partition_exists(tx, m.partition_name())) create_partition(tx, m);
      tx.commit();
    }
    return true;
  } catch (const std::exception& e) {
    *error = "partition " + m.partition_name() + ": " + e.what();
    return false;
  }
}

}  // namespace cdrd
