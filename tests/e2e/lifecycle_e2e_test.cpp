// Lifecycle of the real cdrd binary as systemd sees it: sd_notify messages
// (READY, RELOADING, WATCHDOG, STOPPING) received on a NOTIFY_SOCKET of the
// test's own, SIGHUP reloads good and bad files, and SIGTERM drains, both a
// drain that completes and one the deadline cuts short.
//
// A stuck writer is made deterministic with a lock: the test holds ACCESS
// EXCLUSIVE on cdrs, so the writer's INSERT (and any read of cdrs) waits
// inside PostgreSQL until the test lets go.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/e2e/notify_listener.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

using std::chrono::seconds;

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};

HttpResponse post_cdr(int port, const std::string& uuid, const std::string& account) {
  return http_request(port, "POST", "/ingest/freeswitch/json", unique_cdr(uuid, account),
                      {{"Content-Type", "application/json"}});
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Holds ACCESS EXCLUSIVE on cdrs (and its partitions) until release().
class CdrsLock {
 public:
  explicit CdrsLock(const std::string& dsn) : conn_(dsn), tx_(std::make_unique<pqxx::work>(conn_)) {
    tx_->exec("LOCK TABLE cdrs IN ACCESS EXCLUSIVE MODE");
  }
  void release() {
    if (tx_) tx_->abort();
    tx_.reset();
  }

 private:
  pqxx::connection conn_;
  std::unique_ptr<pqxx::work> tx_;
};

// Sessions of cdrd (application_name cdrd-writer / cdrd-reader) of this
// test's database that wait for a lock.
long long waiting_on_lock(const std::string& dsn, const std::string& application) {
  return query_count(
      dsn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '" +
               application + "' AND wait_event_type = 'Lock'");
}

class LifecycleE2E : public ::testing::Test {
 protected:
  void SetUp() override { dsn_ = create_migrated_database("lifecycle_e2e"); }

  // cdrd with a NOTIFY_SOCKET (and, when watchdog_usec > 0, WATCHDOG_USEC) of our own.
  std::unique_ptr<CdrdProcess> start_cdrd(NotifyListener* notify, long watchdog_usec, const std::string& extra_yaml) {
    auto p = std::make_unique<CdrdProcess>(dir_.path(), dsn_, extra_yaml);
    p->set_env("NOTIFY_SOCKET", notify->path());
    if (watchdog_usec > 0) p->set_env("WATCHDOG_USEC", std::to_string(watchdog_usec));
    // Reads blocked by the test's lock wait for it, not for the 10 s default.
    p->set_env("CDRD_DATABASE_STATEMENT_TIMEOUT_MS", "120000");
    EXPECT_TRUE(p->start()) << p->log();
    return p;
  }
  long long rows(const std::string& account) {
    return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE account_id = '" + account + "'");
  }

  TempDir dir_;
  std::string dsn_;
};

// The whole sd_notify conversation, in order, as systemd would see it.
TEST_F(LifecycleE2E, NotifiesReadyReloadingWatchdogOnlyWhileTheWriterMovesAndStopping) {
  NotifyListener notify(dir_.path() + "/notify.sock");
  auto cdrd = start_cdrd(&notify, 2000000, "");  // WATCHDOG_USEC 2 s: a ping each second

  // READY=1 names the main pid.
  const long ready = notify.wait_for("READY=1", 0, seconds(30));
  ASSERT_GE(ready, 0) << notify.dump();
  EXPECT_EQ(notify.count("MAINPID=" + std::to_string(cdrd->pid()), static_cast<size_t>(ready)), 1u) << notify.dump();

  // WATCHDOG=1 keeps coming while all is well.
  long ping = ready;
  for (int i = 0; i < 3; ++i) {
    ping = notify.wait_for("WATCHDOG=1", static_cast<size_t>(ping) + 1, seconds(30));
    ASSERT_GE(ping, 0) << notify.dump();
  }

  // SIGHUP with a good file: RELOADING=1, then READY=1.
  const std::string config = read_file(cdrd->config_path());
  write_file(cdrd->config_path(), replace_all(config, "level: info", "level: debug"));
  cdrd->signal(SIGHUP);
  long reloading = notify.wait_for("RELOADING=1", static_cast<size_t>(ping) + 1, seconds(30));
  ASSERT_GE(reloading, 0) << notify.dump();
  EXPECT_EQ(notify.count("MONOTONIC_USEC=", static_cast<size_t>(reloading)), 1u);
  long again = notify.wait_for("READY=1", static_cast<size_t>(reloading) + 1, seconds(30));
  ASSERT_GE(again, 0) << notify.dump();
  EXPECT_NE(notify.messages()[static_cast<size_t>(again)].find("configuration reloaded"), std::string::npos);

  // SIGHUP with a bad file: RELOADING=1, then READY=1 whose STATUS says why.
  write_file(cdrd->config_path(), replace_all(config, "max_rows: 100", "max_rowz: 100"));
  cdrd->signal(SIGHUP);
  reloading = notify.wait_for("RELOADING=1", static_cast<size_t>(again) + 1, seconds(30));
  ASSERT_GE(reloading, 0) << notify.dump();
  again = notify.wait_for("READY=1", static_cast<size_t>(reloading) + 1, seconds(30));
  ASSERT_GE(again, 0) << notify.dump();
  const std::string& kept = notify.messages()[static_cast<size_t>(again)];
  EXPECT_NE(kept.find("STATUS=SIGHUP: configuration not reloaded"), std::string::npos) << kept;
  EXPECT_NE(kept.find("batch.max_rowz"), std::string::npos) << kept;
  write_file(cdrd->config_path(), config);

  // The writer gets stuck: its INSERT waits for the test's lock.
  CdrsLock lock(dsn_);
  ASSERT_EQ(post_cdr(cdrd->port(), random_uuid(), "acct-stuck").status, 200) << "the spool takes it";
  ASSERT_TRUE(eventually([&] { return waiting_on_lock(dsn_, "cdrd-writer") == 1; })) << cdrd->log();
  // Past the writer's longest healthy gap (20 s) the pings stop, once, with the reason.
  const long starved = notify.wait_for("STATUS=", static_cast<size_t>(again) + 1, seconds(90));
  ASSERT_GE(starved, 0) << notify.dump();
  EXPECT_NE(notify.messages()[static_cast<size_t>(starved)].find("batch writer has made no progress"),
            std::string::npos)
      << notify.dump();
  // The watchdog timer fires each second: three seconds without a ping.
  notify.collect_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(notify.count("WATCHDOG=1", static_cast<size_t>(starved)), 0u) << notify.dump();
  EXPECT_EQ(occurrences(cdrd->log(), "not feeding the systemd watchdog"), 1u) << cdrd->log();

  // Unlocked, the writer commits its batch and the pings come back.
  lock.release();
  const long back = notify.wait_for("WATCHDOG=1", static_cast<size_t>(starved) + 1, seconds(60));
  ASSERT_GE(back, 0) << notify.dump();
  EXPECT_TRUE(eventually([&] { return rows("acct-stuck") == 1; })) << cdrd->log();
  EXPECT_NE(cdrd->log().find("the batch writer moves again"), std::string::npos);

  cdrd->signal(SIGTERM);
  const long stopping = notify.wait_for("STOPPING=1", static_cast<size_t>(back) + 1, seconds(30));
  EXPECT_GE(stopping, 0) << notify.dump();
  EXPECT_EQ(cdrd->wait_exit(), 0) << cdrd->log();
}

// A good file applies (api.keys, log.level); a file with a syntax error, an
// unknown key or a changed restart-only key keeps the running configuration,
// and the log and STATUS say why.
TEST_F(LifecycleE2E, SighupAppliesAGoodFileAndKeepsTheRunningOneOnABadOne) {
  NotifyListener notify(dir_.path() + "/notify.sock");
  auto cdrd = start_cdrd(&notify, 0, "");
  const std::string config = read_file(cdrd->config_path());
  const std::string list = "/v2/accounts/acct-a/cdrs";
  const std::map<std::string, std::string> new_key = {{"X-Auth-Token", "reload-key"}};
  ASSERT_EQ(http_request(cdrd->port(), "GET", list, "", new_key).status, 401);

  size_t next = 0;
  // Sends SIGHUP; returns the READY=1 message that ends the reload.
  auto reload = [&]() -> std::string {
    cdrd->signal(SIGHUP);
    const long reloading = notify.wait_for("RELOADING=1", next, seconds(30));
    if (reloading < 0) return "no RELOADING=1";
    const long ready = notify.wait_for("READY=1", static_cast<size_t>(reloading) + 1, seconds(30));
    if (ready < 0) return "no READY=1";
    next = static_cast<size_t>(ready) + 1;
    return notify.messages()[static_cast<size_t>(ready)];
  };

  // Good: a new key, and log.level error (the warn line of a rejected CDR goes away).
  const std::string good =
      replace_all(replace_all(config, "    - key: a-key\n",
                              "    - key: reload-key\n      accounts: [\"acct-a\"]\n    - key: a-key\n"),
                  "level: info", "level: error");
  write_file(cdrd->config_path(), good);
  EXPECT_NE(reload().find("configuration reloaded"), std::string::npos) << notify.dump();
  EXPECT_EQ(http_request(cdrd->port(), "GET", list, "", new_key).status, 200);
  EXPECT_EQ(http_request(cdrd->port(), "POST", "/ingest/freeswitch/json", "{not json").status, 400);
  EXPECT_EQ(occurrences(cdrd->log(), "rejected /ingest/freeswitch/json"), 0u) << cdrd->log();

  struct Bad {
    const char* what;
    std::string text;
    const char* named;  // what the message must name
  };
  const Bad bad_files[] = {
      {"syntax error", good + "api: [unclosed\n", "cdrd.yaml"},
      {"unknown key", replace_all(good, "max_rows: 100", "max_rowz: 100"), "batch.max_rowz"},
      {"restart-only key", replace_all(good, "max_rows: 100", "max_rows: 7"),
       "a restart is needed to change batch.max_rows"},
  };
  for (const Bad& bad : bad_files) {
    SCOPED_TRACE(bad.what);
    // Each bad file would also drop reload-key and bring back log.level info.
    write_file(cdrd->config_path(), replace_all(bad.text, "reload-key", "other-key"));
    const std::string ready = reload();
    EXPECT_NE(ready.find("STATUS=SIGHUP: configuration not reloaded, keeping the running one"), std::string::npos)
        << ready;
    EXPECT_NE(ready.find(bad.named), std::string::npos) << ready;
    EXPECT_EQ(http_request(cdrd->port(), "GET", list, "", new_key).status, 200) << "the running keys stay";
  }
  const std::string log = cdrd->log();
  EXPECT_EQ(occurrences(log, "SIGHUP: configuration not reloaded, keeping the running one"), 3u) << log;
  EXPECT_NE(log.find("batch.max_rowz"), std::string::npos) << log;
  EXPECT_NE(log.find("a restart is needed to change batch.max_rows"), std::string::npos) << log;

  // Back to info: the rejected CDR's warning is logged again.
  write_file(cdrd->config_path(), config);
  EXPECT_NE(reload().find("configuration reloaded"), std::string::npos) << notify.dump();
  EXPECT_EQ(http_request(cdrd->port(), "GET", list, "", new_key).status, 401);
  EXPECT_EQ(http_request(cdrd->port(), "POST", "/ingest/freeswitch/json", "{not json").status, 400);
  EXPECT_EQ(occurrences(cdrd->log(), "rejected /ingest/freeswitch/json"), 1u) << cdrd->log();

  cdrd->signal(SIGTERM);
  EXPECT_EQ(cdrd->wait_exit(), 0) << cdrd->log();
}

// SIGTERM while a read waits in PostgreSQL and the writer's batch waits for
// a lock: ingest answers 503 at once, and once the lock goes the read is
// answered, the batch committed, and cdrd exits 0.
TEST_F(LifecycleE2E, SigtermAnswersWhatIsInFlightCommitsTheBatchAndExitsZero) {
  NotifyListener notify(dir_.path() + "/notify.sock");
  auto cdrd = start_cdrd(&notify, 0, "limits:\n  drain_timeout_s: 120\n");
  CdrsLock lock(dsn_);
  ASSERT_EQ(post_cdr(cdrd->port(), random_uuid(), "acct-drain").status, 200);
  ASSERT_TRUE(eventually([&] { return waiting_on_lock(dsn_, "cdrd-writer") == 1; })) << cdrd->log();
  // A future, not a thread: a failed ASSERT below must still wait for it.
  auto reader = std::async(std::launch::async, [&] {
    return http_request(cdrd->port(), "GET", "/v2/accounts/acct-drain/cdrs", "", kAllKey);
  });
  ASSERT_TRUE(eventually([&] { return waiting_on_lock(dsn_, "cdrd-reader") == 1; })) << cdrd->log();

  cdrd->signal(SIGTERM);
  ASSERT_GE(notify.wait_for("STOPPING=1", 0, seconds(30)), 0) << notify.dump();
  const HttpResponse refused = post_cdr(cdrd->port(), random_uuid(), "acct-drain");
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("shutting_down"), std::string::npos) << refused.body;

  lock.release();
  const HttpResponse read = reader.get();
  EXPECT_EQ(read.status, 200) << read.body << cdrd->log();
  EXPECT_EQ(cdrd->wait_exit(), 0) << cdrd->log();
  EXPECT_EQ(rows("acct-drain"), 1) << "the batch in flight was committed before the exit";
  EXPECT_NE(cdrd->log().find("cdrd stopped: every request answered"), std::string::npos) << cdrd->log();
}

