// EmbeddedPostgres against the real server binaries: each test runs its own
// cluster in its own temp dir (not the shared harness server).
#include "daemon/db/embedded_postgres.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {
namespace fs = std::filesystem;

EmbeddedPostgresOptions options_in(const TempDir& dir) {
  EmbeddedPostgresOptions options;
  options.data_dir = dir.path() + "/data";
  options.socket_dir = dir.path() + "/run";
  options.log_file = dir.path() + "/postgres.log";
  options.port = -1;
  options.fast_unsafe = true;
  return options;
}

std::string query_text(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  return tx.exec1(sql)[0].as<std::string>();
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The uid a process runs as, from /proc/<pid>/status ("Uid: real effective ...").
long uid_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Uid:", 0) == 0) return std::stol(line.substr(4));
  }
  return -1;
}

// Gone, or a zombie waiting for whoever inherited it.
bool process_gone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return true;
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// Polls for an outcome that is expected quickly; the cap only keeps a broken
// build from hanging, it is not what the test checks.
template <typename Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// initdb prints this once per cluster it creates.
constexpr char kInitdbDone[] = "Success. You can now start the database server";

TEST(EmbeddedPostgresTest, InitializesStartsAnswersAndStops) {
  TempDir dir;
  const EmbeddedPostgresOptions options = options_in(dir);
  EmbeddedPostgres pg(options);
  std::string error;
  ASSERT_TRUE(pg.start(&error)) << error;

  EXPECT_TRUE(fs::exists(options.data_dir + "/PG_VERSION"));
  EXPECT_TRUE(pg.running());
  EXPECT_GT(pg.pid(), 0);
  EXPECT_GT(pg.port(), 0);
  EXPECT_EQ(query_text(pg.dsn(), "SELECT current_database() || '/' || current_user"), "cdrd/cdrd");
  EXPECT_EQ(query_text(pg.dsn(), "SELECT 6 * 7"), "42");
  EXPECT_EQ(query_text(pg.dsn(), "SHOW fsync"), "off");
  // The picked port is the TCP one too.
  EXPECT_EQ(query_text("host=127.0.0.1 port=" + std::to_string(pg.port()) + " dbname=cdrd user=cdrd",
                       "SELECT inet_server_port()"),
            std::to_string(pg.port()));
  if (geteuid() == 0) {
    const passwd* server_user = getpwnam(options.run_as_user.c_str());
    ASSERT_NE(server_user, nullptr);
    EXPECT_EQ(uid_of(pg.pid()), static_cast<long>(server_user->pw_uid)) << "PostgreSQL must not run as root";
  }
  EXPECT_TRUE(fs::exists(options.data_dir + "/postmaster.pid"));

  ASSERT_TRUE(pg.stop(&error)) << error;
  EXPECT_FALSE(pg.running());
  EXPECT_EQ(pg.pid(), -1);
  EXPECT_FALSE(fs::exists(options.data_dir + "/postmaster.pid"));
  EXPECT_TRUE(pg.stop(&error)) << "stop() is idempotent";
}

TEST(EmbeddedPostgresTest, SecondStartReusesTheCluster) {
  TempDir dir;
  const EmbeddedPostgresOptions options = options_in(dir);
  std::string error;
  {
    EmbeddedPostgres pg(options);
    ASSERT_TRUE(pg.start(&error)) << error;
    pqxx::connection conn(pg.dsn());
    pqxx::work tx(conn);
    tx.exec("CREATE TABLE kept (v text)");
    tx.exec("INSERT INTO kept VALUES ('survives a restart')");
    tx.commit();
  }  // the destructor stops the server
  EXPECT_FALSE(fs::exists(options.data_dir + "/postmaster.pid"));

  EmbeddedPostgres again(options);
  ASSERT_TRUE(again.start(&error)) << error;
  EXPECT_EQ(query_text(again.dsn(), "SELECT v FROM kept"), "survives a restart");
  EXPECT_EQ(count_of(read_file(options.log_file), kInitdbDone), 1u) << "initdb ran again";
}

