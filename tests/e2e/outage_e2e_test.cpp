// Database outage and the embedded database, end to end with the real binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <set>

#include "daemon/db/embedded_postgres.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"

namespace cdrd::test {
namespace {

HttpResponse post_json_cdr(int port, const std::string& body) {
  return http_request(port, "POST", "/ingest/freeswitch/json", body, {{"Content-Type", "application/json"}});
}

// Each outage test has a PostgreSQL of its own, on a fixed port so that the
// server it restarts is at the address cdrd was given.
class OutageE2E : public ::testing::Test {
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

  TempDir pg_dir_;
  std::unique_ptr<EmbeddedPostgres> pg_;
  std::string dsn_;
};

TEST_F(OutageE2E, PostgresDownThenUpLosesNothing) {
  std::string error;
  TempDir state;
  CdrdProcess cdrd(state.path(), dsn_);
  ASSERT_TRUE(cdrd.start()) << cdrd.log();

  ASSERT_TRUE(pg_->stop(&error)) << error;
  std::set<std::string> acked;
  for (int i = 0; i < 50; ++i) {
    const std::string uuid = random_uuid();
    const HttpResponse r = post_json_cdr(cdrd.port(), unique_cdr(uuid, "acct-outage"));
    ASSERT_EQ(r.status, 200) << "ingest must not depend on the database: " << r.body;
    acked.insert(uuid);
  }
  // Not ready while the database is away, and says why.
  ASSERT_TRUE(eventually([&] { return http_request(cdrd.port(), "GET", "/readyz").status == 503; }));
  EXPECT_NE(http_request(cdrd.port(), "GET", "/readyz").body.find("database"), std::string::npos);

  ASSERT_TRUE(pg_->start(&error)) << error;
  ASSERT_TRUE(eventually(
      [&] {
        return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE account_id = 'acct-outage'") ==
               static_cast<long long>(acked.size());
      },
      std::chrono::seconds(60)))
      << cdrd.log();
  EXPECT_TRUE(eventually([&] { return http_request(cdrd.port(), "GET", "/readyz").status == 200; }));
  const std::string metrics = http_request(cdrd.port(), "GET", "/metrics").body;
  EXPECT_EQ(metrics.find("\ncdrd_writer_errors_total 0\n"), std::string::npos) << "the outage was not noticed";
  cdrd.signal(SIGTERM);
  EXPECT_EQ(cdrd.wait_exit(), 0);
}

// With the database away the spool fills; once it holds spool.max_bytes,
// ingest answers 503 (the media server keeps the CDR and retries) instead of
// growing without bound, and takes CDRs again once the writer catches up.
TEST_F(OutageE2E, FullSpoolAnswers503UntilTheDatabaseCatchesUp) {
  std::string error;
  TempDir state;
  CdrdProcess cdrd(state.path(), dsn_, "spool:\n  max_bytes: 1MiB\n  segment_bytes: 64KiB\n");
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  ASSERT_TRUE(pg_->stop(&error)) << error;

  // Each spooled CDR is about 15 KB (record + raw document): 1 MiB holds ~70.
  std::set<std::string> acked;
  HttpResponse refused;
  for (int i = 0; i < 500 && refused.status == 0; ++i) {
    const std::string uuid = random_uuid();
    const HttpResponse r = post_json_cdr(cdrd.port(), unique_cdr(uuid, "acct-full"));
    if (r.status == 200) {
      acked.insert(uuid);
    } else {
      refused = r;
    }
  }
  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(std::string(parse_json(refused.body)["code"].GetString()), "spool_full");
  EXPECT_GT(acked.size(), 30u);
  EXPECT_LT(acked.size(), 100u);
  EXPECT_NE(http_request(cdrd.port(), "GET", "/metrics").body.find("\ncdrd_unavailable_total 1\n"), std::string::npos);

  ASSERT_TRUE(pg_->start(&error)) << error;
  ASSERT_TRUE(eventually(
      [&] {
        return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE account_id = 'acct-full'") ==
               static_cast<long long>(acked.size());
      },
      std::chrono::seconds(60)))
      << cdrd.log();
  // Committed rows free the spool: ingest is accepted again.
  const std::string uuid = random_uuid();
  ASSERT_TRUE(eventually([&] { return post_json_cdr(cdrd.port(), unique_cdr(uuid, "acct-full")).status == 200; }));
  acked.insert(uuid);
  EXPECT_TRUE(eventually([&] {
    return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE account_id = 'acct-full'") ==
           static_cast<long long>(acked.size());
  }));
  cdrd.signal(SIGTERM);
  EXPECT_EQ(cdrd.wait_exit(), 0);
}

TEST(EmbeddedE2E, QuickStartConfigRunsItsOwnPostgres) {
  TempDir state;
  CdrdProcess cdrd(state.path(), "embedded");
  ASSERT_TRUE(cdrd.start(true, 180)) << cdrd.log();
  struct stat st {};
  EXPECT_EQ(::stat((state.path() + "/pgdata/PG_VERSION").c_str(), &st), 0) << "initdb under state_dir";

  const std::string sample = read_sample("json_cdr_cgrates_2018b.json");
  ASSERT_EQ(post_json_cdr(cdrd.port(), sample).status, 200);
  const std::string path = "/v2/accounts/192.168.56.202/cdrs/201803-5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4";
  HttpResponse r;
  ASSERT_TRUE(eventually([&] {
    r = http_request(cdrd.port(), "GET", path, "", {{"X-Auth-Token", "all-key"}});
    return r.status == 200;
  })) << r.body
      << cdrd.log();
  auto doc = parse_json(r.body);
  EXPECT_EQ(doc["data"]["billing_seconds"].GetInt(), 21);
  EXPECT_EQ(doc["data"]["duration_seconds"].GetInt(), 30);

  cdrd.signal(SIGTERM);
  EXPECT_EQ(cdrd.wait_exit(90), 0) << cdrd.log();
  // The private server was stopped with cdrd.
  EXPECT_NE(::stat((state.path() + "/pgdata/postmaster.pid").c_str(), &st), 0);

  // Second start reuses the cluster (no initdb) and still has the row.
  CdrdProcess again(state.path(), "embedded");
  ASSERT_TRUE(again.start(true, 180)) << again.log();
  EXPECT_EQ(http_request(again.port(), "GET", path, "", {{"X-Auth-Token", "all-key"}}).status, 200);
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait_exit(90), 0);
}

// The quick start exactly: a relative state_dir that does not exist yet,
// created by cdrd itself. Run as root, the embedded server runs as another
// user, which must still reach its directories under it.
TEST(EmbeddedE2E, RelativeNewStateDirAsInTheQuickStart) {
  TempDir checkout;
  CdrdProcess cdrd(checkout.path(), "embedded", "", "./state", checkout.path());
  ASSERT_TRUE(cdrd.start(true, 180)) << cdrd.log();
  struct stat st {};
  EXPECT_EQ(::stat((checkout.path() + "/state/pgdata/PG_VERSION").c_str(), &st), 0) << cdrd.log();
  ASSERT_EQ(post_json_cdr(cdrd.port(), read_sample("json_cdr_cgrates_2017.json")).status, 200);
  const std::string path = "/v2/accounts/default/cdrs/201801-3da8bf84-c133-4959-9e24-e72875cb33a1";
  HttpResponse r;
  ASSERT_TRUE(eventually([&] {
    r = http_request(cdrd.port(), "GET", path, "", {{"X-Auth-Token", "all-key"}});
    return r.status == 200;
  })) << r.body
      << cdrd.log();
  EXPECT_EQ(parse_json(r.body)["data"]["billing_seconds"].GetInt(), 68);
  // The state directory (spool, rejects) stays cdrd's: others cannot enter
  // it, and the server's user may only pass through it (search, no read).
  ASSERT_EQ(::stat((checkout.path() + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0007, 0u);
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_mode & 0070, 0010u);
  }
  cdrd.signal(SIGTERM);
  EXPECT_EQ(cdrd.wait_exit(90), 0) << cdrd.log();
}

}  // namespace
}  // namespace cdrd::test
