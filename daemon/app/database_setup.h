// Resolves database.dsn: starts the private PostgreSQL for "embedded", and
// brings the schema up to date. Shared by the daemon and `cdrd --migrate`.
#pragma once

#include <memory>
#include <string>

#include "daemon/config/config.h"
#include "daemon/db/embedded_postgres.h"

namespace cdrd {

struct DatabaseHandle {
  std::unique_ptr<EmbeddedPostgres> embedded;  // null for an external database
  std::string dsn;
};

// Starts the embedded server when configured. False with *error on failure.
bool open_database(const Config& config, DatabaseHandle* out, std::string* error);

// Applies migrations and creates partitions ahead. False with *error (the
// database's message) when it cannot.
bool migrate_database(const Config& config, const std::string& dsn, std::string* error);

}  // namespace cdrd
