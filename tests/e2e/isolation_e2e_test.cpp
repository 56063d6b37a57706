// End to end: a key for one account cannot read, count, filter, page or
// export another account's CDRs, whatever it sends (issue 4, item 5); and
// read requests are bounded: a query past database.statement_timeout_ms is a
// 504, and requests beyond the read pool's queue get 503 instead of piling up.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <future>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAKey = {{"X-Auth-Token", "a-key"}};
const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};
const long long kTimestamp = 63682885615LL;  // the end of the 2017 sample every unique_cdr() shares
const std::string kWindow =
    "created_from=" + std::to_string(kTimestamp - 60) + "&created_to=" + std::to_string(kTimestamp + 60);
constexpr int kRowsPerAccount = 3;

std::set<std::string> ids_in(const std::string& list_body) {
  std::set<std::string> ids;
  const auto doc = parse_json(list_body);
  if (!doc.IsObject() || !doc.HasMember("data") || !doc["data"].IsArray()) return ids;
  for (const auto& row : doc["data"].GetArray()) ids.insert(row["id"].GetString());
  return ids;
}

// The key format of next_start_key (daemon/db/cdr_store.cpp): base64url of the
// JSON array [gregorian_ts, "id"], made here by hand as an attacker would.
std::string forged_start_key(long long ts, const std::string& id) {
  const std::string plain = "[" + std::to_string(ts) + ",\"" + id + "\"]";
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<size_t>(n));
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

class IsolationE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_isolation");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    for (int i = 0; i < kRowsPerAccount; ++i) {
      for (const char* account : {"acct-a", "acct-b"}) {
        const std::string uuid = random_uuid();
        ASSERT_EQ(http_request(cdrd_->port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid, account)).status,
                  200);
        (std::string(account) == "acct-a" ? a_ids_ : b_ids_).insert("201801-" + uuid);
        (std::string(account) == "acct-a" ? a_calls_ : b_calls_).push_back(uuid);
      }
    }
    ASSERT_TRUE(eventually([&] { return query_count(dsn_, "SELECT count(*) FROM cdrs") == 2LL * kRowsPerAccount; }));
  }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = kAKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
  std::set<std::string> a_ids_, b_ids_;
  std::vector<std::string> a_calls_, b_calls_;
};

