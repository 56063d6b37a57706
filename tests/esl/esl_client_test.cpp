// EslClient against the test ESL server over real sockets, on a real
// event_base run by the test thread, storing into a real Spool in a temp dir.
#include "daemon/esl/esl_client.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "daemon/core/cdr_record.h"
#include "daemon/core/metrics.h"
#include "daemon/ingest/reject_store.h"
#include "daemon/spool/spool.h"
#include "tests/esl/esl_test_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// One stored record's canonical JSON.
struct Stored {
  rapidjson::Document doc;
  std::string str(const char* field) const {
    return doc.HasMember(field) && doc[field].IsString() ? doc[field].GetString() : "<absent>";
  }
  int64_t num(const char* field) const {
    return doc.HasMember(field) && doc[field].IsInt64() ? doc[field].GetInt64() : -1;
  }
};

// The hand-derived values of the plain samples: id = month (UTC) of
// variable_start_uepoch + Unique-ID; duration from variable_duration.
struct PlainExpectation {
  const char* file;
  const char* id;
  const char* call_id;
  const char* hangup_cause;
  int64_t duration_seconds;
};
const PlainExpectation kPlain[] = {
    {"esl_hangup_plain_cgrates_2014.txt", "201404-37e9b766-5256-4e4b-b1ed-3767b930fec8",
     "37e9b766-5256-4e4b-b1ed-3767b930fec8", "NORMAL_CLEARING", 18},
    {"esl_hangup_plain_cgrates_2015.txt", "201507-e3133bf7-dcde-4daf-9663-9a79ffcef5ad",
     "e3133bf7-dcde-4daf-9663-9a79ffcef5ad", "NORMAL_CLEARING", 66},
    {"esl_hangup_plain_cgrates_2018a.txt", "201803-a511b320-18a2-425f-b574-81a088fcd70a",
     "a511b320-18a2-425f-b574-81a088fcd70a", "MANAGER_REQUEST", 5},
    {"esl_hangup_plain_cgrates_2018b.txt", "201803-5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4",
     "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4", "NORMAL_CLEARING", 30},
};

class EslClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdrd-esl-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    open_spool(2ull << 30);
    rejects_ = std::make_unique<RejectStore>(dir_ + "/rejects");
    base_ = event_base_new();
    // Wakes the loop regularly so run_until() re-checks its condition.
    tick_ = event_new(
        base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    const timeval tv{0, 10000};
    event_add(tick_, &tv);
    normalize_ = std::make_shared<NormalizeOptions>();
    normalize_->node = "test-node";
    ASSERT_TRUE(server_.start());
  }

  void TearDown() override {
    client_.reset();
    server_.stop();
    event_free(tick_);
    event_base_free(base_);
    rejects_.reset();
    spool_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void open_spool(uint64_t max_bytes) {
    spool_.reset();
    SpoolOptions options;
    options.dir = dir_ + "/spool";
    options.max_bytes = max_bytes;
    std::string error;
    spool_ = Spool::open(options, &error);
    ASSERT_TRUE(spool_) << error;
  }

  EslClientOptions options(int heartbeat_timeout_s = 60) {
    EslClientOptions o;
    o.node.name = "fs1";
    o.node.host = "127.0.0.1";
    o.node.port = server_.port();
    o.node.heartbeat_timeout_s = heartbeat_timeout_s;
    o.backoff_initial = milliseconds(100);
    o.backoff_max = milliseconds(400);
    o.spool_retry = milliseconds(10);
    return o;
  }

  void start_client(EslClientOptions o) {
    EslClient::Parts parts{base_, spool_.get(), rejects_.get(), &metrics_};
    client_ = std::make_unique<EslClient>(parts, std::move(o), normalize_);
    client_->start();
  }

  // Runs the loop until `done` or `limit` (a bound on a hung test, not a timing assertion).
  bool run_until(const std::function<bool()>& done, seconds limit = seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return true;
  }

  void run_for(milliseconds window) {
    const auto until = std::chrono::steady_clock::now() + window;
    run_until([&] { return std::chrono::steady_clock::now() >= until; });
  }

  // Durable records read back from the spool files (the writer's view).
  void stored() {
    std::vector<SpoolRecord> records;
    spool_->read(read_from_, 1000, std::chrono::steady_clock::now(), &records);
    for (auto& r : records) {
      read_from_ = r.next;
      CdrRecord record;
      std::string error;
      EXPECT_TRUE(decode_spool_payload(r.payload, &record, &error)) << error;
      EXPECT_EQ(record.raw_format, "esl");
      Stored s;
      s.doc.Parse(record.json.c_str(), record.json.size());
      EXPECT_TRUE(s.doc.IsObject()) << record.json;
      stored_.push_back(std::move(s));
    }
  }
  bool wait_stored(size_t n) {
    return run_until([&] {
      stored();
      return stored_.size() >= n;
    });
  }

  std::string dir_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<RejectStore> rejects_;
  Metrics metrics_;
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  std::shared_ptr<NormalizeOptions> normalize_;
  EslTestServer server_;
  std::unique_ptr<EslClient> client_;
  SpoolPosition read_from_;
  std::vector<Stored> stored_;
};

