#include "daemon/db/embedded_postgres.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

namespace cdrd {
namespace fs = std::filesystem;
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(60);

// The uid/gid the server processes run as: run_as_user when we are root
// (PostgreSQL refuses to run as root), ourselves otherwise.
struct Identity {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

bool resolve_identity(const std::string& user, Identity* out, std::string* error) {
  if (geteuid() != 0) return true;
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    *error = "running as root but the user '" + user + "' for the embedded PostgreSQL does not exist";
    return false;
  }
  out->switch_user = true;
  out->uid = pw.pw_uid;
  out->gid = pw.pw_gid;
  return true;
}

bool is_executable(const fs::path& p) { return access(p.c_str(), X_OK) == 0; }

// Major version of a /usr/lib/postgresql/<major>/bin directory, for picking the newest.
double version_of(const fs::path& bin) {
  try {
    return std::stod(bin.parent_path().filename().string());
  } catch (const std::exception&) {
    return 0;
  }
}

std::string find_bin_dir(const std::string& configured, std::string* error) {
  if (!configured.empty()) {
    if (is_executable(fs::path(configured) / "postgres")) return configured;
    *error = "no executable postgres in " + configured;
    return "";
  }
  fs::path best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (is_executable(bin / "postgres") && (best.empty() || version_of(bin) > version_of(best))) best = bin;
  }
  if (!best.empty()) return best.string();
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r")) {
    char line[4096] = {0};
    const bool got = fgets(line, sizeof line, p) != nullptr;
    pclose(p);
    std::string dir = got ? line : "";
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
    if (!dir.empty() && is_executable(fs::path(dir) / "postgres")) return dir;
  }
  *error = "no PostgreSQL server binaries found (set the bin dir, or install postgresql)";
  return "";
}

int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool make_dir(const fs::path& dir, mode_t mode, const Identity& id, std::string* error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir.string() + ": " + ec.message();
    return false;
  }
  if (chmod(dir.c_str(), mode) != 0 || (id.switch_user && chown(dir.c_str(), id.uid, id.gid) != 0)) {
    *error = "cannot set owner/mode of " + dir.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool can_traverse(const struct stat& st, const Identity& id) {
  if (st.st_uid == id.uid) return (st.st_mode & S_IXUSR) != 0;
  if (st.st_gid == id.gid) return (st.st_mode & S_IXGRP) != 0;
  return (st.st_mode & S_IXOTH) != 0;
}

// When the server runs as another user than cdrd, every directory on the way
// to `dir` must let that user through. The one right above it is cdrd's own
// state directory (created 0750): it gets the server's group with search
// permission only (0710), so the server can reach its own directories but
// not read the spool or the rejects. A directory further up that keeps the
// user out is an error naming it (e.g. a checkout under /root).
bool open_path_to(const fs::path& dir, const Identity& id, const std::string& user, std::string* error) {
  if (!id.switch_user) return true;
  const fs::path parent = fs::absolute(dir).lexically_normal().parent_path();
  for (fs::path p = parent;; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      *error = "cannot stat " + p.string() + ": " + std::strerror(errno);
      return false;
    }
    if (!can_traverse(st, id)) {
      if (p != parent || st.st_uid != geteuid()) {
        *error = "the embedded PostgreSQL runs as '" + user + "', which cannot enter " + p.string() +
                 ": put state_dir where that user can reach it, or give " + p.string() + " search permission";
        return false;
      }
      if (chown(p.c_str(), static_cast<uid_t>(-1), id.gid) != 0 ||
          chmod(p.c_str(), (st.st_mode & 07700) | S_IXGRP) != 0) {
        *error = "cannot let '" + user + "' enter " + p.string() + ": " + std::strerror(errno);
        return false;
      }
    }
    if (p == p.root_path()) break;
  }
  return true;
}

long long file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : 0;
}