TEST(EmbeddedPostgresTest, StartAfterKillHardRecovers) {
  TempDir dir;
  const EmbeddedPostgresOptions options = options_in(dir);
  EmbeddedPostgres pg(options);
  std::string error;
  ASSERT_TRUE(pg.start(&error)) << error;
  {
    pqxx::connection conn(pg.dsn());
    pqxx::nontransaction tx(conn);
    // fast_unsafe turns synchronous_commit off: make this commit reach the
    // WAL before the kill, as a committed row on a real server would.
    tx.exec("SET synchronous_commit = on");
    tx.exec("CREATE TABLE crash (v int)");
    tx.exec("INSERT INTO crash VALUES (7)");
  }
  const pid_t first = pg.pid();
  pg.kill_hard();
  EXPECT_FALSE(pg.running());
  EXPECT_TRUE(process_gone(first));
  EXPECT_TRUE(fs::exists(options.data_dir + "/postmaster.pid")) << "a killed postmaster leaves its pid file";

  ASSERT_TRUE(pg.start(&error)) << error;
  EXPECT_NE(pg.pid(), first);
  EXPECT_EQ(query_text(pg.dsn(), "SELECT v FROM crash"), "7");
  EXPECT_EQ(count_of(read_file(options.log_file), kInitdbDone), 1u);
  EXPECT_NE(read_file(options.log_file).find("database system was interrupted"), std::string::npos)
      << "the restart should have gone through crash recovery";
}

TEST(EmbeddedPostgresTest, BadBinDirIsNamedInTheError) {
  TempDir dir;
  EmbeddedPostgresOptions options = options_in(dir);
  options.bin_dir = dir.path() + "/no-such-postgres/bin";
  EmbeddedPostgres pg(options);
  std::string error;
  EXPECT_FALSE(pg.start(&error));
  EXPECT_NE(error.find(options.bin_dir), std::string::npos) << error;
  EXPECT_FALSE(pg.running());
  EXPECT_FALSE(fs::exists(options.data_dir + "/PG_VERSION"));
}

// A process killed outright (as by a ctest timeout) takes its server down
// with it: PR_SET_PDEATHSIG makes the postmaster shut down.
TEST(EmbeddedPostgresTest, ServerStopsWhenItsParentIsKilled) {
  TempDir dir;
  const EmbeddedPostgresOptions options = options_in(dir);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    EmbeddedPostgres pg(options);
    std::string error;
    const pid_t server = pg.start(&error) ? pg.pid() : -1;
    (void)!write(fds[1], &server, sizeof server);
    raise(SIGKILL);
    _exit(1);  // not reached
  }
  close(fds[1]);
  pid_t server = -1;
  ASSERT_EQ(read(fds[0], &server, sizeof server), static_cast<ssize_t>(sizeof server));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_GT(server, 0) << "the child could not start the server; see " << options.log_file;

  EXPECT_TRUE(eventually([&] { return process_gone(server); })) << "the postmaster outlived its parent";
  // A clean (fast) shutdown, not an orphan that was killed: it removed its pid file.
  EXPECT_TRUE(eventually([&] { return !fs::exists(options.data_dir + "/postmaster.pid"); }));
}

// Starts a server on `dir` and lets go of it, as an owner that died without
// its shutdown signal would: it runs on, with nobody to stop it.
pid_t start_released_server(const TempDir& dir) {
  EmbeddedPostgresOptions options = options_in(dir);
  options.stop_with_owner = false;
  EmbeddedPostgres server(options);
  std::string error;
  EXPECT_TRUE(server.start(&error)) << error;
  const pid_t pid = server.pid();
  server.release();
  return pid;
}

