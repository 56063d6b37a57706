// End to end: Yeti's customer API (seed 004, daemon/api/yeti) against the
// real daemon. An inbound call (its A-leg came in through gateway
// carrier-in, a trunk by trunks.variables) rang extension 1000 twice: the
// first attempt was not answered, the second talked 38 s. Both attempts are
// the account's incoming CDRs. The documents are compared with the seed's
// example read at test time (keys, nesting, JSON types), the values with
// what was posted: ids (the legs' row numbers), total-count, success,
// duration; then paging links, each filter predicate once, sort, the
// refusals in JSON:API shape, another account's row (404), the account
// choice, and a login by a user made with `cdrd user create` whose token is
// sent as `Authorization: <jwt>`.
//
// The base time is two hours ago, so that the default window (the last 24
// hours of time-start) holds the call.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/http_client.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

// The seed extraction of the projection tests (CDRD_SEEDS_DIR: tests/CMakeLists.txt).
#include "tests/api_dialects/dialect_test_support.h"

namespace cdrd::test {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr const char* kList = "/api/rest/customer/v1/incoming-cdrs";
const std::map<std::string, std::string> kAKey = {{"X-Auth-Token", "a-key"}};      // reads acct-a only
const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};  // reads every account

// "2026-02-27T16:55:53.518Z" of Unix microseconds (yeti's times: ms, cut).
std::string iso_ms(int64_t us) {
  const auto t = static_cast<std::time_t>(us / kSecond);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>((us % kSecond) / 1000));
  return out;
}

// One leg of the call, as mod_json_cdr posts it: `start_s`/`end_s` after
// the base, answered `answer_s` after the base (0 = never).
std::string leg_json(const std::string& uuid, const std::string& account, int64_t base_us, int64_t start_s,
                     int64_t answer_s, int64_t end_s, const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> v = extra;
  v["uuid"] = uuid;
  v["account_id"] = account;
  v["start_uepoch"] = std::to_string(base_us + start_s * kSecond);
  v["answer_uepoch"] = answer_s == 0 ? "0" : std::to_string(base_us + answer_s * kSecond);
  v["end_uepoch"] = std::to_string(base_us + end_s * kSecond);
  v["caller_id_number"] = "33170363950";
  v["destination_number"] = "33170363951";
  v["callee_id_number"] = "33170363951";
  if (v.count("hangup_cause") == 0) v["hangup_cause"] = "NORMAL_CLEARING";
  return chain_json_cdr(v);
}

struct Call {
  std::string a;
  std::string b1;  // not answered
  std::string b2;  // answered, 38 s
};

Call call_uuids(const std::string& tag) {
  return {"c0000000-0000-4000-8000-" + tag + "0000000a", "c0000000-0000-4000-8000-" + tag + "000000b1",
          "c0000000-0000-4000-8000-" + tag + "000000b2"};
}

std::vector<std::string> ids_of(const rapidjson::Value& data) {
  std::vector<std::string> ids;
  for (const auto& item : data.GetArray()) ids.emplace_back(item["id"].GetString());
  return ids;
}

