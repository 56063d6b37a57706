// The PostgreSQL server of the pg and e2e tests.
//
// Under ctest there is one server per test run: the fixture test
// "pg_cluster_start" (tests/support/pg_cluster.cpp) starts it before the
// first test that needs it, with a template database that has cdrd's
// migrations applied, and "pg_cluster_stop" stops it after the last one.
// Tests find it through TEST_PG_CLUSTER_STATE (the file the fixture wrote).
// Run directly, outside ctest, a test process starts a server of its own on
// first use instead (initdb into a temp dir), stopped when it exits.
// Either way every test works in a database of its own.
#pragma once

#include <sys/types.h>

#include <string>

namespace cdrd::test {

struct TestPostgres {
  std::string host;     // unix socket directory
  int port = 0;         // also listens on 127.0.0.1:port
  std::string user;     // a superuser
  pid_t pid = 0;        // the postmaster
  bool shared = false;  // the ctest run's server (true) or this process's own
  std::string dsn_for(const std::string& database) const;
};

// The server (see above). Thread-safe. Throws std::runtime_error (with the
// reason, e.g. the server log's tail) when it cannot be had; later calls
// rethrow the same error instead of trying again.
const TestPostgres& test_postgres();

// A fresh empty database "<prefix>_<pid>_<n>"; returns its libpq DSN. prefix:
// lower-case letters, digits and '_' (std::invalid_argument otherwise).
// Dropped when the process exits normally.
std::string create_database(const std::string& prefix);

// The same with cdrd's schema migrations already applied (a copy of the
// template database; no partitions beyond what the migrations create).
std::string create_migrated_database(const std::string& prefix);

}  // namespace cdrd::test
