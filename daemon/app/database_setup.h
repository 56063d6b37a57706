// Resolves database.dsn: starts the private PostgreSQL for "embedded", and
// brings the schema up to date. Shared by the daemon and `cdrd --migrate`.
#pragma once

#include <functional>
#include <memory>
#include <pqxx/connection>
#include <string>

#include "daemon/app/state_dir_lock.h"
#include "daemon/config/config.h"
#include "daemon/db/embedded_postgres.h"

namespace cdrd {

struct DatabaseHandle {
  // state_dir's lock: taken by open_database() for "embedded" unless the
  // caller (the daemon, for its spool) already holds it. Declared first so
  // it is released last, after the embedded server has stopped.
  std::unique_ptr<StateDirLock> state_lock;
  std::unique_ptr<EmbeddedPostgres> embedded;  // null for an external database
  std::string dsn;
};

// Starts the embedded server when configured, after taking state_dir's lock
// (so a server still running on its data directory can only be the leftover
// of a cdrd that died: it is waited for, then stopped). False with *error on
// failure, e.g. when a live cdrd holds the state directory.
bool open_database(const Config& config, DatabaseHandle* out, std::string* error);

// For the commands that work on a database (api-key, rates, renormalize,
// rerate): a running daemon holds the embedded data directory, so its
// server is used (unix socket in run_dir()); only when none answers is the
// embedded server started here, under the state_dir lock, and the caller
// stops it. An external database is used as configured.
bool open_command_database(const Config& config, DatabaseHandle* out, std::string* error);

// What the database commands share: open_command_database(), the schema
// migrations, one connection for `work`, and the embedded server stopped
// afterwards when the command started it. Errors before `work`, and an
// exception that escapes it, are printed as "cdrd <name>: ..." and give exit
// status 1; otherwise `work`'s status is returned.
int with_command_database(const Config& config, const char* name, const std::function<int(pqxx::connection&)>& work);

// Applies migrations and creates partitions ahead. False with *error (the
// database's message) when it cannot.
bool migrate_database(const Config& config, const std::string& dsn, std::string* error);

}  // namespace cdrd