std::string header(const HttpResponse& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

class YetiE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_yeti");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_, "trunks:\n  variables: [sip_gateway_name]\n");
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    base_us_ = (static_cast<int64_t>(std::time(nullptr)) - 7200) * kSecond;
    post_call(call_uuids("0001"), "acct-a");
    post_call(call_uuids("0002"), "acct-b");
    // Call assembly has run on all six legs: each knows its call's class.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (count("SELECT count(*) FROM cdrs WHERE direction_class = 'inbound'") < 6 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(count("SELECT count(*) FROM cdrs WHERE direction_class = 'inbound'"), 6) << cdrd_->log();
    b1_ = row_seq(call_uuids("0001").b1, "acct-a");
    b2_ = row_seq(call_uuids("0001").b2, "acct-a");
    other_b2_ = row_seq(call_uuids("0002").b2, "acct-b");
  }

  // A-leg in from the trunk; B1 rings 1..21 s and gets no answer; B2 starts
  // at 22 s, answered at 24 s, ends at 62 s: 38 billed seconds.
  void post_call(const Call& call, const std::string& account) {
    const std::map<std::string, std::string> from_a = {
        {"direction", "outbound"}, {"originator", call.a}, {"originating_leg_uuid", call.a}};
    std::map<std::string, std::string> b1 = from_a;
    b1["hangup_cause"] = "NO_ANSWER";
    for (const std::string& body :
         {leg_json(call.a, account, base_us_, 0, 2, 62, {{"direction", "inbound"}, {"sip_gateway_name", "carrier-in"}}),
          leg_json(call.b1, account, base_us_, 1, 0, 21, b1),
          leg_json(call.b2, account, base_us_, 22, 24, 62, from_a)}) {
      const HttpResponse r =
          http_request(cdrd_->port(), "POST", "/ingest/freeswitch/json", body, {{"Content-Type", "application/json"}});
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
  long long count(const std::string& sql) const {
    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<long long>();
  }
  // The leg's row number: the id the API gives its attempt.
  std::string row_seq(const std::string& call_id, const std::string& account) const {
    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    return tx.exec_params1("SELECT row_seq::text FROM cdrs WHERE call_id = $1 AND account_id = $2", call_id, account)[0]
        .as<std::string>();
  }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = kAKey) const {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }
  // The ids a list answers, in order (200 expected).
  std::vector<std::string> list_ids(const std::string& query) const {
    const HttpResponse r = get(std::string(kList) + "?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    if (r.status != 200) return {};
    return ids_of(parse_json_strict(r.body)["data"]);
  }
  // A refusal: its status and the one JSON:API error, whose detail names `names`.
  void expect_error(const HttpResponse& r, int status, const std::string& code, const std::string& names) const {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(header(r, "content-type"), "application/vnd.api+json");
    const rapidjson::Document doc = parse_json_strict(r.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("errors") && doc["errors"].IsArray()) << r.body;
    ASSERT_EQ(doc["errors"].Size(), 1U) << r.body;
    const rapidjson::Value& e = doc["errors"][0];
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"title", "detail", "code", "status"})) << r.body;
    EXPECT_EQ(std::string(e["status"].GetString()), std::to_string(status));
    EXPECT_EQ(std::string(e["code"].GetString()), code) << r.body;
    EXPECT_NE(std::string(e["detail"].GetString()).find(names), std::string::npos) << r.body;
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
  int64_t base_us_ = 0;
  std::string b1_;
  std::string b2_;
  std::string other_b2_;
};

// Keys, nesting and types as the seed's example; null where the seed has a
// value only when cdrd knows none (never for the seed's non-null keys here).
void expect_seed_shape(const rapidjson::Value& ours, const rapidjson::Value& seed, const std::string& where) {
  ASSERT_TRUE(ours.IsObject()) << where;
  EXPECT_EQ(keys_of(ours), keys_of(seed)) << where;
  for (const auto& m : seed.GetObject()) {
    const std::string key(m.name.GetString(), m.name.GetStringLength());
    const auto it = ours.FindMember(key.c_str());
    if (it == ours.MemberEnd()) continue;
    if (m.value.IsObject()) {
      expect_seed_shape(it->value, m.value, where + "." + key);
    } else if (m.value.IsNull()) {
      // yeti's null columns: a scalar when cdrd knows the value.
      EXPECT_FALSE(it->value.IsObject() || it->value.IsArray()) << where << "." << key;
    } else if (key != "local-tag" && key != "time-connect") {
      EXPECT_EQ(json_type(it->value), json_type(m.value)) << where << "." << key;
    }
  }
}

