#include "tests/support/pg_server.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>
#include <vector>

#include "daemon/db/embedded_postgres.h"
#include "daemon/db/migrations.h"
#include "tests/support/pg_cluster_state.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace fs = std::filesystem;

std::string TestPostgres::dsn_for(const std::string& database) const {
  return "host=" + host + " port=" + std::to_string(port) + " dbname=" + database + " user=" + user;
}

bool read_cluster_state(const std::string& path, ClusterState* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const char* key : {"dir", "data_dir", "host", "port", "user", "pid"}) {
    if (kv[key].empty()) {
      *error = path + " has no " + key;
      return false;
    }
  }
  out->dir = kv["dir"];
  out->data_dir = kv["data_dir"];
  out->host = kv["host"];
  out->port = static_cast<int>(std::strtol(kv["port"].c_str(), nullptr, 10));
  out->user = kv["user"];
  out->pid = static_cast<pid_t>(std::strtol(kv["pid"].c_str(), nullptr, 10));
  return true;
}

void write_cluster_state(const std::string& path, const ClusterState& state) {
  const std::string tmp = path + ".tmp";
  write_file(tmp, "dir=" + state.dir + "\ndata_dir=" + state.data_dir + "\nhost=" + state.host +
                      "\nport=" + std::to_string(state.port) + "\nuser=" + state.user +
                      "\npid=" + std::to_string(state.pid) + "\n");
  fs::rename(tmp, path);
}

namespace {

struct Harness {
  std::mutex mu;
  bool resolved = false;
  TestPostgres server;
  std::string failure;  // why it cannot be had; rethrown instead of retrying
  // This process's own server (no ctest fixture).
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<EmbeddedPostgres> own;
  pid_t owner = 0;  // the process that resolved the server
  bool template_ready = false;
  std::vector<std::string> created;  // databases to drop at exit
};

// Never destroyed: cleanup_at_exit() shuts down, and a static destructor
// could run after the spdlog registry the server logs through is gone.
Harness& harness() {
  static Harness* h = new Harness;
  return *h;
}

void cleanup_at_exit() {
  Harness& h = harness();
  std::lock_guard<std::mutex> lock(h.mu);
  // A forked child (death test, fork in a test) exiting must not stop the
  // parent's server or drop its databases.
  if (h.owner != getpid()) return;
  if (h.own) {
    h.own.reset();  // fast shutdown, waits for the postmaster; the databases go with it
    h.dir.reset();
    return;
  }
  // The shared server outlives us: drop what this process made there, so a
  // run of hundreds of tests does not fill the disk. Plain libpq: libpqxx's
  // own statics may already be destroyed when exit handlers run.
  if (h.created.empty()) return;
  PGconn* conn = PQconnectdb(h.server.dsn_for("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::fprintf(stderr, "test PostgreSQL: cannot drop this test's databases: %s", PQerrorMessage(conn));
  } else {
    for (const auto& name : h.created) {
      // Names are "<prefix>_<pid>_<n>" of [a-z0-9_] (new_database checks), so no quoting is needed.
      PGresult* r = PQexec(conn, ("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        std::fprintf(stderr, "test PostgreSQL: DROP DATABASE %s: %s", name.c_str(), PQresultErrorMessage(r));
      }
      PQclear(r);
    }
  }
  PQfinish(conn);
}

// Runs with h.mu held. Records a failure instead of throwing: it may run on
// the keeper thread, where an exception would terminate the process.
void start_own_server(Harness& h) try {
  auto dir = std::make_unique<TempDir>();
  EmbeddedPostgresOptions options;
  options.data_dir = dir->path() + "/data";
  options.socket_dir = dir->path() + "/run";
  options.log_file = dir->path() + "/postgres.log";
  options.port = -1;
  options.fast_unsafe = true;
  options.settings = {"timezone=UTC"};
  auto server = std::make_unique<EmbeddedPostgres>(options);
  std::string error;
  if (!server->start(&error)) {
    h.failure = "the test PostgreSQL did not start: " + error;
    return;  // dir is removed on the way out
  }
  h.server.host = options.socket_dir;
  h.server.port = server->port();
  h.server.user = options.user;
  h.server.pid = server->pid();
  h.server.shared = false;
  h.dir = std::move(dir);
  h.own = std::move(server);
} catch (const std::exception& e) {
  h.failure = std::string("the test PostgreSQL did not start: ") + e.what();
}

void resolve(Harness& h) {
  h.resolved = true;
  h.owner = getpid();
  std::atexit(cleanup_at_exit);
  if (const char* state_file = std::getenv("TEST_PG_CLUSTER_STATE"); state_file != nullptr && *state_file != '\0') {
    ClusterState state;
    std::string error;
    if (!read_cluster_state(state_file, &state, &error)) {
      h.failure = "the ctest fixture pg_cluster_start did not leave a server (" + error + "): see that test's output";
      return;
    }
    h.server.host = state.host;
    h.server.port = state.port;
    h.server.user = state.user;
    h.server.pid = state.pid;
    h.server.shared = true;
    h.template_ready = true;  // the fixture made it
    return;
  }
  // The server is told to stop when the thread that forked it ends
  // (PR_SET_PDEATHSIG is per thread), so a first call from a short-lived
  // thread starts it from one that lives as long as the process.
  if (gettid() == getpid()) {
    start_own_server(h);
  } else {
    std::promise<void> started;
    std::thread([&h, &started] {
      start_own_server(h);
      started.set_value();
      while (true) pause();
    }).detach();
    started.get_future().wait();
  }
}

std::string new_database(const std::string& prefix, const char* template_name) {
  const bool valid = !prefix.empty() && prefix.size() <= 40 &&
                     prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  if (!valid) throw std::invalid_argument("create_database: bad prefix '" + prefix + "'");
  const TestPostgres& server = test_postgres();
  Harness& h = harness();
  static std::atomic<int> counter{0};
  const std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  pqxx::connection conn(server.dsn_for("postgres"));
  pqxx::nontransaction tx(conn);
  if (template_name != nullptr) {
    std::lock_guard<std::mutex> lock(h.mu);
    if (!h.template_ready) {  // this process's own server: make the template once
      tx.exec("CREATE DATABASE " + tx.quote_name(template_name));
      {  // closed before the template is copied: a database with sessions cannot be
        pqxx::connection tconn(server.dsn_for(template_name));
        std::string error;
        if (!apply_migrations(tconn, nullptr, &error)) throw std::runtime_error("migrating the template: " + error);
      }
      h.template_ready = true;
    }
  }
  tx.exec("CREATE DATABASE " + tx.quote_name(name) +
          (template_name != nullptr ? " TEMPLATE " + tx.quote_name(template_name) : std::string()));
  {
    std::lock_guard<std::mutex> lock(h.mu);
    h.created.push_back(name);
  }
  return server.dsn_for(name);
}

}  // namespace

const TestPostgres& test_postgres() {
  Harness& h = harness();
  std::lock_guard<std::mutex> lock(h.mu);
  if (!h.resolved) resolve(h);
  if (!h.failure.empty()) throw std::runtime_error(h.failure);
  return h.server;
}

std::string create_database(const std::string& prefix) { return new_database(prefix, nullptr); }

std::string create_migrated_database(const std::string& prefix) { return new_database(prefix, kTemplateDatabase); }

}  // namespace cdrd::test
