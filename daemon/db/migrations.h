// Schema migrations: schema/NNN_name.sql, compiled into the binary,
// applied in order, each once (table schema_migrations), each in its own
// transaction, under an advisory lock so two cdrd processes do not race.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/connection>

namespace cdrd {

// Applies the pending migrations. *applied gets the names applied now.
bool apply_migrations(pqxx::connection& conn, std::vector<std::string>* applied, std::string* error);

// Makes sure monthly partitions of `cdrs` exist from the month of `now` to
// `months_ahead` months after it (cdrs_pYYYYMM). Idempotent.
bool ensure_partitions(pqxx::connection& conn, std::chrono::system_clock::time_point now, int months_ahead,
                       std::string* error);

// The months that have a partition of their own (cdrs_pYYYYMM), as sorted
// [start, end) ranges of Unix microseconds (UTC).
struct MonthlyPartitions {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  bool covers(int64_t unix_us) const;
};
MonthlyPartitions monthly_partition_ranges(pqxx::connection& conn);  // throws pqxx errors

// database.retention_months: detaches and drops the monthly partitions
// cdrs_pYYYYMM whose month ended more than `retention_months` months before
// the reference month, one transaction per partition (DETACH, DROP), under
// the schema lock and a lock_timeout. 0 = keep everything. Never touches
// cdrs_default, so never the current month or the months ahead.
// The reference month is the earliest of: the month of `now` (cdrd's
// clock), the month of PostgreSQL's now() and the newest monthly partition
// holding any row. A clock that jumps ahead (cdrd's or the server's) thus
// cannot drop the months that hold the newest data: retention always keeps
// `retention_months` whole months before the newest month with rows.
// *dropped gets the names dropped (also on failure, those dropped before it).
bool drop_expired_partitions(pqxx::connection& conn, std::chrono::system_clock::time_point now, int retention_months,
                             std::vector<std::string>* dropped, std::string* error);

}  // namespace cdrd