// A server whose owner went away without stopping it (released here: no
// PR_SET_PDEATHSIG, as if its shutdown signal were lost) is stopped by the
// next start that knows no live owner can use the directory.
TEST(EmbeddedPostgresTest, LeftoverServerIsStoppedThenANewOneStarts) {
  TempDir dir;
  const pid_t old_pid = start_released_server(dir);
  ASSERT_GT(old_pid, 0);
  std::string error;

  // Without the option postgres itself refuses the directory.
  EmbeddedPostgres refused(options_in(dir));
  EXPECT_FALSE(refused.start(&error));
  EXPECT_NE(error.find("postmaster.pid"), std::string::npos) << error;

  EmbeddedPostgresOptions next_options = options_in(dir);
  next_options.stop_leftover_server = true;
  EmbeddedPostgres next(next_options);
  ASSERT_TRUE(next.start(&error)) << error;
  EXPECT_TRUE(process_gone(old_pid));
  EXPECT_NE(next.pid(), old_pid);
  EXPECT_EQ(query_text(next.dsn_for("postgres"), "SELECT 'up'"), "up");
  EXPECT_TRUE(next.stop(&error)) << error;
}

// A leftover that does not shut down (SIGSTOPped: it cannot act on SIGINT or
// SIGQUIT) is killed once leftover_timeout and the immediate-shutdown grace
// have passed, backends included, and the new server starts.
TEST(EmbeddedPostgresTest, LeftoverServerThatDoesNotStopIsKilled) {
  TempDir dir;
  const pid_t old_pid = start_released_server(dir);
  ASSERT_GT(old_pid, 0);
  std::string error;
  ASSERT_EQ(::kill(old_pid, SIGSTOP), 0);

  EmbeddedPostgresOptions next_options = options_in(dir);
  next_options.stop_leftover_server = true;
  next_options.leftover_timeout = std::chrono::milliseconds(500);
  EmbeddedPostgres next(next_options);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(next.start(&error)) << error;
  EXPECT_TRUE(process_gone(old_pid));
  // 0.5 s of waiting, then 5 s for the immediate shutdown, then SIGKILL.
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(5500));
  EXPECT_EQ(query_text(next.dsn_for("postgres"), "SELECT 'up'"), "up");
  EXPECT_TRUE(next.stop(&error)) << error;
}

// A postmaster.pid naming a live process that is no server of this
// directory (its pid reused after a reboot) is removed, not obeyed.
TEST(EmbeddedPostgresTest, StalePostmasterPidOfAnotherProcessIsRemoved) {
  TempDir dir;
  std::string error;
  {
    EmbeddedPostgres first(options_in(dir));
    ASSERT_TRUE(first.start(&error)) << error;
    ASSERT_TRUE(first.stop(&error)) << error;
  }
  // Our own pid is alive and certainly no postmaster of that directory.
  const std::string pid_file = options_in(dir).data_dir + "/postmaster.pid";
  write_file(pid_file, std::to_string(::getppid()) + "\n" + options_in(dir).data_dir + "\n");
  if (::geteuid() == 0) {
    const struct passwd* pw = ::getpwnam("postgres");
    ASSERT_NE(pw, nullptr);
    ASSERT_EQ(::chown(pid_file.c_str(), pw->pw_uid, pw->pw_gid), 0);
  }
  EmbeddedPostgresOptions options = options_in(dir);
  options.stop_leftover_server = true;
  EmbeddedPostgres next(options);
  ASSERT_TRUE(next.start(&error)) << error;
  EXPECT_EQ(query_text(next.dsn_for("postgres"), "SELECT 'up'"), "up");
  EXPECT_TRUE(next.stop(&error)) << error;
}

// PR_SET_PDEATHSIG fires when the forking *thread* ends: the harness must
// not let a thread that made the first call take the server down with it.
TEST(TestPostgresHarnessTest, ServerOutlivesTheThreadThatStartedIt) {
  std::string dsn;
  std::thread([&dsn] { dsn = create_database("harness"); }).join();
  ASSERT_FALSE(dsn.empty());
  EXPECT_EQ(query_text(dsn, "SELECT current_database()").rfind("harness_", 0), 0u);
  const pid_t server = test_postgres().pid;
  // A shutdown would have started by now; pg_sleep lets its signal land.
  EXPECT_EQ(query_text(dsn, "SELECT pg_sleep(0.5)::text || 'alive'"), "alive");
  EXPECT_FALSE(process_gone(server));
  EXPECT_EQ(query_text(create_database("harness"), "SELECT 1"), "1");
}

}  // namespace
}  // namespace cdrd::test
