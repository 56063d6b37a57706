// The fault matrix (issue 5, item 1): numbered CDRs over HTTP (mod_json_cdr,
// 4 keep-alive senders) and ESL (numbered CHANNEL_HANGUP_COMPLETE events)
// while one fault at a time is injected under load. After each phase the
// load stops, cdrd writes everything out, and every number is counted in
// PostgreSQL. One process runs every phase and prints the table.
//
// What is asserted, per phase:
//  - HTTP: every acknowledged (200) number is in `cdrs` exactly once; no
//    number (acknowledged or not) is there twice.
//  - ESL: no number twice. For faults that leave cdrd running, every event
//    handed to the socket is there too (cdrd must stop reading when its spool
//    refuses, never drop). When cdrd is SIGKILLed, events in its socket
//    buffer or not yet fdatasync'd are lost by protocol (ESL has no
//    acknowledgement; FreeSWITCH does not resend): they are only reported.
//  - the 503s cdrd counted (cdrd_unavailable_total) equal the 503s the
//    senders saw, for phases where cdrd is not killed (the counter is per
//    process lifetime).
//  - cdrd recovered by itself: /readyz 200 and the ESL link up again, with
//    no restart by the test (except after the SIGKILLs, where the test
//    restarts it as systemd would).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/db/embedded_postgres.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/esl/esl_test_server.h"
#include "tests/faults/numbered_load.h"
#include "tests/faults/pg_proxy.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kHttpThreads = 4;
constexpr auto kHttpInterval = 20ms;  // per thread: 4 x 50/s
constexpr auto kEslInterval = 10ms;   // 100/s
constexpr auto kSettle = 2s;          // load before and after each fault

struct Row {
  std::string fault;
  HttpLoadCounts http;
  long long unavailable_counted = -1;  // -1: not comparable (cdrd killed)
  uint64_t http_found = 0, http_lost = 0, http_dup = 0, http_unacked_stored = 0;
  uint64_t esl_sent = 0, esl_found = 0, esl_lost = 0, esl_dup = 0;
  std::string note;
};
std::vector<Row>& table() {
  static std::vector<Row> rows;
  return rows;
}

void print_table() {
  std::printf("\nFAULT MATRIX\n");
  std::printf(
      "| fault | HTTP sent | HTTP acked | 503 seen / counted | transport errors | HTTP rows found | HTTP lost | HTTP "
      "dup | acked never | ESL sent | ESL rows found | ESL lost | ESL dup | note |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : table()) {
    const std::string counted = r.unavailable_counted < 0 ? "n/a" : std::to_string(r.unavailable_counted);
    std::ostringstream line;
    line << "| " << r.fault << " | " << r.http.sent << " | " << r.http.acknowledged << " | " << r.http.status_503
         << " / " << counted << " | " << r.http.other_errors << " | " << r.http_found << " | " << r.http_lost << " | "
         << r.http_dup << " | " << r.http.sent - r.http.acknowledged << " | " << r.esl_sent << " | " << r.esl_found
         << " | " << r.esl_lost << " | " << r.esl_dup << " | " << r.note << " |\n";
    std::fputs(line.str().c_str(), stdout);
  }
  std::fflush(stdout);
}

std::string metrics_of(const CdrdProcess& cdrd) { return http_request(cdrd.port(), "GET", "/metrics").body; }

// The value of an unlabelled sample, or -1 when absent.
long long metric_value(const std::string& metrics, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const size_t at = metrics.find(key);
  if (at == std::string::npos) return -1;
  return std::strtoll(metrics.c_str() + at + key.size(), nullptr, 10);
}

class FaultMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_dir_ = new TempDir();
    EmbeddedPostgresOptions options;
    options.data_dir = pg_dir_->path() + "/data";
    options.socket_dir = pg_dir_->path() + "/run";
    options.port = free_port();  // fixed, so that a restarted server is where cdrd (via the proxy) looks
    options.fast_unsafe = true;
    // fsync=off survives a SIGKILL of the server (the OS keeps the pages),
    // but an asynchronous commit does not: cdrd would be told "committed"
    // for a batch the killed server never wrote, and the test would blame cdrd.
    options.settings = {"synchronous_commit=on"};
    pg_ = new EmbeddedPostgres(options);
    std::string error;
    ASSERT_TRUE(pg_->start(&error)) << error;
    proxy_ = new PgProxy(pg_->port());
    ASSERT_TRUE(proxy_->start());
  }
  static void TearDownTestSuite() {
    print_table();
    delete proxy_;
    delete pg_;
    delete pg_dir_;
  }

  // cdrd reaches PostgreSQL through the proxy; the test counts directly.
  static std::string cdrd_dsn() {
    return "host=127.0.0.1 port=" + std::to_string(proxy_->port()) + " dbname=cdrd user=cdrd sslmode=disable";
  }

  void begin(const std::string& fault, const std::string& extra_yaml = "",
             const std::vector<std::pair<std::string, std::string>>& env = {}, bool start_now = true) {
    row_.fault = fault;
    account_ = "fault-" + std::to_string(table().size() + 1);
    esl_load_ = std::make_unique<EslLoad>(&esl_, account_, kEslInterval);
    esl_load_->start();
    ASSERT_TRUE(esl_.start());
    const std::string yaml =
        "freeswitch:\n  - name: fs1\n    host: 127.0.0.1\n    port: " + std::to_string(esl_.port()) +
        "\n    password: ClueCon\n" + extra_yaml;
    cdrd_ = std::make_unique<CdrdProcess>(state_.path(), cdrd_dsn(), yaml);
#if defined(__SANITIZE_ADDRESS__)
    // libpqxx 6.4 leaks the PGresult of the statement that finds a connection
    // broken (see tests/db/cdr_store_pgtest.cpp): every phase that takes
    // PostgreSQL away meets it in cdrd's writer. Not cdrd's leak.
    const std::string suppressions = state_.path() + "/lsan.supp";
    std::ofstream(suppressions) << "leak:libpqxx-6.4.so\n";
    const char* lsan = std::getenv("LSAN_OPTIONS");
    cdrd_->set_env("LSAN_OPTIONS", std::string(lsan ? lsan : "") + ":suppressions=" + suppressions);
#endif
    for (const auto& [name, value] : env) cdrd_->set_env(name, value);
    if (start_now) start_load();
  }
  void start_load() {
    ASSERT_TRUE(cdrd_->start(true, 120)) << cdrd_->log();
    http_load_ = std::make_unique<HttpLoad>(cdrd_->port(), account_, kHttpThreads, kHttpInterval);
    http_load_->start();
    std::this_thread::sleep_for(kSettle);
  }

  bool pg_start() {
    std::string error;
    if (pg_->start(&error)) return true;
    ADD_FAILURE() << error;
    return false;
  }
  bool pg_stop() {
    std::string error;
    if (pg_->stop(&error)) return true;
    ADD_FAILURE() << error;
    return false;
  }

  // Stops the load, waits until cdrd has written everything out, counts.
  void end(bool cdrd_was_killed) {
    std::this_thread::sleep_for(kSettle);
    esl_load_->stop();
    const bool all_acked = http_load_->finish(Clock::now() + 120s);
    row_.http = http_load_->counts();
    row_.esl_sent = esl_load_->sent();
    EXPECT_TRUE(all_acked) << "some numbers never got a 200 within 120 s of the end of the load";
    EXPECT_EQ(row_.http.unexpected_4xx, 0u);

    // Written out: nothing pending in the spool, and the rows stopped changing.
    long long last = -1;
    int stable = 0;
    const auto deadline = Clock::now() + 180s;
    while (Clock::now() < deadline && stable < 3) {
      std::this_thread::sleep_for(500ms);
      const long long rows = query_count(pg_->dsn(), "SELECT count(*) FROM cdrs WHERE account_id = '" + account_ + "'");
      const long long pending = metric_value(metrics_of(*cdrd_), "cdrd_spool_pending_records");
      const long long expected_rows =
          static_cast<long long>(row_.http.acknowledged) + static_cast<long long>(row_.esl_sent);
      const bool complete = cdrd_was_killed || rows >= expected_rows;
      stable = (pending == 0 && rows == last && complete) ? stable + 1 : 0;
      last = rows;
    }
    EXPECT_EQ(stable, 3) << "cdrd did not finish writing within 180 s\n" << metrics_of(*cdrd_);

    count_rows(cdrd_was_killed);
    const std::string m = metrics_of(*cdrd_);
    const std::string refusals_key = "cdrd_esl_spool_refusals_total{node=\"fs1\"} ";
    const size_t refusals_at = m.find(refusals_key);
    const long long esl_refusals = refusals_at == std::string::npos
                                       ? -1
                                       : std::strtoll(m.c_str() + refusals_at + refusals_key.size(), nullptr, 10);
    row_.note += (row_.note.empty() ? "" : "; ") + std::string("writer errors ") +
                 std::to_string(metric_value(m, "cdrd_writer_errors_total")) + ", ESL paused (spool refusals) " +
                 std::to_string(esl_refusals) + (cdrd_was_killed ? " (last run)" : "");
    if (!cdrd_was_killed) {
      row_.unavailable_counted = metric_value(metrics_of(*cdrd_), "cdrd_unavailable_total");
      EXPECT_EQ(row_.unavailable_counted, static_cast<long long>(row_.http.status_503))
          << "the 503s cdrd counted differ from what the senders saw";
    }
    // Recovered by itself.
    EXPECT_TRUE(eventually([&] { return http_request(cdrd_->port(), "GET", "/readyz").status == 200; }, 60s))
        << http_request(cdrd_->port(), "GET", "/readyz").body;
    EXPECT_NE(metrics_of(*cdrd_).find("cdrd_esl_connected{node=\"fs1\"} 1\n"), std::string::npos);
    table().push_back(row_);
    cdrd_->signal(SIGTERM);
    EXPECT_EQ(cdrd_->wait_exit(90), 0) << cdrd_->log();
    esl_.stop();
  }

  void count_rows(bool cdrd_was_killed) {
    std::map<std::string, long long> found;  // "h<n>" / "e<n>" -> rows
    pqxx::connection conn(pg_->dsn());
    pqxx::nontransaction tx(conn);
    for (const auto& r : tx.exec("SELECT record->'custom_channel_vars'->>'fault_seq', count(*) FROM cdrs "
                                 "WHERE account_id = " +
                                 tx.quote(account_) + " GROUP BY 1")) {
      found[r[0].is_null() ? "(none)" : r[0].as<std::string>()] = r[1].as<long long>();
    }
    EXPECT_EQ(found.count("(none)"), 0u) << "a row without its number";
    const std::set<uint64_t> acked = http_load_->acknowledged();
    for (const uint64_t seq : acked) {
      const auto it = found.find("h" + std::to_string(seq));
      if (it == found.end()) {
        ++row_.http_lost;
      } else {
        ++row_.http_found;
      }
    }
    for (const uint64_t seq : http_load_->sent()) {
      const auto it = found.find("h" + std::to_string(seq));
      if (it == found.end()) continue;
      if (it->second > 1) ++row_.http_dup;
      if (acked.count(seq) == 0) ++row_.http_unacked_stored;
    }
    for (uint64_t seq = 1; seq <= row_.esl_sent; ++seq) {
      const auto it = found.find("e" + std::to_string(seq));
      if (it == found.end()) {
        ++row_.esl_lost;
        continue;
      }
      ++row_.esl_found;
      if (it->second > 1) ++row_.esl_dup;
    }
    EXPECT_EQ(row_.http_lost, 0u) << "acknowledged CDRs missing from cdrs";
    EXPECT_EQ(row_.http_dup, 0u) << "CDRs stored more than once";
    EXPECT_EQ(row_.esl_dup, 0u) << "ESL events stored more than once";
    if (!cdrd_was_killed) {
      EXPECT_EQ(row_.esl_lost, 0u) << "ESL events dropped while cdrd was running";
    }
    EXPECT_GT(row_.http.acknowledged, 0u);
    EXPECT_GT(row_.esl_found, 0u);
  }

  // How many whole days cdrd's CLOCK_REALTIME is off ours, from the Date
  // header evhttp puts on every reply (e.g. "Wed, 30 Dec 2027 01:57:18 GMT").
  long days_ahead_of_cdrd() const {
    const HttpResponse r = http_request(cdrd_->port(), "GET", "/healthz");
    const auto it = r.headers.find("date");
    if (it == r.headers.end()) return -9999;
    std::tm tm{};
    if (::strptime(it->second.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return -9999;
    const double diff = std::difftime(::timegm(&tm), std::time(nullptr));
    return std::lround(diff / 86400.0);
  }

  static TempDir* pg_dir_;
  static EmbeddedPostgres* pg_;
  static PgProxy* proxy_;

  TempDir state_;
  std::string account_;
  Row row_;
  // The load's generator runs on the server's thread: the server goes first.
  std::unique_ptr<EslLoad> esl_load_;
  EslTestServer esl_;
  std::unique_ptr<HttpLoad> http_load_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TempDir* FaultMatrix::pg_dir_ = nullptr;
EmbeddedPostgres* FaultMatrix::pg_ = nullptr;
PgProxy* FaultMatrix::proxy_ = nullptr;

TEST_F(FaultMatrix, CdrdKilledThreeTimes) {
  begin("cdrd SIGKILL x3, restarted");
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(2s);
    cdrd_->signal(SIGKILL);
    EXPECT_EQ(cdrd_->wait_exit(30), 128 + SIGKILL);
    // As systemd would (Restart=always): same state dir, same port.
    ASSERT_TRUE(cdrd_->start(true, 120)) << cdrd_->log();
  }
  row_.note = "ESL loss allowed (no ack; killed mid-stream)";
  end(true);
}

TEST_F(FaultMatrix, PostgresStoppedFor30s) {
  begin("PostgreSQL stopped 30 s");
  ASSERT_TRUE(pg_stop());
  std::this_thread::sleep_for(30s);
  ASSERT_TRUE(pg_start());
  end(false);
}

TEST_F(FaultMatrix, PostgresKilled) {
  begin("PostgreSQL SIGKILL, restarted");
  pg_->kill_hard();
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(pg_start());  // crash recovery
  end(false);
}

TEST_F(FaultMatrix, WriterConnectionCutMidCopy) {
  begin("writer connection cut mid-COPY x5");
  const int before = proxy_->cuts();
  for (int i = 0; i < 5; ++i) {
    proxy_->arm_cut();
    EXPECT_TRUE(eventually([] { return !proxy_->armed(); }, 60s)) << "no COPY went through the proxy";
    std::this_thread::sleep_for(1s);
  }
  EXPECT_EQ(proxy_->cuts() - before, 5);
  row_.note = std::to_string(proxy_->cuts() - before) + " cuts";
  end(false);
}

// The spool's own size limit, with the database away so that it fills.
TEST_F(FaultMatrix, SpoolLimitReached) {
  begin("spool.max_bytes reached (PostgreSQL stopped)", "spool:\n  max_bytes: 2MiB\n  segment_bytes: 64KiB\n");
  ASSERT_TRUE(pg_stop());
  EXPECT_TRUE(eventually([&] { return http_load_->counts().status_503 > 0; }, 60s));
  std::this_thread::sleep_for(3s);  // refused for a while: ESL paused, senders retrying
  ASSERT_TRUE(pg_start());
  end(false);
}

// The disk under the spool fills up (a 3 MiB tmpfs mounted on
// state_dir/spool) while the database is away: appends hit ENOSPC.
TEST_F(FaultMatrix, SpoolDiskFull) {
  const std::string spool_dir = state_.path() + "/spool";
  std::filesystem::create_directories(spool_dir);
  if (::mount("tmpfs", spool_dir.c_str(), "tmpfs", 0, "size=3m,mode=0700") != 0) {
    table().push_back(Row{"spool disk full (tmpfs)",
                          {},
                          -1,
                          0,
                          0,
                          0,
                          0,
                          0,
                          0,
                          0,
                          0,
                          std::string("SKIPPED: mount tmpfs: ") + std::strerror(errno)});
    GTEST_SKIP() << "cannot mount a tmpfs on the spool directory: " << std::strerror(errno);
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{spool_dir};
  // Segments small against the disk, so that committed ones free space.
  begin("spool disk full (3 MiB tmpfs, PostgreSQL stopped)", "spool:\n  segment_bytes: 128KiB\n");
  ASSERT_TRUE(pg_stop());
  EXPECT_TRUE(eventually([&] { return http_load_->counts().status_503 > 0; }, 60s));
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(pg_start());
  end(false);
}

// CLOCK_REALTIME jumps under load (libfaketime, re-read on every call; the
// monotonic clock is left alone, as in a real jump).
TEST_F(FaultMatrix, ClockJumps) {
  const char* lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  struct stat st {};
  if (::stat(lib, &st) != 0) {
    table().push_back(Row{"clock jumps", {}, -1, 0, 0, 0, 0, 0, 0, 0, 0, "SKIPPED: libfaketime not installed"});
    GTEST_SKIP() << lib << " is missing (Debian package libfaketime)";
  }
  const std::string offset_file = state_.path() + "/faketime";
  const auto set_offset = [&](const std::string& offset) { std::ofstream(offset_file) << offset << "\n"; };
  set_offset("+0");
  std::vector<std::pair<std::string, std::string>> env = {
      {"LD_PRELOAD", lib},
      {"FAKETIME_TIMESTAMP_FILE", offset_file},
      {"FAKETIME_NO_CACHE", "1"},
      {"FAKETIME_DONT_FAKE_MONOTONIC", "1"},
  };
#if defined(__SANITIZE_ADDRESS__)
  // ASan insists on being first in the link order; libfaketime comes before it.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env.emplace_back("ASAN_OPTIONS", std::string(asan ? asan : "") + ":verify_asan_link_order=0");
#endif
  begin("clock jumps +400 d, then -3 d", "", env);
  set_offset("+400d");
  // The jump is real for cdrd: its HTTP Date header (time()) moved.
  EXPECT_TRUE(eventually([&] { return days_ahead_of_cdrd() == 400; }, 30s)) << days_ahead_of_cdrd();
  std::this_thread::sleep_for(3s);
  set_offset("-3d");
  EXPECT_TRUE(eventually([&] { return days_ahead_of_cdrd() == -3; }, 30s)) << days_ahead_of_cdrd();
  std::this_thread::sleep_for(3s);
  end(false);
}

}  // namespace
}  // namespace cdrd::test