// The last 3000 bytes the log got after offset `since`: what this attempt
// wrote, not the messages of earlier runs that share the file.
std::string log_tail(const std::string& log_file, long long since = 0) {
  std::ifstream in(log_file, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const auto size = static_cast<long long>(in.tellg());
  const long long from = std::max(since, size - 3000);
  if (from >= size) return "";
  in.seekg(from);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return tail;
}

// fork + exec `argv` with stdout/stderr appended to log_file, as `id`.
// Everything the child needs is prepared before fork(): after it only
// async-signal-safe calls are allowed (the daemon is multi-threaded).
pid_t spawn(const std::vector<std::string>& args, const std::string& log_file, const Identity& id,
            bool stop_with_parent, std::string* error) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    *error = "cannot open " + log_file + ": " + std::strerror(errno);
    return -1;
  }
  if (id.switch_user && fchown(log_fd, id.uid, id.gid) != 0) {
    *error = "cannot chown " + log_file + ": " + std::strerror(errno);
    close(log_fd);
    return -1;
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return -1;
  }
  if (pid == 0) {
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    // Own session: a Ctrl-C at the daemon's terminal must not reach the
    // server; the daemon shuts it down in order.
    setsid();
    if (id.switch_user) {
      if (setgroups(1, &id.gid) != 0 || setgid(id.gid) != 0 || setuid(id.uid) != 0) {
        static const char msg[] = "cdrd: cannot switch to the PostgreSQL user\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(126);
      }
    }
    // If the daemon dies without stopping us, shut down instead of holding
    // the data directory (set after setuid, which clears it). The kernel
    // sends it when the *thread* that forked us ends, so start() must be
    // called from a thread that lives as long as the server should.
    if (stop_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGINT);
      if (getppid() != parent) _exit(1);
    }
    execv(argv[0], argv.data());
    static const char msg[] = "cdrd: exec of a PostgreSQL binary failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  return pid;
}

// Waits for a child that is expected to finish (initdb).
int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// True once `pid` has exited; reaps it then. ECHILD: someone else reaped it
// (a SIGCHLD handler, a waitpid(-1) elsewhere), so it is gone too.
bool exited(pid_t pid) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

