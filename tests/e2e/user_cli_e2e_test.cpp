// End to end: `cdrd user create|list|revoke` with the real binary against a
// test database. The password comes through stdin (a script's way) or a
// terminal (a pseudo-terminal here: prompted twice, never echoed); what is
// stored is the Argon2id hash of md5("login:password"), checked with the
// credentials worked out by `printf %s LOGIN:PASSWORD | md5sum`. Refusals
// name the problem: exit 2 for a bad login or password (nothing stored), 1
// for what the table says no to.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <pqxx/pqxx>
#include <string>

#include "daemon/auth/password_hash.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

// printf %s alice:secret | md5sum
const char kAliceCredentials[] = "6f622058968bb90757e6c6ed79e5df81";
// printf %s 'bob:p@ss w0rd' | md5sum
const char kBobCredentials[] = "3159c8cb62c7a0670e1330d9ea37f126";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A directory with the command's configuration (the test database) where
// the commands run.
class UserCli {
 public:
  explicit UserCli(const std::string& db_prefix) : dsn_(create_migrated_database(db_prefix)) {
    write_file(dir_.file("cdrd.yaml"),
               "state_dir: " + dir_.file("state") + "\ndatabase:\n  dsn: \"" + dsn_ + "\"\nlog:\n  level: warn\n");
  }
  // `cdrd user ARGS -c cdrd.yaml` with `stdin_text` as its whole stdin
  // (printf %s, so nothing is added); stdout and stderr together.
  CommandResult user(const std::string& args, const std::string& stdin_text = "") const {
    const std::string quoted = "'" + replace_all(stdin_text, "'", "'\\''") + "'";
    return run_command("cd " + dir_.path() + " && printf %s " + quoted + " | " + CDRD_BINARY + " user " + args +
                       " -c cdrd.yaml");
  }
  CommandResult user_without_stdin(const std::string& args) const {
    return run_command("cd " + dir_.path() + " && " + CDRD_BINARY + " user " + args + " -c cdrd.yaml </dev/null");
  }
  std::string config_path() const { return dir_.file("cdrd.yaml"); }
  const std::string& dsn() const { return dsn_; }
  // The stored hash of `login`, "" when there is no such row.
  std::string secret_hash(const std::string& login) const {
    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    const pqxx::result r = tx.exec_params("SELECT secret_hash FROM api_users WHERE login = $1", login);
    return r.empty() ? "" : r[0][0].as<std::string>();
  }

 private:
  TempDir dir_;
  std::string dsn_;
};

TEST(UserCliE2E, CreateThroughStdinListAndRevoke) {
  const UserCli cli("e2e_user_cli");
  CommandResult out =
      cli.user("create --login alice --account acct-a --account acct-b --owner-id 8a2b4c6d", "secret\n");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "login: alice\naccounts: acct-a,acct-b\nowner_id: 8a2b4c6d\n");
  const std::string hash = cli.secret_hash("alice");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(verify_user_secret(hash, kAliceCredentials));
  EXPECT_FALSE(verify_user_secret(hash, kBobCredentials));

  // The line may end in CRLF, and spaces belong to the password.
  out = cli.user("create --login bob --account '*'", "p@ss w0rd\r\n");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "login: bob\naccounts: *\n");
  EXPECT_TRUE(verify_user_secret(cli.secret_hash("bob"), kBobCredentials));
  // Only the first line is the password.
  out = cli.user("create --login carol --account acct-c", "secret\nsomething else\n");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  // printf %s carol:secret | md5sum
  EXPECT_TRUE(verify_user_secret(cli.secret_hash("carol"), "11dffc0d5f272d1d5b120e0175b9bcf1"));

  out = cli.user("list");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output.rfind("login\taccounts\towner_id\tcreated_at\trevoked_at\n", 0), 0u) << out.output;
  EXPECT_TRUE(contains(out.output, "\nalice\tacct-a,acct-b\t8a2b4c6d\t")) << out.output;
  EXPECT_TRUE(contains(out.output, "\nbob\t*\t-\t")) << out.output;
  EXPECT_FALSE(contains(out.output, "argon2")) << out.output;
  EXPECT_FALSE(contains(out.output, "secret")) << out.output;
  EXPECT_FALSE(contains(out.output, kAliceCredentials)) << out.output;

  out = cli.user("revoke alice");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "revoked user alice\n");
  EXPECT_EQ(query_count(cli.dsn(), "SELECT count(*) FROM api_users WHERE revoked_at IS NOT NULL"), 1);
  out = cli.user("list");
  const size_t line = out.output.find("\nalice\t");
  ASSERT_NE(line, std::string::npos) << out.output;
  const std::string row = out.output.substr(line + 1, out.output.find('\n', line + 1) - line - 1);
  EXPECT_EQ(row.back(), 'Z') << row;  // the revoked column holds a time, not "-"
  EXPECT_TRUE(contains(out.output, "\nbob\t*\t-\t")) << out.output;
  EXPECT_EQ(out.output.back(), '\n');

  out = cli.user("revoke alice");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.output, "cdrd user: the user \"alice\" is already revoked\n");
  out = cli.user("revoke nobody");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.output, "cdrd user: no user with the login \"nobody\"\n");
}

