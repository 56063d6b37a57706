// The read-API benchmark's data set: the parameters of a load, kept in the
// tables cdrd_bench_load and cdrd_bench_chunks that bench/api_bench_rows.sql
// creates, and the SQL
// functions of that file that define each row. The loader writes the
// parameters; the bench reads them back to pick the accounts, days and ids it
// requests.
#pragma once

#include <cstdint>
#include <pqxx/connection>
#include <string>
#include <vector>

namespace cdrd {

struct BenchDataset {
  int64_t total_rows = 0;
  int accounts = 0;
  double skew = 0;
  int64_t seed = 0;
  int64_t window_start_unix = 0;  // inclusive, a month boundary (UTC)
  int64_t window_end_unix = 0;    // exclusive, a month boundary (UTC)
  std::string sql_md5;            // of bench/api_bench_rows.sql as loaded
  int64_t loaded_rows = 0;        // in the committed chunks (cdrd_bench_chunks)
  bool finished = false;          // every row loaded, then VACUUM (ANALYZE) ran
};

// Reads the one row of cdrd_bench_load. False with *error when the table or
// its row is missing (nothing was loaded).
bool read_bench_dataset(pqxx::connection& conn, BenchDataset* out, std::string* error);

// One row of the data set, as the bench requests it.
struct BenchRowKey {
  int64_t n = 0;
  std::string account_id;
  std::string id;
  int64_t gregorian_ts = 0;  // the record's timestamp
};

// The keys of rows `ns` (each in [0, total_rows)), in the order given,
// computed by cdrd_bench_records() without reading cdrs.
std::vector<BenchRowKey> bench_row_keys(pqxx::connection& conn, const BenchDataset& d, const std::vector<int64_t>& ns);

// The ids of accounts 0 .. accounts-1 (cdrd_bench_account_id()).
std::vector<std::string> bench_account_ids(pqxx::connection& conn, int accounts);

// [start, end) of each calendar month (UTC) of the window, as Unix seconds.
std::vector<std::pair<int64_t, int64_t>> window_months(const BenchDataset& d);

// "YYYY-MM-DD" of a Unix time (UTC).
std::string utc_date(int64_t unix_seconds);

}  // namespace cdrd