TEST_F(YetiE2E, ListAndOneRowAreTheSeedsDocument) {
  const rapidjson::Document seed = seed_example(seed_text("004"), "Body");
  const std::string collection = "http://127.0.0.1" + std::string(kList);

  HttpResponse r = get(kList);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "content-type"), "application/vnd.api+json");
  rapidjson::Document doc = parse_json_strict(r.body);
  EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"data", "meta", "links"}));
  EXPECT_EQ(doc["meta"]["total-count"].GetInt64(), 2);
  // Newest start first: B2 (22 s) then B1 (1 s). acct-b's call is not here.
  EXPECT_EQ(ids_of(doc["data"]), (std::vector<std::string>{b2_, b1_}));
  for (const auto& item : doc["data"].GetArray()) expect_seed_shape(item, seed["data"], "list data");
  const rapidjson::Value& b2 = doc["data"][0];
  const rapidjson::Value& b1 = doc["data"][1];
  EXPECT_EQ(std::string(b2["type"].GetString()), "incoming-cdrs");
  EXPECT_EQ(std::string(b2["links"]["self"].GetString()), collection + "/" + b2_);
  EXPECT_EQ(std::string(b2["relationships"]["account"]["links"]["related"].GetString()),
            collection + "/" + b2_ + "/account");
  EXPECT_TRUE(b2["attributes"]["success"].GetBool());
  EXPECT_EQ(b2["attributes"]["duration"].GetInt64(), 38);
  EXPECT_EQ(std::string(b2["attributes"]["time-start"].GetString()), iso_ms(base_us_ + 22 * kSecond));
  EXPECT_EQ(std::string(b2["attributes"]["time-connect"].GetString()), iso_ms(base_us_ + 24 * kSecond));
  EXPECT_EQ(std::string(b2["attributes"]["time-end"].GetString()), iso_ms(base_us_ + 62 * kSecond));
  EXPECT_EQ(std::string(b2["attributes"]["src-prefix-routing"].GetString()), "33170363950");
  EXPECT_EQ(std::string(b2["attributes"]["dst-prefix-routing"].GetString()), "33170363951");
  EXPECT_FALSE(b1["attributes"]["success"].GetBool());
  EXPECT_EQ(b1["attributes"]["duration"].GetInt64(), 0);
  EXPECT_TRUE(b1["attributes"]["time-connect"].IsNull());

  // One row: exactly {"data": ...}, the seed's document.
  r = get(std::string(kList) + "/" + b2_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "content-type"), "application/vnd.api+json");
  doc = parse_json_strict(r.body);
  expect_seed_shape(doc, seed, "one row");
  EXPECT_EQ(std::string(doc["data"]["id"].GetString()), b2_);
  EXPECT_EQ(std::string(doc["data"]["relationships"]["account"]["links"]["self"].GetString()),
            collection + "/" + b2_ + "/relationships/account");
  EXPECT_EQ(doc["data"]["attributes"]["duration"].GetInt64(), 38);

  // Another account's row, an unknown one, a bad id.
  expect_error(get(std::string(kList) + "/" + other_b2_), 404, "404", other_b2_);
  expect_error(get(std::string(kList) + "/999999999"), 404, "404", "999999999");
  expect_error(get(std::string(kList) + "/abc"), 400, "103", "abc");
}

TEST_F(YetiE2E, PagingLinksKeepTheOtherParameters) {
  const std::string collection = "http://127.0.0.1" + std::string(kList);
  HttpResponse r = get(std::string(kList) + "?page[size]=1&sort=-time-start&filter[duration_gteq]=0");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = parse_json_strict(r.body);
  EXPECT_EQ(doc["meta"]["total-count"].GetInt64(), 2);
  EXPECT_EQ(ids_of(doc["data"]), std::vector<std::string>{b2_});
  const std::string kept = "filter%5Bduration_gteq%5D=0&page%5Bnumber%5D=";
  EXPECT_EQ(keys_of(doc["links"]), (std::vector<std::string>{"first", "next", "last"}));
  EXPECT_EQ(std::string(doc["links"]["first"].GetString()),
            collection + "?" + kept + "1&page%5Bsize%5D=1&sort=-time-start");
  const std::string next = doc["links"]["next"].GetString();
  EXPECT_EQ(next, collection + "?" + kept + "2&page%5Bsize%5D=1&sort=-time-start");
  EXPECT_EQ(std::string(doc["links"]["last"].GetString()), next);

  // The next link, as given, is page 2: B1, with prev and no next.
  r = get(next.substr(std::string("http://127.0.0.1").size()));
  ASSERT_EQ(r.status, 200) << r.body;
  doc = parse_json_strict(r.body);
  EXPECT_EQ(ids_of(doc["data"]), std::vector<std::string>{b1_});
  EXPECT_EQ(keys_of(doc["links"]), (std::vector<std::string>{"first", "prev", "last"}));

  expect_error(get(std::string(kList) + "?page[size]=1001"), 400, "118", "page[size]");
  expect_error(get(std::string(kList) + "?page[number]=0"), 400, "118", "page[number]");
}