std::string all_plain_frames() {
  std::string bytes = heartbeat_event_frame();
  for (const auto& p : kPlain) bytes += frame_plain_event(read_sample(p.file)) + heartbeat_event_frame();
  return bytes;
}

void expect_plain_samples(const std::vector<Stored>& stored) {
  ASSERT_EQ(stored.size(), std::size(kPlain));
  for (size_t i = 0; i < stored.size(); ++i) {
    SCOPED_TRACE(kPlain[i].file);
    EXPECT_EQ(stored[i].str("id"), kPlain[i].id);
    EXPECT_EQ(stored[i].str("call_id"), kPlain[i].call_id);
    EXPECT_EQ(stored[i].str("hangup_cause"), kPlain[i].hangup_cause);
    EXPECT_EQ(stored[i].num("duration_seconds"), kPlain[i].duration_seconds);
    EXPECT_EQ(stored[i].str("source"), "esl");
    EXPECT_EQ(stored[i].str("node"), "test-node");
  }
}

TEST_F(EslClientTest, PlainSamplesSplitAtEveryByteAreSpooled) {
  EslSessionScript script;
  script.after_subscribe.push_back(EslSend{all_plain_frames(), {1}, 0, 1, {}, {}});
  server_.add_session(script);
  EslClientOptions o = options();
  o.max_single_read = 1;  // the parser sees the stream one byte at a time
  start_client(o);
  ASSERT_TRUE(wait_stored(std::size(kPlain)));
  ASSERT_TRUE(run_until([&] { return metrics_.esl_node("fs1").events.load() == 2 * std::size(kPlain) + 1; }));
  expect_plain_samples(stored_);
  EXPECT_EQ(client_->state(), EslClient::State::kConnected);
  EXPECT_EQ(client_->events_spooled(), std::size(kPlain));
  EXPECT_EQ(metrics_.received_esl.load(), std::size(kPlain));
  EXPECT_EQ(metrics_.esl_node("fs1").events.load(), 2 * std::size(kPlain) + 1);  // hangups + heartbeats
  const auto commands = server_.commands();
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0], "auth ClueCon");
  EXPECT_EQ(commands[1], "event plain CHANNEL_HANGUP_COMPLETE HEARTBEAT");
  const std::string text = metrics_.render();
  EXPECT_NE(text.find("cdrd_esl_connected{node=\"fs1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cdrd_esl_events_total{node=\"fs1\"} 9\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cdrd_esl_auth_failures_total{node=\"fs1\"} 0\n"), std::string::npos) << text;
}

TEST_F(EslClientTest, PlainSamplesInRandomChunksAreSpooled) {
  EslSessionScript script;
  script.after_subscribe.push_back(EslSend{all_plain_frames(), {}, 700, 42, std::chrono::microseconds(50), {}});
  server_.add_session(script);
  start_client(options());
  ASSERT_TRUE(wait_stored(std::size(kPlain)));
  expect_plain_samples(stored_);
}

