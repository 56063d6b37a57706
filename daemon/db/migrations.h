// Schema migrations: schema/NNN_name.sql, compiled into the binary,
// applied in order, each once (table schema_migrations), each in its own
// transaction, under an advisory lock so two cdrd processes do not race.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace cdrd {

// Applies the pending migrations. *applied gets the names applied now.
bool apply_migrations(pqxx::connection& conn, std::vector<std::string>* applied, std::string* error);

// Makes sure monthly partitions of `cdrs` exist from the month of `now` to
// `months_ahead` months after it (cdrs_pYYYYMM). Idempotent.
bool ensure_partitions(pqxx::connection& conn, std::chrono::system_clock::time_point now, int months_ahead,
                       std::string* error);

}  // namespace cdrd
