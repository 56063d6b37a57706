// End to end: the real cdrd binary, a real PostgreSQL, real sockets.
// mod_json_cdr posts -> spool -> writer -> cdrs -> read API.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};

struct SampleExpectation {
  const char* file;
  const char* id;
  const char* account;
  long long timestamp;
  int duration_seconds;
  int billing_seconds;
  int ringing_seconds;
  const char* hangup_cause;
  const char* hangup_code;
  const char* other_leg_call_id;
  const char* from_uri;
};

// Worked out by hand from the sample files (variables.*): id = month of
// start_uepoch + uuid; timestamp = floor(end_uepoch / 1e6) + 62167219200;
// billing_seconds = ceil(billmsec / 1000); account = variables.account_id,
// else domain_name, else the default account.
const SampleExpectation kSamples[] = {
    {"json_cdr_cgrates_2013a.json", "201305-c8ccef5e-34c2-4fd2-9a2e-fa6f295f3a1e", "192.168.56.10", 63535926832LL, 24,
     21, 0, "NORMAL_CLEARING", "sip:200", "28262ed6-9d57-4dac-8f0b-9cad38cc5183", "1001@192.168.56.10"},
    {"json_cdr_cgrates_2013b.json", "201308-01df56f4-d99a-4ef6-b7fe-b924b2415b7f", "default", 63542829060LL, 6, 4, 0,
     "NORMAL_CLEARING", "sip:200", "8f7c860f-0619-4d3c-9515-cc23b0fa3997", "dan@ipbx.itsyscom.com"},
    {"json_cdr_cgrates_2015.json", "201507-e3133bf7-dcde-4daf-9663-9a79ffcef5ad", "cgrates.org", 63603499994LL, 66, 66,
     0, "NORMAL_CLEARING", "sip:200", "0a30dd7c-c222-482f-a322-b1218a15f8cd", "1001@127.0.0.1"},
    {"json_cdr_cgrates_2017.json", "201801-3da8bf84-c133-4959-9e24-e72875cb33a1", "default", 63682885615LL, 71, 68, 0,
     "NORMAL_CLEARING", "sip:200", "f52c26f1-b018-4963-bf6d-a3111d1a0320", "1001@10.10.10.204"},
    {"json_cdr_cgrates_2018a.json", "201803-5282f87c-368c-43a2-babd-bc63ff12dc79", "192.168.56.202", 63688163364LL, 61,
     60, 0, "NORMAL_CLEARING", "sip:200", "fa3173aa-3c1a-41e5-ab82-60623396fa08", "1001@192.168.56.202"},
    {"json_cdr_cgrates_2018b.json", "201803-5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4", "192.168.56.202", 63688244988LL, 30,
     21, 0, "NORMAL_CLEARING", "sip:200", "9c1afb4f-1d4a-4e45-84a3-d25721981bf5", "1001@192.168.56.202"},
};

HttpResponse post_json_cdr(int port, const std::string& body, const std::string& query = "") {
  return http_request(port, "POST", "/ingest/freeswitch/json" + query, body, {{"Content-Type", "application/json"}});
}