TEST_F(EslClientTest, WireCapturesInRandomChunksYieldTheirHangups) {
  // The fsock capture holds the bytes "uuid_transfer " inserted by its test
  // author (samples README); they are not FreeSWITCH output.
  std::string fsock = read_sample("esl_wire_inbound_fsock_2012_unanswered_cancel.txt");
  const size_t junk = fsock.find("uuid_transfer Content-Length");
  ASSERT_NE(junk, std::string::npos);
  fsock.erase(junk, std::string("uuid_transfer ").size());
  EslSessionScript script;
  script.after_subscribe.push_back(EslSend{fsock, {}, 1500, 7, {}, {}});
  // Outbound-mode capture: its command replies and linger notice must not break the inbound session.
  script.after_subscribe.push_back(
      EslSend{read_sample("esl_wire_outbound_scalaesl_linger_hangup_complete.txt"), {}, 333, 9, {}, {}});
  server_.add_session(script);
  start_client(options());
  ASSERT_TRUE(wait_stored(2));
  ASSERT_EQ(stored_.size(), 2u);
  EXPECT_EQ(stored_[0].str("id"), "201210-303c0f9f-4b32-4b9b-9f77-df0ca215bbe7");
  EXPECT_EQ(stored_[0].str("call_id"), "303c0f9f-4b32-4b9b-9f77-df0ca215bbe7");
  EXPECT_EQ(stored_[0].str("hangup_cause"), "ORIGINATOR_CANCEL");
  EXPECT_EQ(stored_[0].num("duration_seconds"), 56);
  EXPECT_EQ(stored_[0].num("billing_seconds"), 0);
  EXPECT_EQ(stored_[1].str("id"), "202011-71ccf398-a027-41df-8633-5e06564039d5");
  EXPECT_EQ(stored_[1].str("call_id"), "71ccf398-a027-41df-8633-5e06564039d5");
  EXPECT_EQ(stored_[1].str("hangup_cause"), "NORMAL_CLEARING");
  EXPECT_EQ(stored_[1].num("duration_seconds"), 86);
  EXPECT_EQ(stored_[1].num("billing_seconds"), 68);  // ceil(billmsec 67080 / 1000); billsec says 67
  // Both captures were taken in one session: the linger notice did not drop the link.
  EXPECT_EQ(server_.connections(), 1);
  EXPECT_EQ(client_->state(), EslClient::State::kConnected);
}

TEST_F(EslClientTest, WrongPasswordIsCountedAndRetriedWithBackOff) {
  server_.set_password("s3cret");
  EslClientOptions o = options();
  o.backoff_initial = milliseconds(500);  // the production defaults
  o.backoff_max = milliseconds(30000);
  start_client(o);
  ASSERT_TRUE(run_until([&] { return server_.auth_failures() >= 1; }));
  // Over 3 s the waits (jittered 0.25-0.5 s, 0.5-1 s, 1-2 s, ...) allow at
  // most 5 attempts; a tight loop would make thousands.
  run_for(milliseconds(3000));
  EXPECT_GE(server_.auth_attempts(), 2);
  EXPECT_LE(server_.auth_attempts(), 5);
  EXPECT_EQ(server_.auth_failures(), server_.auth_attempts());
  EXPECT_EQ(metrics_.esl_node("fs1").auth_failures.load(), static_cast<uint64_t>(server_.auth_attempts()));
  EXPECT_EQ(metrics_.esl_node("fs1").connected.load(), 0);
  EXPECT_EQ(client_->state() == EslClient::State::kAuthFailed || client_->state() == EslClient::State::kConnecting,
            true);
  for (const auto& c : server_.commands()) EXPECT_EQ(c, "auth ClueCon");
  // Fixing the password on the server side lets the next attempt in.
  server_.set_password("ClueCon");
  ASSERT_TRUE(run_until([&] { return client_->state() == EslClient::State::kConnected; }));
}

TEST_F(EslClientTest, CloseMidFrameDropsThePartialEventAndReconnects) {
  const std::string first = frame_plain_event(read_sample(kPlain[0].file));
  EslSessionScript cut;
  cut.after_subscribe.push_back(EslSend{first.substr(0, first.size() / 2), {}, 0, 1, {}, {}});
  cut.close_after = true;
  server_.add_session(cut);
  EslSessionScript next;
  next.after_subscribe.push_back(EslSend{frame_plain_event(read_sample(kPlain[1].file)), {}, 0, 1, {}, {}});
  server_.add_session(next);
  start_client(options());
  ASSERT_TRUE(wait_stored(1));
  run_for(milliseconds(200));
  stored();
  ASSERT_EQ(stored_.size(), 1u);
  EXPECT_EQ(stored_[0].str("id"), kPlain[1].id);
  EXPECT_EQ(server_.connections(), 2);
  EXPECT_EQ(metrics_.esl_node("fs1").reconnects.load(), 1u);
  EXPECT_EQ(client_->state(), EslClient::State::kConnected);
}