TEST_F(YetiE2E, EachFilterPredicateAndSort) {
  const std::string start_b1 = iso_ms(base_us_ + 1 * kSecond);
  const std::string start_b2 = iso_ms(base_us_ + 22 * kSecond);
  EXPECT_EQ(list_ids("filter[duration_eq]=38"), std::vector<std::string>{b2_});
  EXPECT_EQ(list_ids("filter[duration_gt]=0"), std::vector<std::string>{b2_});
  EXPECT_EQ(list_ids("filter[duration_lteq]=0"), std::vector<std::string>{b1_});
  EXPECT_EQ(list_ids("filter[time-start_gteq]=" + start_b1), (std::vector<std::string>{b2_, b1_}));
  EXPECT_EQ(list_ids("filter[time-start_gteq]=" + start_b1 + "&filter[time-start_lt]=" + start_b2),
            std::vector<std::string>{b1_});
  EXPECT_EQ(list_ids("filter[id_in]=" + b1_ + ",999999999"), std::vector<std::string>{b1_});
  EXPECT_EQ(list_ids("filter[success_eq]=false"), std::vector<std::string>{b1_});
  EXPECT_EQ(list_ids("filter[dst-prefix-routing_cont]=7036395"), (std::vector<std::string>{b2_, b1_}));
  EXPECT_EQ(list_ids("filter[src-prefix-out_start]=3317"), (std::vector<std::string>{b2_, b1_}));
  EXPECT_EQ(list_ids("filter[src-prefix-out_start]=44"), std::vector<std::string>{});

  EXPECT_EQ(list_ids("sort=duration"), (std::vector<std::string>{b1_, b2_}));
  EXPECT_EQ(list_ids("sort=time-start"), (std::vector<std::string>{b1_, b2_}));
  expect_error(get(std::string(kList) + "?sort=time-connect"), 400, "114", "time-connect");
  expect_error(get(std::string(kList) + "?filter[legb-local-tag_eq]=x"), 400, "102", "filter[legb-local-tag_eq]");
  expect_error(get(std::string(kList) + "?filter[duration_gt]=ten"), 400, "107", "filter[duration_gt]");
  expect_error(get(std::string(kList) + "?filter[time-start_gteq]=2020-01-01"), 400, "107", "filter[time-start_gteq]");
}

TEST_F(YetiE2E, TheCredentialChoosesTheAccount) {
  // A key for every account names one.
  expect_error(get(kList, kAllKey), 400, "106", "account_id");
  HttpResponse r = get(std::string(kList) + "?account_id=acct-b", kAllKey);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_of(parse_json_strict(r.body)["data"]).back(), row_seq(call_uuids("0002").b1, "acct-b"));
  // Yeti's own account filter does the same.
  r = get(std::string(kList) + "/" + other_b2_ + "?filter[account_id_eq]=acct-b", kAllKey);
  EXPECT_EQ(r.status, 200) << r.body;
  // acct-a's key may not read acct-b; no credential, a bad one.
  expect_error(get(std::string(kList) + "?account_id=acct-b"), 403, "403", "acct-b");
  expect_error(get(kList, {}), 401, "401", "credentials");
  expect_error(get(kList, {{"Authorization", "not-a-key"}}), 401, "401", "");
  // Authorization: <key> and Bearer <key> are read alike.
  EXPECT_EQ(get(kList, {{"Authorization", "a-key"}}).status, 200);
  EXPECT_EQ(get(kList, {{"Authorization", "Bearer a-key"}}).status, 200);
}

TEST_F(YetiE2E, LoginOfAUserThenReadWithItsToken) {
  // `cdrd user` runs with a configuration of its own on the same database.
  const TempDir cli;
  write_file(cli.file("cdrd.yaml"),
             "state_dir: " + cli.file("state") + "\ndatabase:\n  dsn: \"" + dsn_ + "\"\nlog:\n  level: warn\n");
  const CommandResult made =
      run_command("cd " + cli.path() + " && printf %s 'y3ti pass' | " + std::string(CDRD_BINARY) +
                  " user create --login yuser --account acct-a -c cdrd.yaml");
  ASSERT_EQ(made.exit_code, 0) << made.output;

  const std::string path = "/api/rest/customer/v1/auth";
  HttpResponse r = http_request(cdrd_->port(), "POST", path, R"({"auth":{"login":"yuser","password":"wrong"}})",
                                {{"Content-Type", "application/vnd.api+json"}});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.body,
            R"({"errors":[{"title":"Authentication failed","detail":"Incorrect login or password.","code":"401",)"
            R"("status":"401"}]})");
  r = http_request(cdrd_->port(), "POST", path, R"({"login":"yuser"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(http_request(cdrd_->port(), "GET", path).status, 405);

  r = http_request(cdrd_->port(), "POST", path, R"({"auth":{"login":"yuser","password":"y3ti pass"}})",
                   {{"Content-Type", "application/vnd.api+json"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const rapidjson::Document token = parse_json_strict(r.body);
  EXPECT_EQ(keys_of(token), std::vector<std::string>{"jwt"});
  const std::string jwt = token["jwt"].GetString();

  // The token is the header's whole value, as yeti's clients send it.
  r = get(kList, {{"Authorization", jwt}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json_strict(r.body)["meta"]["total-count"].GetInt64(), 2);
  EXPECT_EQ(get(std::string(kList) + "/" + b1_, {{"Authorization", "Bearer " + jwt}}).status, 200);
  // The user reads acct-a only.
  expect_error(get(std::string(kList) + "/" + other_b2_ + "?account_id=acct-b", {{"Authorization", jwt}}), 403, "403",
               "acct-b");
}

}  // namespace
}  // namespace cdrd::test