class IngestE2E : public ::testing::Test {
 protected:
  void SetUp() override { dsn_ = create_database("e2e"); }
  std::unique_ptr<CdrdProcess> start_cdrd(const std::string& extra_yaml = "") {
    auto p = std::make_unique<CdrdProcess>(dir_.path(), dsn_, extra_yaml);
    EXPECT_TRUE(p->start()) << p->log();
    return p;
  }
  long long rows(const std::string& where) { return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE " + where); }

  TempDir dir_;
  std::string dsn_;
};

TEST_F(IngestE2E, EverySampleIsAcknowledgedStoredAndReadBack) {
  auto cdrd = start_cdrd();
  for (const auto& s : kSamples) {
    const HttpResponse r = post_json_cdr(cdrd->port(), read_sample(s.file));
    ASSERT_EQ(r.status, 200) << s.file << ": " << r.body;
    EXPECT_EQ(parse_json(r.body)["status"].GetString(), std::string("success"));
  }
  for (const auto& s : kSamples) {
    SCOPED_TRACE(s.file);
    const std::string path = std::string("/v2/accounts/") + s.account + "/cdrs/" + s.id;
    HttpResponse r;
    ASSERT_TRUE(eventually([&] {
      r = http_request(cdrd->port(), "GET", path, "", kAllKey);
      return r.status == 200;
    })) << r.status
        << " " << r.body;
    auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("data")) << r.body;
    const auto& d = doc["data"];
    EXPECT_EQ(std::string(doc["status"].GetString()), "success");
    EXPECT_EQ(std::string(d["id"].GetString()), s.id);
    EXPECT_EQ(std::string(d["account_id"].GetString()), s.account);
    EXPECT_EQ(d["timestamp"].GetInt64(), s.timestamp);
    EXPECT_EQ(d["duration_seconds"].GetInt(), s.duration_seconds);
    EXPECT_EQ(d["billing_seconds"].GetInt(), s.billing_seconds);
    EXPECT_EQ(d["ringing_seconds"].GetInt(), s.ringing_seconds);
    EXPECT_EQ(std::string(d["hangup_cause"].GetString()), s.hangup_cause);
    EXPECT_EQ(std::string(d["hangup_code"].GetString()), s.hangup_code);
    EXPECT_EQ(std::string(d["other_leg_call_id"].GetString()), s.other_leg_call_id);
    EXPECT_EQ(std::string(d["from_uri"].GetString()), s.from_uri);
    EXPECT_EQ(std::string(d["node"].GetString()), "e2e-node");

    // The same record through the list route, in a window around its timestamp.
    const std::string list = std::string("/v2/accounts/") + s.account +
                             "/cdrs?created_from=" + std::to_string(s.timestamp - 60) +
                             "&created_to=" + std::to_string(s.timestamp + 60);
    const HttpResponse l = http_request(cdrd->port(), "GET", list, "", kAllKey);
    ASSERT_EQ(l.status, 200) << l.body;
    auto ldoc = parse_json(l.body);
    bool found = false;
    for (const auto& item : ldoc["data"].GetArray()) found |= std::string(item["id"].GetString()) == s.id;
    EXPECT_TRUE(found) << l.body;
    EXPECT_FALSE(ldoc.HasMember("next_start_key"));
  }
  // /v1 and unprefixed paths are the same API.
  const auto& s = kSamples[3];
  EXPECT_EQ(
      http_request(cdrd->port(), "GET", std::string("/v1/accounts/") + s.account + "/cdrs/" + s.id, "", kAllKey).status,
      200);
  EXPECT_EQ(
      http_request(cdrd->port(), "GET", std::string("/accounts/") + s.account + "/cdrs/" + s.id, "", kAllKey).status,
      200);
  EXPECT_EQ(rows("true"), 6);
}

TEST_F(IngestE2E, FormEncodingsAndRepeatsAreOneRow) {
  auto cdrd = start_cdrd();
  const std::string uuid = random_uuid();
  const std::string doc = unique_cdr(uuid);
  EXPECT_EQ(post_json_cdr(cdrd->port(), "cdr=" + url_encode(doc)).status, 200);
  EXPECT_EQ(post_json_cdr(cdrd->port(), "cdr=" + base64_encode(doc)).status, 200);
  EXPECT_EQ(post_json_cdr(cdrd->port(), doc, "?uuid=a_" + uuid).status, 200);
  EXPECT_EQ(post_json_cdr(cdrd->port(), doc).status, 200);
  // All four reached the database (written counts every row sent) ...
  ASSERT_TRUE(eventually([&] {
    const HttpResponse m = http_request(cdrd->port(), "GET", "/metrics");
    return m.body.find("\ncdrd_written_total 4\n") != std::string::npos;
  })) << http_request(cdrd->port(), "GET", "/metrics").body;
  // ... and they are one row.
  EXPECT_EQ(rows("call_id = '" + uuid + "'"), 1);
  EXPECT_EQ(rows("id = '201801-" + uuid + "'"), 1);
}

