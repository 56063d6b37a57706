// The ctest fixture that gives a whole test run one PostgreSQL server
// (tests/CMakeLists.txt: tests "pg_cluster_start" and "pg_cluster_stop"):
//
//   cdrd_test_pg_cluster start STATE_FILE   initdb into a temp dir, start the
//       server (random port on 127.0.0.1 and a unix socket; fsync off: test
//       data only), create the template database with cdrd's migrations,
//       write STATE_FILE and exit, leaving the server running.
//   cdrd_test_pg_cluster stop STATE_FILE    stop that server, remove its dir.
//
// A server left by an interrupted run (its STATE_FILE still there) is
// stopped by the next start. The tests read STATE_FILE through
// TEST_PG_CLUSTER_STATE (tests/support/pg_server.h).
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <pqxx/pqxx>
#include <string>

#include "daemon/db/embedded_postgres.h"
#include "daemon/db/migrations.h"
#include "tests/support/pg_cluster_state.h"

namespace fs = std::filesystem;
using cdrd::test::ClusterState;

namespace {

int stop(const std::string& state_file) {
  ClusterState state;
  std::string error;
  if (!cdrd::test::read_cluster_state(state_file, &state, &error)) {
    std::printf("no test PostgreSQL to stop (%s)\n", error.c_str());
    return 0;
  }
  const auto started = std::chrono::steady_clock::now();
  if (!cdrd::stop_server_on(state.data_dir, std::chrono::seconds(60), &error)) {
    std::fprintf(stderr, "stopping the test PostgreSQL: %s\n", error.c_str());
    return 1;
  }
  std::error_code ignored;
  fs::remove_all(state.dir, ignored);
  fs::remove(state_file, ignored);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::printf("stopped the test PostgreSQL (pid %d) in %lld ms and removed %s\n", static_cast<int>(state.pid),
              static_cast<long long>(ms), state.dir.c_str());
  return 0;
}

int start(const std::string& state_file) {
  if (fs::exists(state_file)) {
    std::printf("a server of an interrupted run is named in %s: stopping it first\n", state_file.c_str());
    if (stop(state_file) != 0) return 1;
  }
  std::string tmpl = (fs::temp_directory_path() / "cdrd-pgcluster-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr || chmod(tmpl.c_str(), 0755) != 0) {
    std::fprintf(stderr, "cannot make %s: %s\n", tmpl.c_str(), std::strerror(errno));
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  cdrd::EmbeddedPostgresOptions options;
  options.data_dir = tmpl + "/data";
  options.socket_dir = tmpl + "/run";
  options.log_file = tmpl + "/postgres.log";
  options.port = -1;
  options.fast_unsafe = true;
  options.stop_with_owner = false;  // it serves the whole run, after we exit
  // Two test processes at a time, each with a cdrd (writer + read pool) and
  // its own connections; the fault-free default of 100 is close.
  options.settings = {"timezone=UTC", "max_connections=300"};
  cdrd::EmbeddedPostgres server(options);
  std::string error;
  if (!server.start(&error)) {
    std::fprintf(stderr, "the test PostgreSQL did not start: %s\n", error.c_str());
    return 1;
  }
  try {
    pqxx::connection admin(server.dsn_for("postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec(std::string("CREATE DATABASE ") + cdrd::test::kTemplateDatabase);
    {
      pqxx::connection conn(server.dsn_for(cdrd::test::kTemplateDatabase));
      if (!cdrd::apply_migrations(conn, nullptr, &error)) throw std::runtime_error("migrations: " + error);
    }
    // No one may connect to it: CREATE DATABASE ... TEMPLATE refuses to copy
    // a database that has sessions.
    tx.exec(std::string("ALTER DATABASE ") + cdrd::test::kTemplateDatabase +
            " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preparing the template database: %s\n", e.what());
    return 1;  // ~EmbeddedPostgres stops the server
  }
  ClusterState state;
  state.dir = tmpl;
  state.data_dir = options.data_dir;
  state.host = options.socket_dir;
  state.port = server.port();
  state.user = options.user;
  state.pid = server.pid();
  cdrd::test::write_cluster_state(state_file, state);
  server.release();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::printf("test PostgreSQL for this run: pid %d, port %d, socket %s, template %s; ready in %lld ms\n",
              static_cast<int>(state.pid), state.port, state.host.c_str(), cdrd::test::kTemplateDatabase,
              static_cast<long long>(ms));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_pattern("%l %v");
  const std::string command = argc == 3 ? argv[1] : "";
  if (command == "start") return start(argv[2]);
  if (command == "stop") return stop(argv[2]);
  std::fprintf(stderr, "usage: %s start|stop STATE_FILE\n", argv[0]);
  return 2;
}
