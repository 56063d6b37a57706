// cdrd restarted at once after kill -9 on the embedded database, and one
// cdrd per state directory (issue 11): a supervisor that restarts without
// delay (runit, supervisord, systemd with a short RestartSec) must not see a
// crash loop while the killed cdrd's PostgreSQL is still shutting down, and
// a second cdrd must never share a live one's spool and data directory.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

constexpr const char* kLeftoverLine = "the PostgreSQL server of an earlier owner that died still runs on";

// The embedded server's postmaster, from its postmaster.pid (0 when unknown).
pid_t postmaster_pid(const std::string& state_dir) {
  const std::string text = read_file(state_dir + "/pgdata/postmaster.pid");
  return static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
}

std::string embedded_dsn(const std::string& state_dir) {
  return "host=" + state_dir + "/run port=5432 dbname=cdrd user=cdrd";
}

// Starts a second cdrd (config and log in `own_dir`) on `first`'s state_dir
// and expects it to exit 1 naming that state_dir and first's pid.
void expect_refused(const CdrdProcess& first, const std::string& dsn, const std::string& own_dir) {
  CdrdProcess second(own_dir, dsn, "", first.state_dir());
  EXPECT_FALSE(second.start(false, 60));
  EXPECT_EQ(second.wait_exit(), 1);
  const std::string want =
      "state_dir " + first.state_dir() + " is in use by another cdrd (pid " + std::to_string(first.pid()) + ")";
  EXPECT_NE(second.log().find(want), std::string::npos) << second.log();
}

TEST(RestartE2E, KillNineThenImmediateRestartTwentyTimesUnderLoad) {
  constexpr int kRounds = 20;
  TempDir state;
  CdrdProcess cdrd(state.path(), "embedded");
  ASSERT_TRUE(cdrd.start(true, 180)) << cdrd.log();

  // Two media servers posting without pause; a refused or cut request is
  // sent again later, as mod_json_cdr does. Only a 200 counts as acknowledged.
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  constexpr int kSenders = 2;
  std::vector<std::thread> senders;
  senders.reserve(kSenders);
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&] {
      std::string uuid = random_uuid();
      while (!stop) {
        const HttpResponse r = http_request(cdrd.port(), "POST", "/ingest/freeswitch/json",
                                            unique_cdr(uuid, "acct-restart"), {{"Content-Type", "application/json"}});
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(uuid);
          uuid = random_uuid();
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }
  auto acked_count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acked.size();
  };

  for (int round = 0; round < kRounds; ++round) {
    const size_t before = acked_count();
    ASSERT_TRUE(eventually([&] { return acked_count() >= before + 10; }, std::chrono::seconds(60)))
        << "round " << round << ": no acknowledgements\n"
        << cdrd.log();
    // Round 0 makes sure a restart meets the old server, however fast the
    // build is: its postmaster is frozen (SIGSTOP) before the kill, so it is
    // still there when the new cdrd looks; once that cdrd has said it waits
    // for it, the postmaster goes on (SIGCONT) and shuts down on the SIGINT
    // the kernel sent it when its owner died.
    pid_t frozen = 0;
    if (round == 0) {
      frozen = postmaster_pid(cdrd.state_dir());
      ASSERT_GT(frozen, 0);
      ASSERT_EQ(kill(frozen, SIGSTOP), 0);
    }
    cdrd.signal(SIGKILL);
    ASSERT_EQ(cdrd.wait_exit(), 128 + SIGKILL);
    std::thread thaw;
    if (frozen > 0) {
      const std::string log_path = cdrd.state_dir() + "/cdrd.log";
      const size_t said = count_of(read_file(log_path), kLeftoverLine);
      thaw = std::thread([frozen, log_path, said] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (count_of(read_file(log_path), kLeftoverLine) == said && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        kill(frozen, SIGCONT);
      });
    }
    // At once: the killed cdrd's postmaster got SIGINT from the kernel and is
    // still in its fast shutdown (or frozen, in round 0).
    const bool started = cdrd.start(true, 120);
    if (thaw.joinable()) thaw.join();
    ASSERT_TRUE(started) << "round " << round << ": cdrd did not come back (exit " << cdrd.wait_exit() << ")\n"
                         << cdrd.log();
  }
  stop = true;
  for (auto& t : senders) t.join();

  const std::string log = cdrd.log();
  EXPECT_EQ(count_of(log, "is in use by another cdrd"), 0u) << log;
  EXPECT_EQ(count_of(log, "lock file \"postmaster.pid\" already exists"), 0u) << log;
  // The restarts met the old server still running (round 0 always does),
  // said so, and waited.
  EXPECT_GE(count_of(log, kLeftoverLine), 1u) << log;

  const std::string dsn = embedded_dsn(state.path());
  ASSERT_TRUE(eventually(
      [&] {
        return query_count(dsn, "SELECT count(*) FROM cdrs WHERE account_id = 'acct-restart'") >=
               static_cast<long long>(acked.size());
      },
      std::chrono::seconds(60)));
  const std::set<std::string> stored = stored_once(dsn, "acct-restart");
  for (const auto& uuid : acked) EXPECT_EQ(stored.count(uuid), 1u) << "acknowledged but missing: " << uuid;
  EXPECT_GE(acked.size(), static_cast<size_t>(kRounds * 10));
  cdrd.signal(SIGTERM);
  EXPECT_EQ(cdrd.wait_exit(90), 0) << cdrd.log();
}

// A second cdrd on a live one's state directory is refused, names the
// holder, and leaves the first one (and its embedded server) running.
TEST(RestartE2E, SecondCdrdOnALiveStateDirIsRefused) {
  TempDir state;
  CdrdProcess first(state.path(), "embedded");
  ASSERT_TRUE(first.start(true, 180)) << first.log();

  TempDir other;
  expect_refused(first, "embedded", other.path());

  // Untouched: still ready, still storing.
  EXPECT_EQ(http_request(first.port(), "GET", "/readyz").status, 200);
  const std::string uuid = random_uuid();
  ASSERT_EQ(http_request(first.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid, "acct-first"),
                         {{"Content-Type", "application/json"}})
                .status,
            200);
  EXPECT_TRUE(eventually([&] {
    return query_count(embedded_dsn(state.path()), "SELECT count(*) FROM cdrs WHERE call_id = '" + uuid + "'") == 1;
  }));
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait_exit(90), 0) << first.log();
}

// The same for an external database: the lock guards the spool.
TEST(RestartE2E, SecondCdrdOnALiveStateDirIsRefusedWithAnExternalDatabase) {
  const std::string unreachable = "host=127.0.0.1 port=1 dbname=none connect_timeout=1";
  TempDir state;
  CdrdProcess first(state.path(), unreachable);
  ASSERT_TRUE(first.start(false, 60)) << first.log();
  TempDir other;
  expect_refused(first, unreachable, other.path());
  // Once the first is gone, the lock is free again (kill -9 included).
  first.signal(SIGKILL);
  EXPECT_EQ(first.wait_exit(), 128 + SIGKILL);
  CdrdProcess third(other.path(), unreachable, "", state.path());
  ASSERT_TRUE(third.start(false, 60)) << third.log();
  third.signal(SIGTERM);
  EXPECT_EQ(third.wait_exit(60), 0) << third.log();
}

}  // namespace
}  // namespace cdrd::test
