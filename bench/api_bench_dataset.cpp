#include "bench/api_bench_dataset.h"

#include <ctime>
#include <pqxx/pqxx>

namespace cdrd {
namespace {

// The parameters every data-set function takes after the row range, in order:
// total_rows, accounts, skew, seed, window_start, window_end.
constexpr const char* kDatasetArgs = "$2, $3, $4, $5, to_timestamp($6), to_timestamp($7)";

std::tm utc_tm(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

bool read_bench_dataset(pqxx::connection& conn, BenchDataset* out, std::string* error) {
  pqxx::read_transaction tx(conn);
  if (tx.exec("SELECT to_regclass('cdrd_bench_load') IS NOT NULL")[0][0].as<bool>() == false) {
    *error = "no benchmark data set in this database (table cdrd_bench_load is missing): run cdrd_api_bench_load";
    return false;
  }
  const pqxx::result r = tx.exec(
      "SELECT total_rows, accounts, skew, seed, extract(epoch FROM window_start)::bigint, "
      "extract(epoch FROM window_end)::bigint, "
      "(SELECT coalesce(sum(last_n - first_n), 0) FROM cdrd_bench_chunks), finished_at IS NOT NULL, sql_md5 "
      "FROM cdrd_bench_load");
  if (r.empty()) {
    *error = "cdrd_bench_load is empty: run cdrd_api_bench_load";
    return false;
  }
  const auto row = r[0];
  out->total_rows = row[0].as<int64_t>();
  out->accounts = row[1].as<int>();
  out->skew = row[2].as<double>();
  out->seed = row[3].as<int64_t>();
  out->window_start_unix = row[4].as<int64_t>();
  out->window_end_unix = row[5].as<int64_t>();
  out->loaded_rows = row[6].as<int64_t>();
  out->finished = row[7].as<bool>();
  out->sql_md5 = row[8].as<std::string>();
  return true;
}

std::vector<BenchRowKey> bench_row_keys(pqxx::connection& conn, const BenchDataset& d, const std::vector<int64_t>& ns) {
  std::string array = "{";
  for (size_t i = 0; i < ns.size(); ++i) {
    if (i > 0) array += ',';
    array += std::to_string(ns[i]);
  }
  array += '}';
  pqxx::read_transaction tx(conn);
  const pqxx::result r = tx.exec_params(
      std::string("SELECT p.n, b.record->>'account_id', b.record->>'id', (b.record->>'timestamp')::bigint "
                  "FROM unnest($1::bigint[]) WITH ORDINALITY AS p(n, ord), "
                  "LATERAL cdrd_bench_records(p.n, p.n + 1, ") +
          kDatasetArgs + ") AS b ORDER BY p.ord",
      array, d.total_rows, d.accounts, d.skew, d.seed, d.window_start_unix, d.window_end_unix);
  std::vector<BenchRowKey> keys;
  keys.reserve(r.size());
  for (const auto& row : r) {
    keys.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<int64_t>()});
  }
  return keys;
}

std::vector<std::string> bench_account_ids(pqxx::connection& conn, int accounts) {
  pqxx::read_transaction tx(conn);
  const pqxx::result r =
      tx.exec_params("SELECT cdrd_bench_account_id(i) FROM generate_series(0, $1 - 1) AS i ORDER BY i", accounts);
  std::vector<std::string> ids;
  ids.reserve(r.size());
  for (const auto& row : r) ids.push_back(row[0].as<std::string>());
  return ids;
}

std::vector<std::pair<int64_t, int64_t>> window_months(const BenchDataset& d) {
  std::vector<std::pair<int64_t, int64_t>> months;
  std::tm tm = utc_tm(d.window_start_unix);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  int64_t start = timegm(&tm);
  while (start < d.window_end_unix) {
    ++tm.tm_mon;  // timegm normalizes month 12 into January of the next year
    const int64_t end = timegm(&tm);
    months.emplace_back(start, end);
    start = end;
  }
  return months;
}

std::string utc_date(int64_t unix_seconds) {
  const std::tm tm = utc_tm(unix_seconds);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace cdrd
