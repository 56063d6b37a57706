#include "daemon/db/migrations.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

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

// Months counted from year 0, for comparisons and month arithmetic.
int month_index(const Month& m) { return m.year * 12 + (m.month - 1); }
Month month_at(int index) { return Month{index / 12, index % 12 + 1}; }

// The month of a partition cdrd named cdrs_pYYYYMM; nothing for other names.
std::optional<Month> partition_month(const std::string& name) {
  static const std::string prefix = "cdrs_p";
  if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
  }
  const Month m{std::stoi(name.substr(prefix.size(), 4)), std::stoi(name.substr(prefix.size() + 4, 2))};
  if (m.month < 1 || m.month > 12) return std::nullopt;
  return m;
}

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

namespace {

std::string month_text(const Month& m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", m.year, m.month);
  return buf;
}

// The monthly partitions of cdrs, newest first.
std::vector<std::pair<Month, std::string>> monthly_partitions(pqxx::transaction_base& tx) {
  std::vector<std::pair<Month, std::string>> out;
  for (const auto& row : tx.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                 "WHERE i.inhparent = 'cdrs'::regclass")) {
    const std::string name = row[0].as<std::string>();
    if (const auto m = partition_month(name)) out.emplace_back(*m, name);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return month_index(a.first) > month_index(b.first); });
  return out;
}

// Unix microseconds of the first instant of `m` (UTC).
int64_t month_start_us(const Month& m) {
  std::tm tm{};
  tm.tm_year = m.year - 1900;
  tm.tm_mon = m.month - 1;
  tm.tm_mday = 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000000;
}

// The month retention counts from (see drop_expired_partitions()).
int reference_month(pqxx::transaction_base& tx, std::chrono::system_clock::time_point now,
                    const std::vector<std::pair<Month, std::string>>& partitions) {
  const int own = month_index(month_of(now));
  const pqxx::row db = tx.exec1(
      "SELECT extract(year FROM now() AT TIME ZONE 'UTC')::int, extract(month FROM now() AT TIME ZONE 'UTC')::int");
  const int server = month_index(Month{db[0].as<int>(), db[1].as<int>()});
  int reference = std::min(own, server);
  // Newest first, so this stops at the newest month with rows, which then
  // counts as the current month. EXISTS reads one tuple, not the partition.
  // (Just after a month starts, before its first row, this keeps one month
  // more than the clock alone would: the safe side.)
  for (const auto& [month, name] : partitions) {
    if (month_index(month) > reference) continue;  // ahead of the clocks: cannot move the reference up
    if (tx.exec1("SELECT EXISTS (SELECT 1 FROM " + tx.quote_name(name) + ")")[0].as<bool>()) {
      reference = month_index(month);
      break;
    }
  }
  if (reference < own) {
    spdlog::info("retention counts from {} (the database clock, or the newest month holding rows), not from {}",
                 month_text(month_at(reference)), month_text(month_at(own)));
  }
  return reference;
}

}  // namespace

bool MonthlyPartitions::covers(int64_t unix_us) const {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), unix_us,
                             [](int64_t us, const std::pair<int64_t, int64_t>& r) { return us < r.first; });
  if (it == ranges.begin()) return false;
  --it;
  return unix_us < it->second;
}

MonthlyPartitions monthly_partition_ranges(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn, "cdrd-partition-months");
  MonthlyPartitions out;
  for (const auto& [month, name] : monthly_partitions(tx)) {
    out.ranges.emplace_back(month_start_us(month), month_start_us(month.next()));
  }
  std::sort(out.ranges.begin(), out.ranges.end());
  return out;
}

bool drop_expired_partitions(pqxx::connection& conn, std::chrono::system_clock::time_point now, int retention_months,
                             std::vector<std::string>* dropped, std::string* error) {
  if (retention_months <= 0) return true;
  std::string current;
  try {
    std::vector<std::pair<Month, std::string>> partitions;
    int reference = 0;
    {
      pqxx::work tx(conn, "cdrd-retention");
      partitions = monthly_partitions(tx);
      reference = reference_month(tx, now, partitions);
      tx.commit();
    }
    for (const auto& [month, name] : partitions) {
      // Month M ends where M+1 starts; it ended more than R months ago when
      // M + 1 + R <= the reference month.
      if (month_index(month) + 1 + retention_months > reference) continue;
      current = name;
      pqxx::work tx(conn, "cdrd-retention-drop");
      take_schema_lock(tx);
      // DETACH takes an ACCESS EXCLUSIVE lock on cdrs: behind a long read
      // (an export) it would queue every writer and reader after it. Give up
      // instead; the next day's run tries again.
      tx.exec("SET LOCAL lock_timeout = '10s'");
      if (!partition_exists(tx, name)) continue;
      const double rows = tx.exec_params1("SELECT reltuples FROM pg_class WHERE relname = $1", name)[0].as<double>();
      tx.exec("ALTER TABLE cdrs DETACH PARTITION " + tx.quote_name(name));
      tx.exec("DROP TABLE " + tx.quote_name(name));
      tx.commit();
      spdlog::info("retention: dropped partition {} (month {}, about {} rows; database.retention_months = {})", name,
                   month_text(month), rows < 0 ? 0 : static_cast<int64_t>(rows), retention_months);
      if (dropped) dropped->push_back(name);
    }
    // The links of legs in dropped months (cdr_links is not partitioned):
    // everything that ended before the oldest month kept, but for the strays
    // cdrs_default still holds.
    if (dropped != nullptr && !dropped->empty()) {
      current.clear();
      pqxx::work tx(conn, "cdrd-retention-links");
      const Month oldest_kept = month_at(reference - retention_months);
      const pqxx::result deleted = tx.exec_params(
          "DELETE FROM cdr_links l WHERE ts < $1::timestamptz AND NOT EXISTS (SELECT 1 FROM"
          " cdrs_default d WHERE d.call_id = l.call_id AND d.account_id = l.account_id)",
          oldest_kept.start());
      tx.commit();
      spdlog::info("retention: removed {} call links of legs before {}", deleted.affected_rows(),
                   month_text(oldest_kept));
    }
    return true;
  } catch (const std::exception& e) {
    *error = "retention" + (current.empty() ? std::string() : " of partition " + current) + ": " + e.what();
    return false;
  }
}

}  // namespace cdrd
