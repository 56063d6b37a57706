// Back-pressure end to end with the real cdrd: a small spool and the
// database stopped. HTTP ingest answers 503 once the spool is full (and
// /metrics counts exactly the 503s the client saw); the ESL client stops
// reading its socket, so the hangups wait in TCP (as they would in
// FreeSWITCH) instead of being dropped. When PostgreSQL comes back both
// recover by themselves, and every acknowledged CDR and every ESL hangup sent
// is in cdrs exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "daemon/db/embedded_postgres.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/esl/esl_test_server.h"

namespace cdrd::test {
namespace {

constexpr int kEslEvents = 300;  // ~15 KB each: far more than the 1 MiB spool holds
constexpr int kEslHeartbeatTimeoutS = 3;

// The ESL sample's call id, replaced by one per event.
constexpr const char* kSampleCallId = "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4";

std::string esl_call_id(int i) {
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid), "0bac6e55-0000-4000-8000-%012d", i);
  return uuid;
}

// Bytes received but not yet read by the process on the client side of the
// established IPv4 connection to 127.0.0.1:`server_port` (the rx_queue
// column of /proc/net/tcp); -1 when there is no such connection.
long unread_bytes_towards(int server_port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char port_hex[8];
  std::snprintf(port_hex, sizeof(port_hex), "%04X", server_port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    if (state != "01" || remote.size() < 5 || remote.substr(remote.size() - 4) != port_hex) continue;
    return std::stol(queues.substr(queues.find(':') + 1), nullptr, 16);
  }
  return -1;
}

// A metric line's value ("name{labels} value"), -1 when absent.
long long metric_value(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.substr(at + series.size() + 2));
}

class BackpressureE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    EmbeddedPostgresOptions options;
    options.data_dir = pg_dir_.path() + "/data";
    options.socket_dir = pg_dir_.path() + "/run";
    options.port = free_port();
    options.fast_unsafe = true;
    pg_ = std::make_unique<EmbeddedPostgres>(options);
    std::string error;
    ASSERT_TRUE(pg_->start(&error)) << error;
    dsn_ = pg_->dsn();
  }
  void TearDown() override {
    finished_ = true;
    esl_.stop();
  }
  long long count(const std::string& where) { return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE " + where); }

  TempDir pg_dir_;
  std::unique_ptr<EmbeddedPostgres> pg_;
  std::string dsn_;
  EslTestServer esl_;
  std::atomic<bool> go_{false};        // the ESL node starts sending hangups
  std::atomic<bool> finished_{false};  // the ESL node stops its heartbeats
  std::atomic<int> esl_sent_{0};       // hangups written whole to the socket
};

