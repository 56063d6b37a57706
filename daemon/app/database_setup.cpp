#include "daemon/app/database_setup.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>

#include "daemon/db/migrations.h"

namespace cdrd {

bool open_database(const Config& config, DatabaseHandle* out, std::string* error) {
  if (config.database_dsn != "embedded") {
    out->dsn = config.database_dsn;
    return true;
  }
  if (!out->state_lock) {
    out->state_lock = StateDirLock::acquire(config.state_dir, error);
    if (!out->state_lock) return false;
  }
  EmbeddedPostgresOptions options;
  options.data_dir = config.pgdata_dir();
  options.socket_dir = config.run_dir();
  options.bin_dir = config.embedded_bin_dir;
  options.run_as_user = config.embedded_user;
  options.port = 0;
  options.log_file = config.state_dir + "/postgres.log";
  options.stop_leftover_server = true;  // we hold state_dir's lock: no live cdrd owns the data directory
  out->embedded = std::make_unique<EmbeddedPostgres>(options);
  spdlog::info("starting embedded PostgreSQL in {}", options.data_dir);
  if (!out->embedded->start(error)) {
    *error = "embedded PostgreSQL did not start: " + *error;
    return false;
  }
  out->dsn = out->embedded->dsn();
  spdlog::info("embedded PostgreSQL is up (pid {}, {})", out->embedded->pid(), out->dsn);
  return true;
}

namespace {

// The running daemon's embedded server: unix socket only, which PostgreSQL
// names after port 5432 (EmbeddedPostgresOptions::port = 0), in run_dir().
std::string running_embedded_dsn(const Config& config) {
  const EmbeddedPostgresOptions defaults;
  return "host=" + config.run_dir() + " port=5432 dbname=" + defaults.database + " user=" + defaults.user;
}

bool reachable(const std::string& dsn) {
  try {
    pqxx::connection probe(dsn + " connect_timeout=5");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

bool open_command_database(const Config& config, DatabaseHandle* out, std::string* error) {
  if (config.database_dsn == "embedded") {
    const std::string dsn = running_embedded_dsn(config);
    if (reachable(dsn)) {
      out->dsn = dsn;
      return true;
    }
  }
  return open_database(config, out, error);
}

int with_command_database(const Config& config, const char* name, const std::function<int(pqxx::connection&)>& work) {
  constexpr int kExitFailed = 1;
  DatabaseHandle db;
  std::string error;
  if (!open_command_database(config, &db, &error)) {
    std::fprintf(stderr, "cdrd %s: %s\n", name, error.c_str());
    return kExitFailed;
  }
  int status = kExitFailed;
  try {
    pqxx::connection conn(db.dsn);
    if (!apply_migrations(conn, nullptr, &error)) {
      std::fprintf(stderr, "cdrd %s: schema migration failed: %s\n", name, error.c_str());
    } else {
      status = work(conn);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cdrd %s: %s\n", name, e.what());
  }
  if (db.embedded && !db.embedded->stop(&error)) std::fprintf(stderr, "cdrd: embedded PostgreSQL: %s\n", error.c_str());
  return status;
}

bool migrate_database(const Config& config, const std::string& dsn, std::string* error) {
  try {
    pqxx::connection conn(dsn);
    std::vector<std::string> applied;
    if (!apply_migrations(conn, &applied, error)) return false;
    for (const auto& name : applied) spdlog::info("applied migration {}", name);
    return ensure_partitions(conn, std::chrono::system_clock::now(), config.partitions_ahead_months, error);
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

}  // namespace cdrd