TEST(UserCliE2E, RefusalsNameTheProblemAndStoreNothing) {
  const UserCli cli("e2e_user_refusals");
  CommandResult out = cli.user("create --login alice --account acct-a", "secret\n");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const std::string alice_hash = cli.secret_hash("alice");

  out = cli.user("create --login alice --account acct-b", "other\n");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.output, "cdrd user: the login \"alice\" exists already\n");
  EXPECT_EQ(cli.secret_hash("alice"), alice_hash) << "the existing user is left as it was";

  out = cli.user("create --login al:ice --account acct-a", "secret\n");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(out.output,
            "cdrd user: the login \"al:ice\" must not contain ':' (Kazoo's credentials are md5 of "
            "\"login:password\")\n");
  out = cli.user("create --login '' --account acct-a", "secret\n");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(out.output, "cdrd user: the login must not be empty\n");
  out = cli.user("create --login dave --account acct-a", "\n");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(out.output, "cdrd user: the password must not be empty\n");
  out = cli.user_without_stdin("create --login dave --account acct-a");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(out.output, "cdrd user: no password: expected it as the first line of stdin\n");
  out = cli.user("create --login dave --account ''", "secret\n");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(out.output, "cdrd user: --account: an account id must not be empty\n");
  // CLI11's own refusals (exit 2, like a bad configuration).
  out = cli.user("create --login dave", "secret\n");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "--account")) << out.output;
  out = cli.user("create --account acct-a", "secret\n");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "--login")) << out.output;
  out = cli.user("revoke");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_TRUE(contains(out.output, "login")) << out.output;

  EXPECT_EQ(query_count(cli.dsn(), "SELECT count(*) FROM api_users"), 1);
}

// Reads from `fd` into *out until it holds `text` or 30 s pass. False on
// timeout or end of input without it.
bool read_until(int fd, const std::string& text, std::string* out) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!contains(*out, text)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;  // EIO: the child closed the terminal
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

// `cdrd user create` on a pseudo-terminal: the password is asked for twice
// and never shown; two different entries store nothing.
TEST(UserCliE2E, TerminalPasswordIsAskedTwiceWithoutEcho) {
  const UserCli cli("e2e_user_tty");
  const auto run_on_terminal = [&](const std::string& first, const std::string& second, std::string* screen) {
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid == 0) {
      ::execl(CDRD_BINARY, CDRD_BINARY, "user", "create", "--login", "alice", "--account", "acct-a", "-c",
              cli.config_path().c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    EXPECT_GT(pid, 0);
    if (pid <= 0) return -1;
    // Each entry only after its prompt: the prompt comes after echo is
    // off, and switching it off discards what was typed before.
    if (read_until(master, "Password for alice: ", screen)) {
      EXPECT_EQ(::write(master, (first + "\n").data(), first.size() + 1), static_cast<ssize_t>(first.size() + 1));
      if (read_until(master, "Repeat the password: ", screen)) {
        EXPECT_EQ(::write(master, (second + "\n").data(), second.size() + 1), static_cast<ssize_t>(second.size() + 1));
      }
    }
    read_until(master, "\x04never printed", screen);  // to the end of its output
    ::close(master);
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  };

  std::string screen;
  EXPECT_EQ(run_on_terminal("secret", "secret", &screen), 0) << screen;
  EXPECT_TRUE(contains(screen, "Password for alice: ")) << screen;
  EXPECT_TRUE(contains(screen, "login: alice\r\naccounts: acct-a\r\n")) << screen;
  EXPECT_FALSE(contains(screen, "secret")) << screen;
  EXPECT_TRUE(verify_user_secret(cli.secret_hash("alice"), kAliceCredentials));

  pqxx::connection conn(cli.dsn());
  pqxx::nontransaction(conn).exec("DELETE FROM api_users");
  screen.clear();
  EXPECT_EQ(run_on_terminal("secret", "secreT", &screen), 2) << screen;
  EXPECT_TRUE(contains(screen, "cdrd user: the two passwords differ")) << screen;
  EXPECT_FALSE(contains(screen, "secret")) << screen;
  EXPECT_EQ(query_count(cli.dsn(), "SELECT count(*) FROM api_users"), 0);
}

}  // namespace
}  // namespace cdrd::test
