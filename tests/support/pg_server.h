// The PostgreSQL server shared by the tests of one test process (label "pg"
// and the e2e tests): one initdb per process, a fresh database per test.
#pragma once

#include <string>

#include "daemon/db/embedded_postgres.h"

namespace cdrd::test {

// The PostgreSQL server of this test process: started on first use (initdb
// into a fresh temp dir that a non-root server user can traverse, random free
// port on 127.0.0.1, EmbeddedPostgresOptions::fast_unsafe), stopped when the
// process exits (also when a test fails). Thread-safe. Throws
// std::runtime_error (with the server log's tail) when it cannot start;
// later calls rethrow the same error instead of trying again.
EmbeddedPostgres& test_postgres();

// Creates a fresh empty database "<prefix>_<pid>_<n>" and returns its libpq
// DSN. prefix: lower-case letters, digits and '_' (std::invalid_argument
// otherwise).
std::string create_database(const std::string& prefix);

// A new directory "<temp dir>/cdrd-pgtest-<pid>-XXXXXX" with mode 0755, so a
// PostgreSQL server running as another user can reach what is created inside
// it. Removed with its contents on destruction; the harness also removes
// those whose process died without cleaning up (killed by a ctest timeout).
class ServerTempDir {
 public:
  ServerTempDir();
  ~ServerTempDir();
  ServerTempDir(const ServerTempDir&) = delete;
  ServerTempDir& operator=(const ServerTempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cdrd::test