TEST_F(EslClientTest, SilentServerTripsTheHeartbeatWatchdog) {
  EslSessionScript silent;
  silent.silent = true;
  server_.set_default_session(silent);
  start_client(options(/*heartbeat_timeout_s=*/1));
  ASSERT_TRUE(run_until([&] { return server_.connections() >= 2; }));
  EXPECT_GE(metrics_.esl_node("fs1").reconnects.load(), 1u);
  EXPECT_TRUE(server_.commands().empty());  // nothing was asked for: no auth/request came
}

TEST_F(EslClientTest, HeartbeatsKeepASubscribedLinkAlive) {
  EslSessionScript script;
  for (int i = 0; i < 6; ++i) {
    script.after_subscribe.push_back(EslSend{heartbeat_event_frame(), {}, 0, 1, {}, milliseconds(400)});
  }
  server_.add_session(script);
  start_client(options(/*heartbeat_timeout_s=*/1));
  ASSERT_TRUE(run_until([&] { return metrics_.esl_node("fs1").events.load() >= 6; }));
  EXPECT_EQ(server_.connections(), 1);
  EXPECT_EQ(client_->state(), EslClient::State::kConnected);
}

TEST_F(EslClientTest, ServerRestartIsFollowedByAReconnection) {
  EslSessionScript one;
  one.after_subscribe.push_back(EslSend{frame_plain_event(read_sample(kPlain[0].file)), {}, 0, 1, {}, {}});
  server_.add_session(one);
  start_client(options());
  ASSERT_TRUE(wait_stored(1));
  const int port = server_.port();
  server_.stop();
  ASSERT_TRUE(run_until([&] { return client_->state() != EslClient::State::kConnected; }));
  run_for(milliseconds(500));  // a few refused attempts while the server is down
  EslSessionScript two;
  two.after_subscribe.push_back(EslSend{frame_plain_event(read_sample(kPlain[2].file)), {}, 0, 1, {}, {}});
  server_.add_session(two);
  ASSERT_TRUE(server_.start(port));
  ASSERT_TRUE(wait_stored(2));
  EXPECT_EQ(stored_[0].str("id"), kPlain[0].id);
  EXPECT_EQ(stored_[1].str("id"), kPlain[2].id);
  EXPECT_EQ(server_.connections(), 2);
  EXPECT_GE(metrics_.esl_node("fs1").reconnects.load(), 1u);
  EXPECT_EQ(client_->state(), EslClient::State::kConnected);
}

TEST_F(EslClientTest, DisconnectNoticeMakesTheClientReconnect) {
  EslSessionScript one;
  one.after_subscribe.push_back(
      EslSend{frame_plain_event(read_sample(kPlain[0].file)) + disconnect_notice_frame(), {}, 0, 1, {}, {}});
  server_.add_session(one);  // stays open after the notice: the client must leave by itself
  EslSessionScript two;
  two.after_subscribe.push_back(EslSend{frame_plain_event(read_sample(kPlain[3].file)), {}, 0, 1, {}, {}});
  server_.add_session(two);
  start_client(options());
  ASSERT_TRUE(wait_stored(2));
  EXPECT_EQ(stored_[0].str("id"), kPlain[0].id);  // the event before the notice was kept
  EXPECT_EQ(stored_[1].str("id"), kPlain[3].id);
  EXPECT_EQ(server_.connections(), 2);
}

