// cdrd_api_bench_load: fills `cdrs` with the read-API benchmark's synthetic
// data set (bench/api_bench_rows.sql) inside PostgreSQL, chunk by chunk, and
// reports rows/s. Resumable: each chunk commits together with the count of
// rows loaded, and a rerun with the same parameters continues from there.
// Run by hand (bench/run_api_bench.sh); never part of ctest.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <thread>

#include "bench/api_bench_dataset.h"
#include "bench/guarded_main.h"
#include "daemon/core/cdr_record.h"
#include "daemon/db/cdr_row.h"

namespace cdrd {
namespace {

// The advisory lock cdrd's migrations and partition maintenance hold
// (daemon/db/migrations.cpp), so creating partitions here cannot race them.
constexpr long long kSchemaLockKey = 0x63647264;

struct LoadSettings {
  std::string dsn;
  std::string sql_file;
  int64_t rows = 10'000'000;
  int accounts = 1000;
  double skew = 0.8;
  int64_t seed = 1;
  int months = 3;
  std::string end_month;  // YYYY-MM, exclusive; default: the current month (UTC)
  int64_t chunk_rows = 1'000'000;
  int jobs = 2;
  bool truncate = false;
  int verify_rows = 200;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Parses "YYYY-MM": the year at most 4 digits, the month at most 2, nothing
// after them (what sscanf("%4d-%2d%c") == 2 accepted, less leading blanks and
// '+' signs). The caller checks the range.
bool parse_year_month(const std::string& text, int* year, int* month) {
  const char* const end = text.data() + text.size();
  const char* p = text.data();
  const auto [after_year, year_error] = std::from_chars(p, std::min(end, p + 4), *year);
  if (year_error != std::errc() || after_year == end || *after_year != '-') return false;
  p = after_year + 1;
  const auto [after_month, month_error] = std::from_chars(p, std::min(end, p + 2), *month);
  return month_error == std::errc() && after_month == end;
}

// [start, end) of the window as Unix seconds: `months` calendar months that
// end where `end_month` (YYYY-MM) begins.
bool window_bounds(const LoadSettings& s, int64_t* start, int64_t* end, std::string* error) {
  std::tm tm{};
  if (s.end_month.empty()) {
    const std::time_t now = std::time(nullptr);
    gmtime_r(&now, &tm);
  } else {
    int year = 0;
    int month = 0;
    if (!parse_year_month(s.end_month, &year, &month) || month < 1 || month > 12 || year < 1971) {
      *error = "--end-month: expected YYYY-MM, got '" + s.end_month + "'";
      return false;
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
  }
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  *end = timegm(&tm);
  tm.tm_mon -= s.months;
  *start = timegm(&tm);
  return true;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return in ? text.str() : std::string();
}

// cdrd's name of the monthly partition that starts at `month_start`.
std::string partition_name(int64_t month_start) {
  const std::string date = utc_date(month_start);
  return "cdrs_p" + date.substr(0, 4) + date.substr(5, 2);
}

// Creates the monthly partitions of the window the way cdrd names them
// (cdrs_pYYYYMM), unless they exist.
void create_partitions(pqxx::connection& conn, const BenchDataset& d) {
  for (const auto& [from, to] : window_months(d)) {
    pqxx::work tx(conn);
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLockKey) + ")");
    const std::string name = partition_name(from);
    const bool exists = !tx.exec_params("SELECT 1 FROM pg_class WHERE relname = $1", name).empty();
    if (!exists) {
      tx.exec("CREATE TABLE " + tx.quote_name(name) + " PARTITION OF cdrs FOR VALUES FROM (to_timestamp(" +
              std::to_string(from) + ")) TO (to_timestamp(" + std::to_string(to) + "))");
      fmt::print("created partition {}\n", name);
    }
    tx.commit();
  }
}

// The parameters recorded by a previous run must be this run's, or the rows
// already in the table would belong to another data set.
bool same_parameters(const BenchDataset& a, const BenchDataset& b, std::string* difference) {
  auto differs = [&](const std::string& name, const std::string& was, const std::string& now) {
    *difference = name + " was " + was + ", now " + now;
    return false;
  };
  if (a.total_rows != b.total_rows) return differs("rows", std::to_string(a.total_rows), std::to_string(b.total_rows));
  if (a.accounts != b.accounts) return differs("accounts", std::to_string(a.accounts), std::to_string(b.accounts));
  if (a.skew != b.skew) return differs("skew", fmt::format("{}", a.skew), fmt::format("{}", b.skew));
  if (a.seed != b.seed) return differs("seed", std::to_string(a.seed), std::to_string(b.seed));
  if (a.window_start_unix != b.window_start_unix || a.window_end_unix != b.window_end_unix) {
    return differs("window", utc_date(a.window_start_unix) + ".." + utc_date(a.window_end_unix),
                   utc_date(b.window_start_unix) + ".." + utc_date(b.window_end_unix));
  }
  return true;
}

struct RowRange {
  int64_t first = 0;
  int64_t last = 0;  // exclusive
};

// The row ranges not yet committed, cut into chunks of at most chunk_rows.
std::vector<RowRange> pending_chunks(pqxx::connection& conn, const BenchDataset& d, int64_t chunk_rows) {
  std::vector<RowRange> done;
  {
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec("SELECT first_n, last_n FROM cdrd_bench_chunks ORDER BY first_n")) {
      done.push_back({row[0].as<int64_t>(), row[1].as<int64_t>()});
    }
  }
  done.push_back({d.total_rows, d.total_rows});
  std::vector<RowRange> pending;
  int64_t from = 0;
  for (const RowRange& r : done) {
    for (; from < r.first; from = std::min(r.first, from + chunk_rows)) {
      pending.push_back({from, std::min(r.first, from + chunk_rows)});
    }
    from = std::max(from, r.last);
  }
  return pending;
}

// Progress over all jobs, printed after each chunk.
struct ChunkProgress {
  int64_t rows_to_load = 0;
  Clock::time_point start;
  std::mutex mutex;
  int64_t rows_loaded = 0;
};

// Inserts one chunk and records it in the same transaction, so a chunk is
// either wholly loaded and recorded or not at all.
void load_chunk(pqxx::connection& conn, const BenchDataset& d, const RowRange& chunk, ChunkProgress* progress) {
  const auto chunk_start = Clock::now();
  pqxx::work tx(conn);
  const auto inserted =
      tx.exec_params("SELECT cdrd_bench_insert($1, $2, $3, $4, $5, $6, to_timestamp($7), to_timestamp($8))",
                     chunk.first, chunk.last, d.total_rows, d.accounts, d.skew, d.seed, d.window_start_unix,
                     d.window_end_unix)[0][0]
          .as<int64_t>();
  const double chunk_s = seconds_since(chunk_start);
  tx.exec_params("INSERT INTO cdrd_bench_chunks (first_n, last_n, seconds) VALUES ($1, $2, $3)", chunk.first,
                 chunk.last, chunk_s);
  tx.commit();
  const int64_t rows = chunk.last - chunk.first;
  std::lock_guard<std::mutex> lock(progress->mutex);
  progress->rows_loaded += rows;
  const double rate = static_cast<double>(progress->rows_loaded) / seconds_since(progress->start);
  fmt::print(
      "rows {:>10} .. {:>10}: {:>8} inserted{} in {:.1f} s ({:.0f} rows/s); all jobs {:.0f} rows/s, ETA {:.0f} s\n",
      chunk.first, chunk.last, inserted, inserted == rows ? "" : " (the rest were already there)", chunk_s,
      static_cast<double>(rows) / chunk_s, rate,
      static_cast<double>(progress->rows_to_load - progress->rows_loaded) / rate);
  std::fflush(stdout);
}

// Checks a sample of loaded rows: the typed columns must equal what cdrd's
// writer extracts from the same record (extract_columns). Returns the number
// of rows that differ or are missing.
int verify_sample(pqxx::connection& conn, const BenchDataset& d, int sample) {
  std::mt19937_64 rng(static_cast<uint64_t>(d.seed));
  std::uniform_int_distribution<int64_t> any_row(0, d.total_rows - 1);
  std::vector<int64_t> ns;
  ns.reserve(static_cast<size_t>(std::max(sample, 0)));
  for (int i = 0; i < sample; ++i) ns.push_back(any_row(rng));
  int bad = 0;
  for (const BenchRowKey& key : bench_row_keys(conn, d, ns)) {
    pqxx::read_transaction tx(conn);
    const pqxx::result stored =
        tx.exec_params("SELECT record::text FROM cdrs WHERE id = $1 AND gregorian_ts = $2 AND account_id = $3", key.id,
                       key.gregorian_ts, key.account_id);
    if (stored.size() != 1) {
      fmt::print(stderr, "verify: row {} ({}) is missing\n", key.n, key.id);
      ++bad;
      continue;
    }
    CdrRow row;
    std::string error;
    if (!extract_columns(CdrRecord{stored[0][0].as<std::string>(), "", ""}, &row, &error)) {
      fmt::print(stderr, "verify: row {} ({}): the writer would refuse its record: {}\n", key.n, key.id, error);
      ++bad;
      continue;
    }
    // PostgreSQL compares the typed values, so the text forms need not match.
    const pqxx::result same = tx.exec_params(
        "SELECT ts = $2::timestamptz AND gregorian_ts = $3 AND account_id = $4 AND call_id = $5 "
        "AND started_at IS NOT DISTINCT FROM $6::timestamptz AND answered_at IS NOT DISTINCT FROM $7::timestamptz "
        "AND duration_seconds = $8 AND billing_seconds = $9 AND ringing_seconds = $10 "
        "AND call_direction IS NOT DISTINCT FROM $11 AND hangup_cause IS NOT DISTINCT FROM $12 "
        "AND hangup_code IS NOT DISTINCT FROM $13 AND billing_status IS NOT DISTINCT FROM $14 "
        "AND caller_id_number IS NOT DISTINCT FROM $15 AND callee_id_number IS NOT DISTINCT FROM $16 "
        "AND from_uri IS NOT DISTINCT FROM $17 AND to_uri IS NOT DISTINCT FROM $18 "
        "AND other_leg_call_id IS NOT DISTINCT FROM $19 AND interaction_id IS NOT DISTINCT FROM $20 "
        "AND media_server IS NOT DISTINCT FROM $21 AND leg IS NOT DISTINCT FROM $22 AND source = $23 "
        "AND imported = $24 AND is_loopback = $25 AND raw IS NULL "
        "FROM cdrs WHERE id = $1 AND gregorian_ts = $3",
        row.id, row.ts, row.gregorian_ts, row.account_id, row.call_id, row.started_at, row.answered_at,
        row.duration_seconds, row.billing_seconds, row.ringing_seconds, row.call_direction, row.hangup_cause,
        row.hangup_code, row.billing_status, row.caller_id_number, row.callee_id_number, row.from_uri, row.to_uri,
        row.other_leg_call_id, row.interaction_id, row.media_server, row.leg, row.source, row.imported,
        row.is_loopback);
    if (same.size() != 1 || !same[0][0].as<bool>()) {
      fmt::print(stderr, "verify: row {} ({}): typed columns differ from the writer's extraction\n", key.n, key.id);
      ++bad;
    }
  }
  return bad;
}

int run(const LoadSettings& s) {
  BenchDataset want;
  want.total_rows = s.rows;
  want.accounts = s.accounts;
  want.skew = s.skew;
  want.seed = s.seed;
  std::string error;
  if (!window_bounds(s, &want.window_start_unix, &want.window_end_unix, &error)) {
    fmt::print(stderr, "{}\n", error);
    return 2;
  }
  const std::string sql = read_file(s.sql_file);
  if (sql.empty()) {
    fmt::print(stderr, "cannot read --sql {}\n", s.sql_file);
    return 2;
  }

  pqxx::connection conn(s.dsn);
  // A lost chunk is reloaded by the next run; no need to wait for the WAL flush.
  pqxx::nontransaction(conn).exec("SET synchronous_commit = off");
  {
    pqxx::read_transaction tx(conn);
    if (tx.exec("SELECT to_regclass('cdrs') IS NULL")[0][0].as<bool>()) {
      fmt::print(stderr, "table cdrs does not exist: start cdrd once (or run cdrd --migrate) first\n");
      return 1;
    }
    want.sql_md5 = tx.exec_params("SELECT md5($1)", sql)[0][0].as<std::string>();
  }

  // Checked before the SQL file replaces the functions: rows loaded by other
  // definitions would no longer be the rows the bench computes.
  BenchDataset have;
  bool recorded = !s.truncate && read_bench_dataset(conn, &have, &error);
  if (s.truncate) {
    pqxx::work tx(conn);
    fmt::print("--truncate: emptying cdrs (every partition) and the load record\n");
    tx.exec("TRUNCATE cdrs");
    tx.exec("DROP TABLE IF EXISTS cdrd_bench_chunks, cdrd_bench_load");
    tx.commit();
    recorded = false;
  } else if (recorded && !same_parameters(have, want, &error)) {
    fmt::print(stderr, "this database holds another data set ({}); rerun with --truncate to replace it\n", error);
    return 1;
  }
  pqxx::nontransaction(conn).exec(sql);
  if (!recorded) {
    pqxx::work tx(conn);
    const bool foreign = !tx.exec_params(
                                "SELECT 1 FROM cdrs WHERE ts >= to_timestamp($1) AND ts < to_timestamp($2) "
                                "LIMIT 1",
                                want.window_start_unix, want.window_end_unix)
                              .empty();
    if (foreign) {
      fmt::print(stderr, "cdrs already holds rows in {}..{} that this loader did not write; use --truncate\n",
                 utc_date(want.window_start_unix), utc_date(want.window_end_unix));
      return 1;
    }
    tx.exec_params(
        "INSERT INTO cdrd_bench_load (total_rows, accounts, skew, seed, window_start, window_end, sql_md5) "
        "VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6), $7)",
        want.total_rows, want.accounts, want.skew, want.seed, want.window_start_unix, want.window_end_unix,
        want.sql_md5);
    tx.commit();
  }
  BenchDataset d;
  if (!read_bench_dataset(conn, &d, &error)) {
    fmt::print(stderr, "{}\n", error);
    return 1;
  }
  fmt::print("data set: {} rows, {} accounts (skew {}), seed {}, window {} .. {} (exclusive); {} rows already loaded\n",
             d.total_rows, d.accounts, d.skew, d.seed, utc_date(d.window_start_unix), utc_date(d.window_end_unix),
             d.loaded_rows);
  if (d.finished) {
    fmt::print("already loaded, vacuumed and analyzed: nothing to do\n");
    return verify_sample(conn, d, s.verify_rows) == 0 ? 0 : 1;
  }
  create_partitions(conn, d);

  const std::vector<RowRange> pending = pending_chunks(conn, d, s.chunk_rows);
  const int64_t pending_rows = d.total_rows - d.loaded_rows;
  fmt::print("loading {} rows in {} chunks of at most {} rows, {} job(s)\n", pending_rows, pending.size(), s.chunk_rows,
             s.jobs);
  std::fflush(stdout);
  const auto start = Clock::now();
  ChunkProgress progress;
  progress.rows_to_load = pending_rows;
  progress.start = start;
  std::atomic<size_t> next_chunk{0};
  std::vector<std::string> job_errors(static_cast<size_t>(s.jobs));
  std::vector<std::thread> jobs;
  jobs.reserve(static_cast<size_t>(s.jobs));
  for (int j = 0; j < s.jobs; ++j) {
    jobs.emplace_back([&, j] {
      try {
        pqxx::connection job_conn(s.dsn);
        pqxx::nontransaction(job_conn).exec("SET synchronous_commit = off");
        for (size_t i = next_chunk++; i < pending.size(); i = next_chunk++) {
          load_chunk(job_conn, d, pending[i], &progress);
        }
      } catch (const std::exception& e) {
        job_errors[static_cast<size_t>(j)] = e.what();
        next_chunk = pending.size();  // the other jobs finish their chunk and stop
      }
    });
  }
  for (auto& job : jobs) job.join();
  for (const auto& e : job_errors) {
    if (!e.empty()) {
      fmt::print(stderr, "load failed (committed chunks stay; rerun to continue): {}\n", e);
      return 1;
    }
  }
  const double load_s = seconds_since(start);

  // Sets hint bits and the visibility map once here, so the first benchmark
  // queries do not pay for it (autovacuum would, on a live table), and gives
  // the planner statistics for the new rows.
  const auto vacuum_start = Clock::now();
  {
    const auto months = window_months(d);
    std::atomic<size_t> next_month{0};
    std::vector<std::thread> vacuums;
    for (int j = 0; j < std::min<int>(s.jobs, static_cast<int>(months.size())); ++j) {
      vacuums.emplace_back([&] {
        try {
          pqxx::connection job_conn(s.dsn);
          pqxx::nontransaction tx(job_conn);
          for (size_t i = next_month++; i < months.size(); i = next_month++) {
            tx.exec("VACUUM (ANALYZE) " + tx.quote_name(partition_name(months[i].first)));
          }
        } catch (const std::exception& e) {
          // The rows are loaded; only the statistics and hint bits are missing.
          fmt::print(stderr, "VACUUM (ANALYZE) failed: {}\n", e.what());
        }
      });
    }
    for (auto& v : vacuums) v.join();
    pqxx::nontransaction tx(conn);
    tx.exec("ANALYZE cdrs");
    tx.exec("UPDATE cdrd_bench_load SET finished_at = now()");
  }
  const double vacuum_s = seconds_since(vacuum_start);

  int64_t bytes = 0;
  {
    pqxx::read_transaction tx(conn);
    for (const auto& [from, to] : window_months(d)) {
      (void)to;
      bytes += tx.exec_params("SELECT pg_total_relation_size($1::regclass)", partition_name(from))[0][0].as<int64_t>();
    }
  }
  const int64_t loaded_now = pending_rows;
  fmt::print("loaded {} rows in {:.1f} s: {:.0f} rows/s\n", loaded_now, load_s,
             load_s > 0 ? static_cast<double>(loaded_now) / load_s : 0.0);
  fmt::print("VACUUM (ANALYZE) {:.1f} s; with it {:.0f} rows/s\n", vacuum_s,
             static_cast<double>(loaded_now) / (load_s + vacuum_s));
  fmt::print("window partitions {:.2f} GiB with indexes ({:.0f} bytes a row)\n", static_cast<double>(bytes) / (1 << 30),
             static_cast<double>(bytes) / static_cast<double>(d.total_rows));
  const int bad = verify_sample(conn, d, s.verify_rows);
  fmt::print("verify: {} of {} sampled rows match the writer's typed columns\n", s.verify_rows - bad, s.verify_rows);
  return bad == 0 ? 0 : 1;
}

// main's work; main only catches what escapes it.
int run_main(int argc, char** argv) {
  LoadSettings s;
  s.sql_file = CDRD_BENCH_ROWS_SQL;
  CLI::App app{"cdrd_api_bench_load: loads the read-API benchmark's synthetic CDRs into cdrd's database"};
  app.add_option("--dsn", s.dsn, "libpq DSN of cdrd's database (migrated: cdrd has started once)")->required();
  app.add_option("--rows", s.rows, "rows (call legs) in the data set")
      ->check(CLI::Range(int64_t{2}, int64_t{1'000'000'000}))
      ->capture_default_str();
  app.add_option("--accounts", s.accounts, "accounts")->check(CLI::Range(1, 1'000'000))->capture_default_str();
  app.add_option("--skew", s.skew, "0 = accounts equally big; s > 0 = account i has a share ~ (i+1)^-s")
      ->check(CLI::Range(0.0, 3.0))
      ->capture_default_str();
  app.add_option("--seed", s.seed, "seed of the data set")->capture_default_str();
  app.add_option("--months", s.months, "calendar months of data")->check(CLI::Range(1, 12))->capture_default_str();
  app.add_option("--end-month", s.end_month, "YYYY-MM: the data ends where this month begins (default: this month)");
  app.add_option("--chunk-rows", s.chunk_rows, "rows per INSERT statement and transaction")
      ->check(CLI::Range(int64_t{1000}, int64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--jobs", s.jobs, "connections loading chunks side by side")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--truncate", s.truncate, "empty cdrs (all partitions) first and start the data set over");
  app.add_option("--verify", s.verify_rows, "rows checked against cdrd's column extraction at the end")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--sql", s.sql_file, "the data-set SQL (bench/api_bench_rows.sql)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cdrd_api_bench_load: {}\n", e.what());
    return 1;
  }
}

}  // namespace
}  // namespace cdrd

int main(int argc, char** argv) { return cdrd::bench::guarded_main("cdrd_api_bench_load", cdrd::run_main, argc, argv); }