// The pids of the processes whose working directory is `dir`. The
// postmaster and every backend chdir into the data directory, so this finds
// a server on it even when its postmaster.pid is stale or gone, and the
// backends a SIGKILLed postmaster left behind. Zombies have no cwd and are
// not listed. Processes of other users are seen only by root.
std::vector<pid_t> processes_in(const fs::path& dir) {
  std::vector<pid_t> out;
  std::error_code ec;
  const std::string target = fs::weakly_canonical(dir, ec).string();
  if (ec) return out;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    char buf[4096];
    const ssize_t n = readlink((entry.path() / "cwd").c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) continue;
    if (std::string(buf, static_cast<size_t>(n)) == target) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

// The postmaster pid recorded in data_dir/postmaster.pid (first line); 0 when none.
pid_t recorded_postmaster(const fs::path& data_dir) {
  std::ifstream in(data_dir / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

// Polls until no process is left on `dir` or `deadline` passes.
bool wait_until_empty(const fs::path& dir, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    if (processes_in(dir).empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string pid_list(const std::vector<pid_t>& pids) {
  std::string out;
  for (const pid_t p : pids) out += (out.empty() ? "" : ", ") + std::to_string(p);
  return out;
}

}  // namespace

bool stop_server_on(const std::string& data_dir, std::chrono::milliseconds timeout, std::string* error, bool leftover) {
  const fs::path dir(data_dir);
  const pid_t recorded = recorded_postmaster(dir);
  // Once no process runs on the directory its postmaster.pid is stale.
  // postgres overwrites one whose pid is dead, but refuses one whose pid is
  // still taken: by a zombie (a postmaster we forked and have not reaped) or
  // by another process (the pid reused after a reboot). So reap, and remove.
  auto clear_stale_pid_file = [&] {
    if (recorded <= 0) return;
    int status = 0;
    waitpid(recorded, &status, WNOHANG);  // ECHILD unless it was ours
    if (kill(recorded, 0) == 0 && fs::exists(dir / "postmaster.pid")) {
      spdlog::warn("removing the stale {}/postmaster.pid: its pid {} is not a PostgreSQL server of this directory",
                   data_dir, recorded);
      std::error_code ignored;
      fs::remove(dir / "postmaster.pid", ignored);
    }
  };
  std::vector<pid_t> procs = processes_in(dir);
  if (procs.empty()) {
    clear_stale_pid_file();
    return true;
  }
  const bool postmaster_runs = recorded > 0 && std::find(procs.begin(), procs.end(), recorded) != procs.end();
  const auto started = std::chrono::steady_clock::now();
  spdlog::warn("{} still runs on {} (postmaster pid {}, {} process(es)); waiting up to {} ms for it to shut down",
               leftover ? "the PostgreSQL server of an earlier owner that died" : "a PostgreSQL server", data_dir,
               postmaster_runs ? std::to_string(recorded) : std::string("gone"), procs.size(), timeout.count());
  // Fast shutdown: what the dead owner's PR_SET_PDEATHSIG already asked for
  // (a second SIGINT during it changes nothing), and the request a server
  // that never got it needs.
  if (postmaster_runs) kill(recorded, SIGINT);
  if (wait_until_empty(dir, started + timeout)) {
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    spdlog::info("the PostgreSQL server on {} has exited (after {} ms)", data_dir, took.count());
    clear_stale_pid_file();
    return true;
  }
  procs = processes_in(dir);
  spdlog::warn("the PostgreSQL server on {} did not shut down within {} ms; immediate shutdown (SIGQUIT) of pid(s) {}",
               data_dir, timeout.count(), pid_list(procs));
  if (postmaster_runs && kill(recorded, 0) == 0) {
    kill(recorded, SIGQUIT);
  } else {
    for (const pid_t p : procs) kill(p, SIGQUIT);
  }
  if (!wait_until_empty(dir, std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    procs = processes_in(dir);
    spdlog::warn("killing (SIGKILL) the process(es) still running on {}: {}", data_dir, pid_list(procs));
    for (const pid_t p : procs) kill(p, SIGKILL);
    if (!wait_until_empty(dir, std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
      *error = "processes still run on " + data_dir + " after SIGKILL (pids " + pid_list(processes_in(dir)) +
               "; another user's, which this process may not signal?)";
      return false;
    }
  }
  clear_stale_pid_file();
  return true;
}

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgresOptions options) : options_(std::move(options)) {
  if (options_.log_file.empty()) {
    options_.log_file = (fs::path(options_.data_dir).parent_path() / "postgres.log").string();
  }
}

EmbeddedPostgres::~EmbeddedPostgres() {
  std::string error;
  if (!stop(&error)) spdlog::warn("embedded PostgreSQL: {}", error);
}

std::string EmbeddedPostgres::dsn() const { return dsn_for(options_.database); }

std::string EmbeddedPostgres::dsn_for(const std::string& database) const {
  return "host=" + options_.socket_dir + " port=" + std::to_string(port_) + " dbname=" + database +
         " user=" + options_.user;
}

int EmbeddedPostgres::port() const { return port_; }
pid_t EmbeddedPostgres::pid() const { return pid_; }

bool EmbeddedPostgres::running() const {
  if (pid_ <= 0) return false;
  siginfo_t info{};
  // WNOWAIT: look without reaping, so stop() still gets the status.
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

bool EmbeddedPostgres::start(std::string* error) {
  if (running()) return true;
  if (pid_ > 0) {  // died on its own since: reap it before starting anew
    exited(pid_);
    pid_ = -1;
  }
  Identity id;
  if (!resolve_identity(options_.run_as_user, &id, error)) return false;
  const std::string bin = find_bin_dir(options_.bin_dir, error);
  if (bin.empty()) return false;
  const fs::path data(options_.data_dir);
  if (!make_dir(data, 0700, id, error) || !make_dir(options_.socket_dir, 0700, id, error)) return false;
  if (!open_path_to(data, id, options_.run_as_user, error) ||
      !open_path_to(options_.socket_dir, id, options_.run_as_user, error)) {
    return false;
  }
  if (options_.stop_leftover_server &&
      !stop_server_on(data.string(), options_.leftover_timeout, error, /*leftover=*/true)) {
    return false;
  }
  {
    std::error_code ec;
    fs::create_directories(fs::path(options_.log_file).parent_path(), ec);
  }

  if (!fs::exists(data / "PG_VERSION")) {
    std::vector<std::string> args = {bin + "/initdb", "-D", data.string(), "-U",        options_.user,
                                     "--auth=trust",  "-E", "UTF8",        "--locale=C"};
    if (options_.fast_unsafe) args.push_back("--no-sync");
    spdlog::info("initdb {}", data.string());
    const long long log_start = file_size(options_.log_file);
    const pid_t initdb = spawn(args, options_.log_file, id, true, error);
    if (initdb < 0) return false;
    if (const int rc = wait_exit(initdb); rc != 0) {
      *error = "initdb exited with " + std::to_string(rc) + "; log tail:\n" + log_tail(options_.log_file, log_start);
      return false;
    }
  }

  port_ = options_.port == 0 ? 5432 : options_.port;
  const bool pick_port = options_.port < 0;
  std::vector<std::string> args = {bin + "/postgres", "-D", data.string(), "-k", options_.socket_dir, "-p", ""};
  const size_t port_arg = args.size() - 1;
  auto set = [&args](const std::string& setting) {
    args.push_back("-c");
    args.push_back(setting);
  };
  set(options_.port == 0 ? "listen_addresses=" : "listen_addresses=127.0.0.1");
  // Defaults for a CDR store on a small machine; options_.settings come
  // later on the command line and so override them.
  set("shared_buffers=128MB");
  set("max_wal_size=1GB");
  set("checkpoint_timeout=15min");
  set("default_toast_compression=lz4");
  if (options_.fast_unsafe) {
    set("fsync=off");
    set("synchronous_commit=off");
    set("full_page_writes=off");
  }
  for (const auto& s : options_.settings) set(s);

  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  std::string last_error;
  while (true) {
    if (pick_port) {
      port_ = free_tcp_port();
      if (port_ <= 0) {
        *error = "no free TCP port on 127.0.0.1";
        return false;
      }
    }
    args[port_arg] = std::to_string(port_);
    const long long log_start = file_size(options_.log_file);
    pid_ = spawn(args, options_.log_file, id, options_.stop_with_owner, error);
    if (pid_ < 0) return false;
    if (wait_ready(deadline, &last_error)) break;
    if (!running()) {
      exited(pid_);
      pid_ = -1;
      const std::string tail = log_tail(options_.log_file, log_start);
      const bool in_time = std::chrono::steady_clock::now() < deadline;
      // After kill_hard() the old server's backends may still hold the
      // shared memory for a moment; postgres refuses to start until they
      // are gone. A picked port can be taken by someone else before the
      // server binds it. Anything else is a real failure.
      const bool shm_busy = tail.find("pre-existing shared memory block") != std::string::npos;
      const bool port_taken = pick_port && tail.find("could not create any TCP/IP sockets") != std::string::npos;
      if (in_time && (shm_busy || port_taken)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      *error = "postgres exited during startup; log tail:\n" + tail;
      return false;
    }
    kill_hard();
    *error = "postgres did not accept connections within 60 s (" + last_error + "); log tail:\n" +
             log_tail(options_.log_file, log_start);
    return false;
  }
  if (!create_database(error)) {
    std::string ignored;
    stop(&ignored);
    return false;
  }
  return true;
}

bool EmbeddedPostgres::wait_ready(std::chrono::steady_clock::time_point deadline, std::string* last_error) {
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    try {
      pqxx::connection conn(dsn_for("postgres") + " connect_timeout=5");
      return true;
    } catch (const std::exception& e) {
      *last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool EmbeddedPostgres::create_database(std::string* error) {
  try {
    pqxx::connection conn(dsn_for("postgres"));
    pqxx::nontransaction tx(conn);
    if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", options_.database).empty()) {
      tx.exec("CREATE DATABASE " + tx.quote_name(options_.database));
    }
    return true;
  } catch (const std::exception& e) {
    *error = "cannot create database " + options_.database + ": " + e.what();
    return false;
  }
}

bool EmbeddedPostgres::stop(std::string* error) {
  if (pid_ <= 0) return true;
  // SIGINT = fast shutdown: roll back sessions, checkpoint, exit.
  kill(pid_, SIGINT);
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  while (!exited(pid_)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "postgres (pid " + std::to_string(pid_) + ") did not stop within 60 s; killed";
      kill_hard();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  return true;
}

void EmbeddedPostgres::kill_hard() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace cdrd