TEST_F(IsolationE2E, AKeyForAccountACannotReachAccountB) {
  const std::string b_id = *b_ids_.begin();
  for (const std::string prefix : {"/v2", "/v1", ""}) {
    const std::string b = prefix + "/accounts/acct-b/cdrs";
    // read: list, by id, legs, interactions
    EXPECT_EQ(get(b + "?" + kWindow).status, 403);
    EXPECT_EQ(get(b + "/" + b_id).status, 403);
    EXPECT_EQ(get(b + "/legs/" + b_calls_[0]).status, 403);
    EXPECT_EQ(get(b + "/interaction?" + kWindow).status, 403);
    // count
    EXPECT_EQ(get(b + "/summary?" + kWindow).status, 403);
    // export, both ways of asking for CSV, and the streamed list
    EXPECT_EQ(get(b + "?" + kWindow, {{"X-Auth-Token", "a-key"}, {"Accept", "text/csv"}}).status, 403);
    EXPECT_EQ(get(b + "?" + kWindow, {{"X-Auth-Token", "a-key"}, {"Accept", "application/octet-stream"}}).status, 403);
    EXPECT_EQ(get(b + "?paginate=false&" + kWindow).status, 403);
  }
  // B's CDR asked for under A's path: not there.
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/" + b_id).status, 404);
  // Legs are a list: none under A (Kazoo's empty list, not a 404).
  HttpResponse legs = get("/v2/accounts/acct-a/cdrs/legs/" + b_calls_[0]);
  EXPECT_EQ(legs.status, 200);
  EXPECT_TRUE(ids_in(legs.body).empty()) << legs.body;
  legs = get("/v2/accounts/acct-a/cdrs/legs/" + b_id);
  EXPECT_EQ(legs.status, 200);
  EXPECT_TRUE(ids_in(legs.body).empty()) << legs.body;
  // The account named in a query parameter changes nothing: an unknown
  // parameter is ignored (Kazoo's rule), and filter_account_id is a filter
  // within the path's account.
  HttpResponse r = get("/v2/accounts/acct-a/cdrs?account_id=acct-b&" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_in(r.body), a_ids_);
  r = get("/v2/accounts/acct-a/cdrs?filter_account_id=acct-b&" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(ids_in(r.body).empty()) << r.body;
  EXPECT_EQ(get("/v2/accounts/acct-b/cdrs?filter_account_id=acct-a&" + kWindow).status, 403);
}

TEST_F(IsolationE2E, AccountAsOwnReadsHoldOnlyItsRows) {
  const std::string a = "/v2/accounts/acct-a/cdrs";
  HttpResponse r = get(a + "?" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_in(r.body), a_ids_);
  r = get(a + "?paginate=false&" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_in(r.body), a_ids_);
  r = get(a + "/interaction?" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_in(r.body), a_ids_);

  // count: the summary of A counts A's legs only.
  r = get(a + "/summary?" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["totals"]["attempts"].GetInt64(), kRowsPerAccount);

  // export: every CSV line after the header is one of A's rows.
  r = get(a + "?" + kWindow, {{"X-Auth-Token", "a-key"}, {"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  for (const std::string& id : a_ids_) EXPECT_NE(r.body.find(id), std::string::npos) << id;
  for (const std::string& id : b_ids_) EXPECT_EQ(r.body.find(id), std::string::npos) << id;
}

TEST_F(IsolationE2E, FiltersNeverWidenTheAccount) {
  const std::string a = "/v2/accounts/acct-a/cdrs?" + kWindow;
  // B's call id as a filter under A: nothing.
  HttpResponse r = get(a + "&filter_call_id=" + b_calls_[0]);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(ids_in(r.body).empty()) << r.body;
  // Quotes and SQL in a value are a value.
  r = get(a + "&filter_caller_id_number=" + url_encode("1001' OR '1'='1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(ids_in(r.body).empty()) << r.body;
  r = get(a + "&filter_custom_channel_vars.account_id=acct-b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(ids_in(r.body).empty()) << r.body;
  // A path segment that tries SQL is only an account name the key may not read.
  EXPECT_EQ(get("/v2/accounts/" + url_encode("acct-a' OR '1'='1") + "/cdrs?" + kWindow).status, 403);
  r = get("/v2/accounts/" + url_encode("acct-a' OR '1'='1") + "/cdrs?" + kWindow, kAllKey);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(ids_in(r.body).empty()) << r.body;
}

TEST_F(IsolationE2E, AForgedStartKeyOnlyMovesWithinTheAccount) {
  // A key pointing at B's newest row, then one before every row of both:
  // paging A from there returns A's rows and never B's.
  const std::string b_last = *b_ids_.rbegin();
  for (const std::string& key : {forged_start_key(kTimestamp, b_last), forged_start_key(kTimestamp + 1, "~")}) {
    const HttpResponse r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&start_key=" + key);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const std::string& id : ids_in(r.body)) EXPECT_EQ(a_ids_.count(id), 1u) << id;
  }
  const HttpResponse all =
      get("/v2/accounts/acct-a/cdrs?" + kWindow + "&start_key=" + forged_start_key(kTimestamp + 1, "~"));
  EXPECT_EQ(ids_in(all.body), a_ids_);
  // The same forged key on B's path, with A's key: still 403.
  EXPECT_EQ(get("/v2/accounts/acct-b/cdrs?" + kWindow + "&start_key=" + forged_start_key(kTimestamp, b_last)).status,
            403);
}

TEST_F(IsolationE2E, AQueryPastTheStatementTimeoutIs504) {
  // The table is locked by another session, so the read waits until
  // statement_timeout cancels it (the daemon's default 10 s; this daemon: 300 ms).
  cdrd_->signal(SIGTERM);
  ASSERT_EQ(cdrd_->wait_exit(), 0);
  ::setenv("CDRD_DATABASE_STATEMENT_TIMEOUT_MS", "300", 1);
  cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
  const bool started = cdrd_->start();
  ::unsetenv("CDRD_DATABASE_STATEMENT_TIMEOUT_MS");
  ASSERT_TRUE(started) << cdrd_->log();

  pqxx::connection locker(dsn_);
  pqxx::work tx(locker);
  tx.exec("LOCK TABLE cdrs IN ACCESS EXCLUSIVE MODE");
  const HttpResponse r = get("/v2/accounts/acct-a/cdrs?" + kWindow);
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "timeout");
  tx.abort();
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs?" + kWindow).status, 200);
}

// One read-pool thread waits on a lock, one request waits in the queue
// (api.max_queued_reads: 1): the next one is refused at once with 503 and
// Retry-After instead of piling up; the two waiting ones are answered when
// the lock goes.
TEST_F(IsolationE2E, ReadsBeyondTheQueueGet503) {
  cdrd_->signal(SIGTERM);
  ASSERT_EQ(cdrd_->wait_exit(), 0);
  ::setenv("CDRD_DATABASE_READ_POOL_SIZE", "1", 1);
  ::setenv("CDRD_API_MAX_QUEUED_READS", "1", 1);
  ::setenv("CDRD_DATABASE_STATEMENT_TIMEOUT_MS", "60000", 1);
  cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
  const bool started = cdrd_->start();
  for (const char* name :
       {"CDRD_DATABASE_READ_POOL_SIZE", "CDRD_API_MAX_QUEUED_READS", "CDRD_DATABASE_STATEMENT_TIMEOUT_MS"}) {
    ::unsetenv(name);
  }
  ASSERT_TRUE(started) << cdrd_->log();

  pqxx::connection locker(dsn_);
  pqxx::work tx(locker);
  tx.exec("LOCK TABLE cdrs IN ACCESS EXCLUSIVE MODE");
  const std::string list = "/v2/accounts/acct-a/cdrs?" + kWindow;
  auto running = std::async(std::launch::async, [&] { return get(list); });
  // The first read holds the only thread once PostgreSQL shows it waiting.
  ASSERT_TRUE(eventually([&] {
    return query_count(dsn_,
                       "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cdrd-reader' AND "
                       "wait_event_type = 'Lock'") == 1;
  }));
  // Two more: one takes the only queue place, the other is refused at once.
  auto second = std::async(std::launch::async, [&] { return get(list); });
  auto third = std::async(std::launch::async, [&] { return get(list); });
  auto ready = [](std::future<HttpResponse>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  };
  ASSERT_TRUE(eventually([&] { return ready(second) || ready(third); }));
  auto& refused_future = ready(second) ? second : third;
  auto& queued_future = ready(second) ? third : second;
  const HttpResponse refused = refused_future.get();
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(std::string(parse_json(refused.body)["code"].GetString()), "too_many_requests");
  EXPECT_EQ(refused.headers.count("retry-after") ? refused.headers.at("retry-after") : "", "1");
  EXPECT_FALSE(ready(queued_future));
  tx.abort();
  EXPECT_EQ(ids_in(running.get().body), a_ids_);
  EXPECT_EQ(ids_in(queued_future.get().body), a_ids_);
}

}  // namespace
}  // namespace cdrd::test