TEST_F(EslClientTest, FullSpoolPausesReadingAndLosesNothing) {
  // Room for two or three records (about 20 KB each): further appends are
  // refused until the consumer below commits what it read.
  open_spool(60000);
  EslSessionScript script;
  std::string bytes;
  std::vector<std::string> ids;
  const std::string sample = read_sample(kPlain[3].file);
  for (int i = 0; i < 20; ++i) {
    char uuid[40];
    std::snprintf(uuid, sizeof(uuid), "5a3a1d91-90d3-4db4-af5c-%012d", i);
    bytes += frame_plain_event(replace_all(sample, kPlain[3].call_id, uuid));
    ids.push_back(std::string("201803-") + uuid);
  }
  script.after_subscribe.push_back(EslSend{bytes, {}, 0, 1, {}, {}});
  server_.add_session(script);
  start_client(options());
  ASSERT_TRUE(run_until([&] {
    stored();
    // Commit only once the client has been refused: the pause path must run.
    if (!stored_.empty() && metrics_.esl_node("fs1").spool_refusals.load() > 0) {
      std::string error;
      EXPECT_TRUE(spool_->commit(read_from_, &error)) << error;
    }
    return stored_.size() >= ids.size();
  }));
  ASSERT_EQ(stored_.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(stored_[i].str("id"), ids[i]);
  EXPECT_GT(metrics_.esl_node("fs1").spool_refusals.load(), 0u);
  EXPECT_EQ(server_.connections(), 1);
}

// The spool takes a hangup but then cannot write it (a full disk; here
// RLIMIT_FSIZE fails the write the same way): FreeSWITCH will not send it
// again, so the client must offer it again, never drop it (the fault matrix
// lost ESL events this way).
TEST_F(EslClientTest, HangupsWhoseSpoolWriteFailedAreOfferedAgain) {
  EslSessionScript script;
  std::string bytes;
  std::set<std::string> ids;
  const std::string sample = read_sample(kPlain[3].file);
  for (int i = 0; i < 20; ++i) {
    char uuid[40];
    std::snprintf(uuid, sizeof(uuid), "5a3a1d91-90d3-4db4-af5c-%012d", i);
    bytes += frame_plain_event(replace_all(sample, kPlain[3].call_id, uuid));
    ids.insert(std::string("201803-") + uuid);
  }
  script.after_subscribe.push_back(EslSend{bytes, {}, 0, 1, {}, {}});
  server_.add_session(script);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto saved_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = 45000;  // two records of about 20 KB fit in the segment
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  start_client(options());
  run_for(milliseconds(500));
  stored();
  const size_t while_full = stored_.size();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::signal(SIGXFSZ, saved_handler);
  EXPECT_LE(while_full, 2u) << "the limit did not bite";
  EXPECT_TRUE(spool_->healthy());

  ASSERT_TRUE(wait_stored(ids.size()));
  run_for(milliseconds(100));
  stored();
  std::set<std::string> got;
  for (const auto& s : stored_) got.insert(s.str("id"));
  EXPECT_EQ(stored_.size(), ids.size()) << "stored twice";
  EXPECT_EQ(got, ids);
  EXPECT_EQ(server_.connections(), 1);
}

TEST_F(EslClientTest, RefusedHangupIsKeptInTheRejectsStore) {
  // A hangup with no Unique-ID and no uuid variable has no id to store it under.
  const std::string broken =
      "Event-Name: CHANNEL_HANGUP_COMPLETE\nCore-UUID: 792e181c-b6e6-499c-82a1-52a778e7d82d\n"
      "Hangup-Cause: NORMAL_CLEARING\n";
  EslSessionScript script;
  script.after_subscribe.push_back(
      EslSend{frame_plain_event(broken) + frame_plain_event(read_sample(kPlain[0].file)), {}, 0, 1, {}, {}});
  server_.add_session(script);
  start_client(options());
  ASSERT_TRUE(wait_stored(1));
  EXPECT_EQ(stored_[0].str("id"), kPlain[0].id);
  EXPECT_EQ(client_->events_rejected(), 1u);
  EXPECT_EQ(metrics_.rejected.load(), 1u);
  rejects_.reset();  // writes what is queued
  std::string meta;
  std::string body;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/rejects")) {
    std::ifstream in(entry.path());
    std::ostringstream text;
    text << in.rdbuf();
    if (entry.path().string().find(".meta.json") != std::string::npos) {
      meta = text.str();
    } else {
      body = text.str();
    }
  }
  EXPECT_NE(meta.find("\"esl:fs1\""), std::string::npos) << meta;
  EXPECT_EQ(body, broken + "\n");
}

TEST_F(EslClientTest, JsonFormatSubscribesToJsonEvents) {
  server_.add_session(EslSessionScript{});
  EslClientOptions o = options();
  o.node.format = "json";
  start_client(o);
  ASSERT_TRUE(run_until([&] { return client_->state() == EslClient::State::kConnected; }));
  const auto commands = server_.commands();
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[1], "event json CHANNEL_HANGUP_COMPLETE HEARTBEAT");
}

TEST_F(EslClientTest, StopClosesTheLinkAndClearsTheGauge) {
  server_.add_session(EslSessionScript{});
  start_client(options());
  ASSERT_TRUE(run_until([&] { return metrics_.esl_node("fs1").connected.load() == 1; }));
  client_->stop();
  EXPECT_EQ(client_->state(), EslClient::State::kStopped);
  EXPECT_EQ(metrics_.esl_node("fs1").connected.load(), 0);
  run_for(milliseconds(300));
  EXPECT_EQ(server_.connections(), 1);  // no reconnection after stop()
}

}  // namespace
}  // namespace cdrd::test
