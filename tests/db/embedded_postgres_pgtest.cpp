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

namespace cdrd::test {
namespace {
namespace fs = std::filesystem;

EmbeddedPostgresOptions options_in(const ServerTempDir& dir) {
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

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
  ServerTempDir dir;
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
  ServerTempDir dir;
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
  ServerTempDir dir;
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
  ServerTempDir dir;
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
  ServerTempDir dir;
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

// PR_SET_PDEATHSIG fires when the forking *thread* ends: the harness must
// not let a thread that made the first call take the server down with it.
TEST(TestPostgresHarnessTest, ServerOutlivesTheThreadThatStartedIt) {
  std::string dsn;
  std::thread([&dsn] { dsn = create_database("harness"); }).join();
  ASSERT_FALSE(dsn.empty());
  EXPECT_EQ(query_text(dsn, "SELECT current_database()").rfind("harness_", 0), 0u);
  const pid_t server = test_postgres().pid();
  // A shutdown would have started by now; pg_sleep lets its signal land.
  EXPECT_EQ(query_text(dsn, "SELECT pg_sleep(0.5)::text || 'alive'"), "alive");
  EXPECT_TRUE(test_postgres().running());
  EXPECT_FALSE(process_gone(server));
  EXPECT_EQ(query_text(create_database("harness"), "SELECT 1"), "1");
}

}  // namespace
}  // namespace cdrd::test