TEST_F(BackpressureE2E, FullSpoolAnswers503AndPausesEslUntilTheDatabaseCatchesUp) {
  // The ESL node: kEslEvents hangups once `go_`, then a heartbeat every
  // 300 ms (so the link stays up afterwards) until the test ends.
  const std::string sample = read_sample("esl_hangup_plain_cgrates_2018b.txt");
  EslSessionScript script;
  script.generator = [&](uint64_t index, std::string* bytes) {
    while (!go_ && !finished_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (finished_) return false;
    // Called for `index` once the blocks before it were written whole.
    esl_sent_ = static_cast<int>(std::min<uint64_t>(index, kEslEvents));
    if (index < static_cast<uint64_t>(kEslEvents)) {
      *bytes = frame_plain_event(replace_all(sample, kSampleCallId, esl_call_id(static_cast<int>(index))));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      *bytes = heartbeat_event_frame();
    }
    return true;
  };
  esl_.add_session(script);
  ASSERT_TRUE(esl_.start());

  TempDir state;
  CdrdProcess cdrd(state.path(), dsn_,
                   "spool:\n  max_bytes: 1MiB\n  segment_bytes: 64KiB\n"
                   "freeswitch:\n  - name: fs1\n    host: 127.0.0.1\n    port: " +
                       std::to_string(esl_.port()) +
                       "\n    heartbeat_timeout_s: " + std::to_string(kEslHeartbeatTimeoutS) + "\n");
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  const auto metrics = [&] { return http_request(cdrd.port(), "GET", "/metrics").body; };
  ASSERT_TRUE(eventually([&] { return metric_value(metrics(), "cdrd_esl_connected{node=\"fs1\"}") == 1; }))
      << cdrd.log();

  std::string error;
  ASSERT_TRUE(pg_->stop(&error)) << error;

  // Some HTTP CDRs while there is room, then the ESL node fills the spool.
  std::set<std::string> acked;
  int refused_seen = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string uuid = random_uuid();
    const HttpResponse r = http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid, "acct-bp"));
    ASSERT_EQ(r.status, 200) << r.body;
    acked.insert(uuid);
  }
  go_ = true;
  ASSERT_TRUE(eventually([&] { return metric_value(metrics(), "cdrd_esl_spool_refusals_total{node=\"fs1\"}") > 0; }))
      << cdrd.log();

  // Full: an ESL hangup no longer fits. A smaller HTTP CDR may still fit in
  // what is left; once one is refused, every one is (nothing leaves the
  // spool while the database is down), and /metrics counts each 503.
  for (int i = 0; i < 100 && refused_seen == 0; ++i) {
    const std::string uuid = random_uuid();
    const HttpResponse r = http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid, "acct-bp"));
    if (r.status == 200) {
      acked.insert(uuid);
    } else {
      ASSERT_EQ(r.status, 503) << r.body;
      ++refused_seen;
    }
  }
  ASSERT_EQ(refused_seen, 1);
  for (int i = 0; i < 19; ++i) {
    const HttpResponse r =
        http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(random_uuid(), "acct-bp"));
    ASSERT_EQ(r.status, 503) << r.body;
    EXPECT_NE(r.body.find("\"spool_full\""), std::string::npos) << r.body;
    ++refused_seen;
  }
  EXPECT_EQ(metric_value(metrics(), "cdrd_unavailable_total"), refused_seen);

  // The ESL client no longer reads: bytes wait unread in its socket and the
  // node has not been able to send everything.
  long unread = -1;
  ASSERT_TRUE(eventually([&] {
    const long before = unread_bytes_towards(esl_.port());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    unread = unread_bytes_towards(esl_.port());
    return unread > 0 && unread == before;
  })) << cdrd.log();
  // Loopback TCP buffers may hold all the node sent: what counts is that
  // cdrd took only part of the hangups and left the rest unread.
  const long long taken = metric_value(metrics(), "cdrd_received_total{source=\"esl\"}");
  EXPECT_GT(taken, 0);
  EXPECT_LT(taken, kEslEvents);
  std::printf("paused: cdrd took %lld of %d hangups, %ld bytes wait unread in its socket, the node wrote %d\n", taken,
              kEslEvents, unread, esl_sent_.load());
  // Paused longer than heartbeat_timeout_s: the silence of a paused link is
  // not a dead link (the read timeout stops with reading), so nothing is
  // dropped and the link stays.
  std::this_thread::sleep_for(std::chrono::seconds(kEslHeartbeatTimeoutS + 1));
  EXPECT_EQ(unread_bytes_towards(esl_.port()), unread) << "still not reading";
  const std::string paused = metrics();
  EXPECT_EQ(metric_value(paused, "cdrd_esl_connected{node=\"fs1\"}"), 1) << paused;
  EXPECT_EQ(metric_value(paused, "cdrd_esl_reconnects_total{node=\"fs1\"}"), 0) << paused;
  EXPECT_EQ(metric_value(paused, "cdrd_unavailable_total"), refused_seen);

  // The database is back: the writer drains the spool, the ESL client reads
  // again, and HTTP ingest is accepted again.
  ASSERT_TRUE(pg_->start(&error)) << error;
  ASSERT_TRUE(eventually([&] { return count("source = 'esl'") == kEslEvents; }, std::chrono::seconds(240)))
      << "esl rows: " << count("source = 'esl'") << "\n"
      << cdrd.log();
  EXPECT_EQ(esl_sent_.load(), kEslEvents);
  const std::string uuid = random_uuid();
  ASSERT_TRUE(eventually([&] {
    return http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid, "acct-bp")).status == 200;
  }));
  acked.insert(uuid);
  ASSERT_TRUE(eventually([&] { return count("account_id = 'acct-bp'") == static_cast<long long>(acked.size()); }))
      << cdrd.log();

  // Exactly once: each hangup id and each acknowledged CDR is one row, no
  // refused CDR is stored, and cdrd inserted each row once.
  for (int i = 0; i < kEslEvents; ++i) {
    ASSERT_EQ(count("id = '201803-" + esl_call_id(i) + "'"), 1) << i;
  }
  for (const std::string& id : acked) EXPECT_EQ(count("id LIKE '%" + id + "'"), 1) << id;
  const std::string after = metrics();
  EXPECT_EQ(metric_value(after, "cdrd_inserted_total"), kEslEvents + static_cast<long long>(acked.size())) << after;
  EXPECT_EQ(metric_value(after, "cdrd_unavailable_total"), refused_seen) << after;
  EXPECT_EQ(metric_value(after, "cdrd_esl_reconnects_total{node=\"fs1\"}"), 0) << after;
  EXPECT_EQ(esl_.connections(), 1);

  cdrd.signal(SIGTERM);
  EXPECT_EQ(cdrd.wait_exit(), 0) << cdrd.log();
}

}  // namespace
}  // namespace cdrd::test
