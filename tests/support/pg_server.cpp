#include "tests/support/pg_server.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>

namespace cdrd::test {
namespace fs = std::filesystem;
namespace {

constexpr char kTempPrefix[] = "cdrd-pgtest-";

struct Harness {
  std::mutex mu;
  std::unique_ptr<ServerTempDir> dir;
  std::unique_ptr<EmbeddedPostgres> server;
  std::string failure;  // why the start failed; rethrown instead of retrying
  pid_t owner = 0;      // the process that started the server
};

// Never destroyed: stop_at_exit() shuts the server down, and a static
// destructor could run after the spdlog registry it logs through is gone.
Harness& harness() {
  static Harness* h = new Harness;
  return *h;
}

void stop_at_exit() {
  Harness& h = harness();
  std::lock_guard<std::mutex> lock(h.mu);
  // A forked child (death test, fork in a test) exiting must not stop the
  // parent's server or delete its files.
  if (h.owner != getpid()) return;
  h.server.reset();  // fast shutdown, waits for the postmaster
  h.dir.reset();
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie (dead, not yet reaped by whoever inherited it) is as good as gone.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

// A postmaster.pid under `dir` whose postmaster still runs: that server is
// still shutting down (it got SIGINT when its parent died), so the directory
// is not ours to remove yet.
bool has_live_postmaster(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it.depth() >= 2) it.disable_recursion_pending();
    if (it->path().filename() != "postmaster.pid") continue;
    std::ifstream in(it->path());
    long pid = 0;
    if (in >> pid && process_alive(static_cast<pid_t>(pid))) return true;
  }
  return false;
}

// Temp dirs left by test processes that were killed (ctest timeout, crash)
// before their exit handlers ran: the dir name carries the owner's pid.
void remove_stale_temp_dirs() {
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  if (ec) return;
  for (const auto& entry : fs::directory_iterator(tmp, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kTempPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + std::strlen(kTempPrefix), nullptr, 10);
    if (pid <= 0 || pid == getpid() || process_alive(static_cast<pid_t>(pid))) continue;
    if (has_live_postmaster(entry.path())) continue;
    std::error_code ignored;
    fs::remove_all(entry.path(), ignored);
  }
}

// Runs with h.mu held. Records a failure instead of throwing: it may run on
// the keeper thread, where an exception would terminate the process.
void start_server(Harness& h) try {
  remove_stale_temp_dirs();
  auto dir = std::make_unique<ServerTempDir>();
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
  h.dir = std::move(dir);
  h.server = std::move(server);
  h.owner = getpid();
  std::atexit(stop_at_exit);
} catch (const std::exception& e) {
  h.failure = std::string("the test PostgreSQL did not start: ") + e.what();
}

}  // namespace

ServerTempDir::ServerTempDir() {
  std::string tmpl = (fs::temp_directory_path() / (kTempPrefix + std::to_string(getpid()) + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  path_ = tmpl;
  // mkdtemp makes it 0700; the server may run as another user (we are root).
  if (chmod(path_.c_str(), 0755) != 0) {
    const std::string why = std::strerror(errno);
    std::error_code ignored;
    fs::remove_all(path_, ignored);
    throw std::runtime_error("chmod " + path_ + ": " + why);
  }
}

ServerTempDir::~ServerTempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

EmbeddedPostgres& test_postgres() {
  Harness& h = harness();
  std::lock_guard<std::mutex> lock(h.mu);
  if (!h.server && h.failure.empty()) {
    // The server is told to stop when the thread that forked it ends
    // (PR_SET_PDEATHSIG is per thread), so a first call from a short-lived
    // thread starts it from one that lives as long as the process.
    if (gettid() == getpid()) {
      start_server(h);
    } else {
      std::promise<void> started;
      std::thread([&h, &started] {
        start_server(h);
        started.set_value();
        while (true) pause();
      }).detach();
      started.get_future().wait();
    }
  }
  if (!h.server) throw std::runtime_error(h.failure);
  return *h.server;
}

std::string create_database(const std::string& prefix) {
  const bool valid = !prefix.empty() && prefix.size() <= 40 &&
                     prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  if (!valid) throw std::invalid_argument("create_database: bad prefix '" + prefix + "'");
  EmbeddedPostgres& server = test_postgres();
  static std::atomic<int> counter{0};
  const std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  pqxx::connection conn(server.dsn_for("postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  return server.dsn_for(name);
}

}  // namespace cdrd::test