// The same, but nothing lets go: at limits.drain_timeout_s cdrd exits 1 and
// says what it left. The unanswered read was never acknowledged; the
// acknowledged CDR stays in the spool and is written, once, after a restart.
TEST_F(LifecycleE2E, SigtermDrainCutByTheDeadlineExitsOneAndLosesNothing) {
  NotifyListener notify(dir_.path() + "/notify.sock");
  auto cdrd = start_cdrd(&notify, 0, "limits:\n  drain_timeout_s: 2\n");
  auto lock = std::make_unique<CdrsLock>(dsn_);
  const std::string uuid = random_uuid();
  ASSERT_EQ(post_cdr(cdrd->port(), uuid, "acct-cut").status, 200);
  ASSERT_TRUE(eventually([&] { return waiting_on_lock(dsn_, "cdrd-writer") == 1; })) << cdrd->log();
  auto reader = std::async(
      std::launch::async, [&] { return http_request(cdrd->port(), "GET", "/v2/accounts/acct-cut/cdrs", "", kAllKey); });
  ASSERT_TRUE(eventually([&] { return waiting_on_lock(dsn_, "cdrd-reader") == 1; })) << cdrd->log();

  cdrd->signal(SIGTERM);
  EXPECT_EQ(cdrd->wait_exit(), 1) << cdrd->log();
  EXPECT_EQ(reader.get().status, 0) << "closed without an answer";
  const std::string log = cdrd->log();
  EXPECT_NE(log.find("stop cut at the 2 s drain deadline"), std::string::npos) << log;
  EXPECT_NE(log.find("1 request(s) left unanswered"), std::string::npos) << log;
  EXPECT_NE(log.find("1 acknowledged CDR(s)"), std::string::npos) << log;
  EXPECT_GE(notify.wait_for("STOPPING=1", 0, seconds(5)), 0) << notify.dump();

  lock->release();
  EXPECT_EQ(rows("acct-cut"), 0) << "the cut writer's transaction was rolled back";
  // A restart replays the spool.
  CdrdProcess again(dir_.path(), dsn_);
  ASSERT_TRUE(again.start()) << again.log();
  ASSERT_TRUE(eventually([&] { return rows("acct-cut") == 1; })) << again.log();
  EXPECT_EQ(query_count(dsn_, "SELECT count(*) FROM cdrs WHERE id LIKE '%" + uuid + "'"), 1);
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait_exit(), 0) << again.log();
}

}  // namespace
}  // namespace cdrd::test