TEST_F(IngestE2E, BadInputIs400WithErrorBodyAndTheRawBodyIsKept) {
  auto cdrd = start_cdrd();
  const std::string garbage = "this is {not json";
  HttpResponse r = post_json_cdr(cdrd->port(), garbage);
  ASSERT_EQ(r.status, 400) << r.body;
  auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_TRUE(doc.HasMember("code") && doc["code"].IsString());
  EXPECT_TRUE(doc.HasMember("message") && doc["message"].IsString());
  ASSERT_TRUE(doc.HasMember("request_id"));
  const std::string request_id = doc["request_id"].GetString();
  EXPECT_EQ(r.headers["x-request-id"], request_id);

  // The raw bytes are in the rejects store under the request id.
  bool kept = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/rejects")) {
    const std::string name = entry.path().filename().string();
    if (name.find(request_id) != std::string::npos && name.size() > 5 &&
        name.compare(name.size() - 5, 5, ".body") == 0) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      kept = content == garbage;
    }
  }
  EXPECT_TRUE(kept);

  // A CDR without its uuid names the field.
  std::string no_uuid = replace_all(read_sample("json_cdr_cgrates_2017.json"), "\"uuid\":", "\"uuid_gone\":");
  r = post_json_cdr(cdrd->port(), no_uuid);
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(parse_json(r.body)["message"].GetString(), std::string());
  EXPECT_NE(std::string(parse_json(r.body)["message"].GetString()).find("uuid"), std::string::npos) << r.body;
  EXPECT_EQ(rows("true"), 0);

  const std::string metrics = http_request(cdrd->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("\ncdrd_rejected_total 2\n"), std::string::npos) << metrics;
}

TEST_F(IngestE2E, BodyOverTheLimitIs413) {
  auto cdrd = start_cdrd("limits:\n  max_body_bytes: 4096\n");
  const HttpResponse r = post_json_cdr(cdrd->port(), unique_cdr(random_uuid()));
  EXPECT_EQ(r.status, 413);
}

TEST_F(IngestE2E, KeysAreScopedToAccounts) {
  auto cdrd = start_cdrd();
  const std::string uuid = random_uuid();
  ASSERT_EQ(post_json_cdr(cdrd->port(), unique_cdr(uuid, "acct-a")).status, 200);
  const std::string path = "/v2/accounts/acct-a/cdrs/201801-" + uuid;
  ASSERT_TRUE(eventually([&] { return http_request(cdrd->port(), "GET", path, "", kAllKey).status == 200; }));

  HttpResponse r = http_request(cdrd->port(), "GET", path);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "unauthorized");
  EXPECT_EQ(http_request(cdrd->port(), "GET", path, "", {{"X-Auth-Token", "wrong"}}).status, 401);
  EXPECT_EQ(http_request(cdrd->port(), "GET", path, "", {{"X-Auth-Token", "a-key"}}).status, 200);
  EXPECT_EQ(http_request(cdrd->port(), "GET", path, "", {{"Authorization", "Bearer a-key"}}).status, 200);
  EXPECT_EQ(http_request(cdrd->port(), "GET", path + "?auth_token=a-key").status, 200);
  // a-key may not read another account, by id or by list.
  r = http_request(cdrd->port(), "GET", "/v2/accounts/acct-b/cdrs/201801-" + uuid, "", {{"X-Auth-Token", "a-key"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "forbidden");
  EXPECT_EQ(http_request(cdrd->port(), "GET", "/v2/accounts/acct-b/cdrs", "", {{"X-Auth-Token", "a-key"}}).status, 403);
  // Another account does not see the record even with an all-accounts key.
  EXPECT_EQ(http_request(cdrd->port(), "GET", "/v2/accounts/acct-b/cdrs/201801-" + uuid, "", kAllKey).status, 404);
}

TEST_F(IngestE2E, KeysetPagingVisitsEveryRowOnce) {
  auto cdrd = start_cdrd();
  std::set<std::string> posted;
  for (int i = 0; i < 7; ++i) {
    const std::string uuid = random_uuid();
    ASSERT_EQ(post_json_cdr(cdrd->port(), unique_cdr(uuid, "acct-a")).status, 200);
    posted.insert("201801-" + uuid);
  }
  ASSERT_TRUE(eventually([&] { return rows("account_id = 'acct-a'") == 7; }));
  const long long ts = 63682885615LL;  // the 2017 sample's end, shared by all seven
  const std::string base = "/v2/accounts/acct-a/cdrs?page_size=3&created_from=" + std::to_string(ts - 100) +
                           "&created_to=" + std::to_string(ts + 100);
  std::set<std::string> seen;
  std::vector<size_t> sizes;
  std::string start_key;
  for (int page = 0; page < 5; ++page) {
    const HttpResponse r =
        http_request(cdrd->port(), "GET", base + (start_key.empty() ? "" : "&start_key=" + start_key), "", kAllKey);
    ASSERT_EQ(r.status, 200) << r.body;
    auto doc = parse_json(r.body);
    sizes.push_back(doc["data"].Size());
    EXPECT_EQ(doc["page_size"].GetUint64(), doc["data"].Size());
    for (const auto& item : doc["data"].GetArray()) EXPECT_TRUE(seen.insert(item["id"].GetString()).second);
    if (!doc.HasMember("next_start_key")) break;
    start_key = doc["next_start_key"].GetString();
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 1}));
  EXPECT_EQ(seen, posted);

  // Parameters are checked and named.
  HttpResponse r = http_request(cdrd->port(), "GET", "/v2/accounts/acct-a/cdrs?page_size=0", "", kAllKey);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("page_size"), std::string::npos);
  r = http_request(cdrd->port(), "GET", "/v2/accounts/acct-a/cdrs?created_from=63682000000&created_to=63692000000", "",
                   kAllKey);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("is more than 2682000 seconds from created_from"), std::string::npos) << r.body;
  r = http_request(cdrd->port(), "GET", "/v2/accounts/acct-a/cdrs?start_key=forged!", "", kAllKey);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("start_key"), std::string::npos);
}

TEST_F(IngestE2E, KillNineAfterAcknowledgementsLosesAndDuplicatesNothing) {
  auto cdrd = start_cdrd();
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  constexpr int kSenders = 4;
  std::vector<std::thread> senders;
  senders.reserve(kSenders);
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&] {
      while (!stop) {
        const std::string uuid = random_uuid();
        const HttpResponse r = post_json_cdr(cdrd->port(), unique_cdr(uuid, "acct-kill"));
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(uuid);
        } else if (r.status == 0) {
          return;  // cdrd is gone
        }
      }
    });
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return acked.size() >= 300;
  }));
  cdrd->signal(SIGKILL);
  EXPECT_EQ(cdrd->wait_exit(), 128 + SIGKILL);
  stop = true;
  for (auto& t : senders) t.join();

  auto again = start_cdrd();
  ASSERT_TRUE(eventually([&] { return rows("account_id = 'acct-kill'") >= static_cast<long long>(acked.size()); },
                         std::chrono::seconds(60)));
  const std::set<std::string> stored = stored_once(dsn_, "acct-kill");
  for (const auto& uuid : acked) EXPECT_EQ(stored.count(uuid), 1u) << "acknowledged but missing: " << uuid;
  // Anything stored beyond the acknowledged set was in flight when killed (durable, not yet answered).
  EXPECT_LE(stored.size() - acked.size(), 4u * 2);
}

TEST_F(IngestE2E, SigtermDrainsAndExitsZero) {
  auto cdrd = start_cdrd();
  const std::string uuid = random_uuid();
  ASSERT_EQ(post_json_cdr(cdrd->port(), unique_cdr(uuid, "acct-term")).status, 200);
  cdrd->signal(SIGTERM);
  EXPECT_EQ(cdrd->wait_exit(), 0) << cdrd->log();
  // Acknowledged before the stop: in the table now, or replayed by the next start.
  auto again = start_cdrd();
  EXPECT_TRUE(eventually([&] { return rows("call_id = '" + uuid + "'") == 1; }));
}

TEST_F(IngestE2E, HealthReadinessAndMetrics) {
  auto cdrd = start_cdrd();
  EXPECT_EQ(http_request(cdrd->port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(http_request(cdrd->port(), "GET", "/readyz").status, 200);
  ASSERT_EQ(post_json_cdr(cdrd->port(), unique_cdr(random_uuid())).status, 200);
  const HttpResponse m = http_request(cdrd->port(), "GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers.at("content-type").find("text/plain"), std::string::npos);
  for (const char* name : {"cdrd_received_total{source=\"json_cdr\"} 1", "cdrd_spooled_total 1", "cdrd_spool_bytes",
                           "cdrd_batch_seconds_bucket", "cdrd_database_up"}) {
    EXPECT_NE(m.body.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace cdrd::test
