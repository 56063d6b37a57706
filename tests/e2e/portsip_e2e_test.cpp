// End to end: PortSIP PBX's CDR API (seed 001) on the real daemon. Account
// acct-a holds five calls, posted as FreeSWITCH sends them:
//
//   P  the 2017 sample's A-leg (1001 -> 1002, 10:25:44.534 .. 10:26:55.494,
//      billmsec 67540, sip_hangup_disposition send_bye) and the B-leg it
//      bridged to, sent out through gateway carrier-x: outbound
//   C1..C3  copies of the 2017 A-leg under new uuids (c000...01..03): each a
//      call of its own with no trunk: internal, ending when P's root does
//   X  the three-hop chain of tests/support/call_chain.h (user a -> two
//      loopback pairs -> carrier1 b) at 2018-01-11T12:00:00Z: root a ends
//      at 12:01:40, outbound, its trunk on b only
//
// and one call in acct-b. Newest first: X, then the four calls whose root
// ended at 10:26:55 by id descending (c...03, c...02, c...01, 3da8...).
//
// The items are compared with the seed's examples read at test time (keys in
// order, JSON types); P's values are worked out by hand from the sample.
// The dialect is mounted by api.dialects (all dialects by default).
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <memory>
#include <set>
#include <vector>

// Before dialect_test_support.h, which defines the parse_json this declares.
#include "tests/e2e/e2e_util.h"

#include "tests/api_dialects/dialect_test_support.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/http_client.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAKey = {{"Authorization", "Bearer a-key"}};      // acct-a only
const std::map<std::string, std::string> kAllKey = {{"Authorization", "Bearer all-key"}};  // every account

const std::string kAUuid = "3da8bf84-c133-4959-9e24-e72875cb33a1";
const std::string kBUuid = "f52c26f1-b018-4963-bf6d-a3111d1a0320";  // the A-leg's bridge_uuid
const std::vector<std::string> kCopies = {"c0000000-0000-4000-8000-000000000001",
                                          "c0000000-0000-4000-8000-000000000002",
                                          "c0000000-0000-4000-8000-000000000003"};
const std::string kOtherAccountUuid = "d0000000-0000-4000-8000-000000000001";
// 2018-01-11T12:00:00Z in µs: the chain's base time.
constexpr int64_t kChainBaseUs = 1515672000LL * 1000000;
const std::string kWindow = "start_time=2018-01-11T00:00:00Z&end_time=2018-01-12T00:00:00Z";

std::string id_of(const std::string& uuid) { return "201801-" + uuid; }

// Newest first: X, then the calls ending at 10:26:55 by id descending.
const std::vector<std::string>& all_ids() {
  static const std::vector<std::string> ids = {id_of(three_hop_chain()[0].uuid), id_of(kCopies[2]), id_of(kCopies[1]),
                                               id_of(kCopies[0]), id_of(kAUuid)};
  return ids;
}

std::string to_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  value.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

void set_string(rapidjson::Value& object, const char* name, const std::string& value,
                rapidjson::Document::AllocatorType& alloc) {
  auto it = object.FindMember(name);
  if (it != object.MemberEnd()) {
    it->value.SetString(value, alloc);
  } else {
    object.AddMember(rapidjson::Value(name, alloc), rapidjson::Value(value, alloc), alloc);
  }
}

std::string a_leg_cdr() {
  rapidjson::Document doc = parse_json(read_sample("json_cdr_cgrates_2017.json"));
  set_string(doc["variables"], "account_id", "acct-a", doc.GetAllocator());
  return to_text(doc);
}

// The B-leg FreeSWITCH writes for the same call (as legs_e2e_test.cpp makes
// it: its own uuid, originated by the A-leg, created 50 ms later), sent out
// through gateway carrier-x.
std::string b_leg_cdr() {
  rapidjson::Document doc = parse_json(read_sample("json_cdr_cgrates_2017.json"));
  auto& alloc = doc.GetAllocator();
  auto& v = doc["variables"];
  set_string(v, "account_id", "acct-a", alloc);
  set_string(v, "uuid", kBUuid, alloc);
  set_string(v, "call_uuid", kAUuid, alloc);
  set_string(v, "originating_leg_uuid", kAUuid, alloc);
  set_string(v, "direction", "outbound", alloc);
  set_string(v, "sip_gateway_name", "carrier-x", alloc);
  for (const char* name : {"bridge_uuid", "signal_bond", "last_bridge_to"}) set_string(v, name, kAUuid, alloc);
  const long long start = std::stoll(v["start_uepoch"].GetString()) + 50000;
  set_string(v, "start_uepoch", std::to_string(start), alloc);
  for (auto& callflow : doc["callflow"].GetArray()) {
    auto& profile = callflow["caller_profile"];
    rapidjson::Value a_profile(profile, alloc);
    a_profile.RemoveMember("originatee");
    set_string(profile, "uuid", kBUuid, alloc);
    set_string(profile, "chan_name", "sofia/external/1002@carrier.example", alloc);
    profile.RemoveMember("originatee");
    rapidjson::Value profiles(rapidjson::kArrayType);
    profiles.PushBack(a_profile, alloc);
    rapidjson::Value originator(rapidjson::kObjectType);
    originator.AddMember("originator_caller_profiles", profiles, alloc);
    profile.AddMember("originator", originator, alloc);
  }
  return to_text(doc);
}

std::vector<std::string> ids_of(const rapidjson::Value& items) {
  std::vector<std::string> ids;
  for (const auto& item : items.GetArray()) ids.emplace_back(item["id"].GetString());
  return ids;
}

// The seed's item: the union of the list's and the single route's example
// keys in the seed's order, with their JSON types.
struct SeedItem {
  std::vector<std::string> keys;
  std::map<std::string, std::string> types;
};

SeedItem seed_item() {
  const std::string text = seed_text("001");
  const rapidjson::Document list = seed_example(text, "GET /api/cdrs HTTP/1.1");
  const rapidjson::Document single = seed_example(text, "GET /api/cdrs/{id} HTTP/1.1");
  const rapidjson::Value& a = list["items"][0];
  const rapidjson::Value& b = single["items"][0];
  SeedItem out;
  out.keys = merged_keys(keys_of(a), keys_of(b));
  for (const rapidjson::Value* example : {&a, &b}) {
    for (const auto& m : example->GetObject()) out.types[m.name.GetString()] = json_type(m.value);
  }
  return out;
}

// The seed's list body has "count" (a number) and "items"; ours the same.
void expect_list_envelope(const rapidjson::Value& ours) {
  const rapidjson::Document seed = seed_example(seed_text("001"), "GET /api/cdrs HTTP/1.1");
  ASSERT_TRUE(ours.IsObject());
  EXPECT_EQ(keys_of(ours), keys_of(seed));
  EXPECT_TRUE(ours["count"].IsInt64());
  EXPECT_TRUE(ours["items"].IsArray());
}

class PortsipE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_portsip");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    post_json(b_leg_cdr());
    post_json(a_leg_cdr());
    for (const std::string& uuid : kCopies) post_json(unique_cdr(uuid, "acct-a"));
    post_json(unique_cdr(kOtherAccountUuid, "acct-b"));
    for (const ChainLeg& leg : three_hop_chain()) {
      const auto v = chain_variables(leg, "acct-a", kChainBaseUs);
      if (leg.format == ChainFormat::kXml) {
        const HttpResponse r = http_request(cdrd_->port(), "POST", "/ingest/freeswitch/xml", chain_xml_cdr(v),
                                            {{"Content-Type", "application/xml"}});
        ASSERT_EQ(r.status, 200) << r.body;
      } else {
        post_json(chain_json_cdr(v));  // the ESL legs too: the same variables
      }
    }
    ASSERT_TRUE(eventually([&] { return query_count(dsn_, "SELECT count(*) FROM cdrs") == 12; })) << cdrd_->log();
    // Call assembly has tied the chain's six legs into one call.
    ASSERT_TRUE(eventually([&] {
      return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE interaction_id = '" + three_hop_chain()[0].uuid +
                                   "' AND direction_class = 'outbound'") == 6;
    }));
  }
  void post_json(const std::string& body) {
    const HttpResponse r =
        http_request(cdrd_->port(), "POST", "/ingest/freeswitch/json", body, {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = kAKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }
  // The list's ids of `query` (after the window), its count in *count.
  std::vector<std::string> list_ids(const std::string& query, int64_t* count = nullptr) {
    const HttpResponse r = get("/api/cdrs?" + kWindow + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    if (r.status != 200) return {};
    const auto doc = parse_json(r.body);
    if (count != nullptr) *count = doc["count"].GetInt64();
    return ids_of(doc["items"]);
  }
  // A PortSIP error: the status and {"error": {"code": status, "message"}}
  // whose message starts with `message_start`.
  static void expect_error(const HttpResponse& r, int status, const std::string& message_start) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "", "application/json");
    const auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("error") && doc["error"].IsObject()) << r.body;
    EXPECT_EQ(keys_of(doc), std::vector<std::string>{"error"});
    EXPECT_EQ(doc["error"]["code"].GetInt(), status) << r.body;
    EXPECT_EQ(std::string(doc["error"]["message"].GetString()).rfind(message_start, 0), 0U) << r.body;
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TEST_F(PortsipE2E, ListHasTheSeedsShapeAndTheCallWorkedByHand) {
  const HttpResponse r = get("/api/cdrs?" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  const auto doc = parse_json(r.body);
  expect_list_envelope(doc);
  EXPECT_EQ(doc["count"].GetInt64(), 5);
  ASSERT_EQ(ids_of(doc["items"]), all_ids());

  // Every item: the seed's keys in its order, each of the seed's type or
  // null when unknown (id, call_id and duration never are).
  const SeedItem seed = seed_item();
  ASSERT_EQ(seed.keys.size(), 25U);
  std::set<std::string> nullable(seed.keys.begin(), seed.keys.end());
  for (const char* never : {"id", "call_id", "duration"}) nullable.erase(never);
  for (const auto& item : doc["items"].GetArray()) {
    expect_shape(
        item, seed.keys, [&](const std::string& key) { return seed.types.at(key); }, nullable, item["id"].GetString());
  }

  // P: root the A-leg; the B-leg answered at answer_uepoch 1515666347954373
  // and billed ceil(67540 / 1000) = 68 s; both legs ended at
  // 1515666415494269; the root sent the BYE (send_bye): the callee hung up.
  const rapidjson::Value& p = doc["items"][4];
  EXPECT_EQ(std::string(p["id"].GetString()), id_of(kAUuid));
  EXPECT_EQ(std::string(p["call_id"].GetString()), kAUuid);
  EXPECT_EQ(std::string(p["caller"].GetString()), "1001");
  EXPECT_EQ(std::string(p["direction"].GetString()), "OUTBOUND_CALL");
  EXPECT_EQ(p["duration"].GetInt64(), 68);
  EXPECT_EQ(std::string(p["trunk"].GetString()), "carrier-x");
  EXPECT_EQ(std::string(p["started_at"].GetString()), "2018-01-11T10:25:44Z");
  EXPECT_EQ(std::string(p["answered_at"].GetString()), "2018-01-11T10:25:47Z");
  EXPECT_EQ(std::string(p["ended_at"].GetString()), "2018-01-11T10:26:55Z");
  EXPECT_EQ(std::string(p["end_reason"].GetString()), "CALLEE_DISCONNECTED");
  EXPECT_TRUE(p["cost"].IsNull());  // unrated
  EXPECT_EQ(std::string(p["billed_account"].GetString()), "acct-a");
  // A copy: one leg, no trunk: internal.
  EXPECT_EQ(std::string(doc["items"][1]["direction"].GetString()), "INTERNAL_CALL");
  EXPECT_TRUE(doc["items"][1]["trunk"].IsNull());
  // X: one item for six legs, outbound through b's trunk.
  const rapidjson::Value& x = doc["items"][0];
  EXPECT_EQ(std::string(x["call_id"].GetString()), three_hop_chain()[0].uuid);
  EXPECT_EQ(std::string(x["direction"].GetString()), "OUTBOUND_CALL");
  EXPECT_EQ(std::string(x["trunk"].GetString()), "carrier1");
  EXPECT_EQ(std::string(x["ended_at"].GetString()), "2018-01-11T12:04:51Z");  // b: base + 291 s

  // The single route: {"items": [the same item]}.
  const HttpResponse one = get("/api/cdrs/" + id_of(kAUuid));
  ASSERT_EQ(one.status, 200) << one.body;
  const auto single = parse_json(one.body);
  EXPECT_EQ(keys_of(single), std::vector<std::string>{"items"});
  ASSERT_EQ(single["items"].Size(), 1U);
  EXPECT_EQ(to_text(single["items"][0]), to_text(p));
}

TEST_F(PortsipE2E, SkipAndTopPageThroughTheCount) {
  std::vector<std::string> seen;
  for (const int skip : {0, 2, 4}) {
    int64_t count = -1;
    const auto ids = list_ids("&top=2&skip=" + std::to_string(skip), &count);
    EXPECT_EQ(count, 5) << skip;
    EXPECT_EQ(ids.size(), skip == 4 ? 1U : 2U) << skip;
    seen.insert(seen.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(seen, all_ids());
  int64_t count = -1;
  EXPECT_EQ(list_ids("&skip=5", &count), std::vector<std::string>{});
  EXPECT_EQ(count, 5);
  EXPECT_EQ(list_ids("&top=1"), std::vector<std::string>{all_ids()[0]});
}

TEST_F(PortsipE2E, FiltersSelectWhatTheItemsShow) {
  int64_t count = -1;
  EXPECT_EQ(list_ids("&direction=OUTBOUND_CALL", &count),
            (std::vector<std::string>{id_of(three_hop_chain()[0].uuid), id_of(kAUuid)}));
  EXPECT_EQ(count, 2);
  EXPECT_EQ(list_ids("&direction=INTERNAL_CALL", &count),
            (std::vector<std::string>{id_of(kCopies[2]), id_of(kCopies[1]), id_of(kCopies[0])}));
  EXPECT_EQ(count, 3);
  EXPECT_EQ(list_ids("&direction=INBOUND_CALL", &count), std::vector<std::string>{});
  EXPECT_EQ(count, 0);
  // The chain's trunk is on its b leg, not its root: the item shows it and
  // the filter finds it.
  EXPECT_EQ(list_ids("&trunk=carrier1"), std::vector<std::string>{id_of(three_hop_chain()[0].uuid)});
  EXPECT_EQ(list_ids("&trunk=carrier*", &count),
            (std::vector<std::string>{id_of(three_hop_chain()[0].uuid), id_of(kAUuid)}));
  EXPECT_EQ(count, 2);
  EXPECT_EQ(list_ids("&caller=1001&top=10", &count),
            (std::vector<std::string>{id_of(kCopies[2]), id_of(kCopies[1]), id_of(kCopies[0]), id_of(kAUuid)}));
  EXPECT_EQ(count, 4);
  EXPECT_EQ(list_ids("&caller=100*&direction=OUTBOUND_CALL"), std::vector<std::string>{id_of(kAUuid)});
  // The chain dialed 33170363950 (its root's destination number).
  EXPECT_EQ(list_ids("&callee=3317*"), std::vector<std::string>{id_of(three_hop_chain()[0].uuid)});
  EXPECT_EQ(list_ids("&callee=1002", &count).size(), 4U);
  // A window without the calls.
  EXPECT_EQ(get("/api/cdrs?start_time=2018-01-12T00:00:00Z&end_time=2018-01-13T00:00:00Z").body,
            R"({"count":0,"items":[]})");
}

TEST_F(PortsipE2E, BadParametersAre400NamingThem) {
  expect_error(get("/api/cdrs?" + kWindow + "&top=0"), 400, "top: ");
  expect_error(get("/api/cdrs?" + kWindow + "&top=101"), 400, "top: ");
  expect_error(get("/api/cdrs?" + kWindow + "&skip=-1"), 400, "skip: ");
  expect_error(get("/api/cdrs?start_time=yesterday"), 400, "start_time: ");
  expect_error(get("/api/cdrs?end_time=2018-02-30T00:00:00Z"), 400, "end_time: ");
  // 31 days and an hour at most.
  expect_error(get("/api/cdrs?start_time=2018-01-01T00:00:00Z&end_time=2018-02-01T01:00:01Z"), 400, "start_time: ");
  EXPECT_EQ(get("/api/cdrs?start_time=2018-01-01T00:00:00Z&end_time=2018-02-01T01:00:00Z").status, 200);
  expect_error(get("/api/cdrs?" + kWindow + "&direction=inbound"), 400, "direction: ");
  expect_error(get("/api/cdrs?" + kWindow + "&caller=*"), 400, "caller: ");
  // A key of every account must name the one it reads.
  expect_error(get("/api/cdrs?" + kWindow, kAllKey), 400, "account_id: ");
  EXPECT_EQ(get("/api/cdrs?" + kWindow + "&account_id=acct-a", kAllKey).status, 200);
  expect_error(http_request(cdrd_->port(), "POST", "/api/cdrs", "", kAKey), 405, "use GET");
}

TEST_F(PortsipE2E, CredentialsAndAccounts) {
  expect_error(get("/api/cdrs?" + kWindow, {}), 401, "no credentials");
  expect_error(get("/api/cdrs/" + id_of(kAUuid), {}), 401, "no credentials");
  expect_error(get("/api/cdrs?" + kWindow, {{"Authorization", "Bearer nope"}}), 401, "");
  // a-key may not read acct-b.
  expect_error(get("/api/cdrs?" + kWindow + "&account_id=acct-b"), 403, "");
  // Another account's call, or no call at all: 404.
  expect_error(get("/api/cdrs/" + id_of(kOtherAccountUuid)), 404, "");
  expect_error(get("/api/cdrs/" + id_of(kOtherAccountUuid) + "?account_id=acct-a", kAllKey), 404, "");
  expect_error(get("/api/cdrs/201801-nothing"), 404, "");
  // A leg that is not a call's root is no CDR id of this API.
  expect_error(get("/api/cdrs/" + id_of(kBUuid)), 404, "");
  EXPECT_EQ(get("/api/cdrs/" + id_of(kOtherAccountUuid) + "?account_id=acct-b", kAllKey).status, 200);
}

// Runs once the user-token check of api_access accepts user tokens.
TEST_F(PortsipE2E, LoginWithACdrdUserThenReadWithItsToken) {
  // `cdrd user create` against the same database (its own state_dir: the
  // daemon holds the lock on its own).
  TempDir cli;
  write_file(cli.file("cdrd.yaml"),
             "state_dir: " + cli.file("state") + "\ndatabase:\n  dsn: \"" + dsn_ + "\"\nlog:\n  level: warn\n");
  const CommandResult created = run_command("cd " + cli.path() + " && printf %s 'pbx pass+1' | " + CDRD_BINARY +
                                            " user create --login pbx-user --account acct-a -c cdrd.yaml");
  ASSERT_EQ(created.exit_code, 0) << created.output;

  const HttpResponse login =
      http_request(cdrd_->port(), "POST", "/api/login", R"({"username":"pbx-user","password":"pbx pass+1"})",
                   {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  const auto doc = parse_json(login.body);
  EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"access_token", "expires_in", "refresh_token", "token_type"}));
  EXPECT_EQ(std::string(doc["token_type"].GetString()), "Bearer");
  EXPECT_EQ(doc["expires_in"].GetInt64(), 3600);  // api.token_ttl_s default
  const std::string token = doc["access_token"].GetString();
  EXPECT_EQ(std::string(doc["refresh_token"].GetString()), token);

  // PortSIP's own route and form body; '+' of a form is a space, %2B a plus.
  const HttpResponse form = http_request(cdrd_->port(), "POST", "/api/login/oauth/token",
                                         "grant_type=password&username=pbx-user&password=pbx+pass%2B1&scope=all",
                                         {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 200) << form.body;

  expect_error(http_request(cdrd_->port(), "POST", "/api/login", R"({"username":"pbx-user","password":"wrong"})",
                            {{"Content-Type", "application/json"}}),
               401, "invalid username or password");
  expect_error(http_request(cdrd_->port(), "POST", "/api/login", R"({"username":"nobody","password":"x"})",
                            {{"Content-Type", "application/json"}}),
               401, "invalid username or password");
  expect_error(http_request(cdrd_->port(), "POST", "/api/login", R"({"username":"pbx-user"})",
                            {{"Content-Type", "application/json"}}),
               400, "password: ");

  // The token reads the user's one account without naming it.
  const HttpResponse r = get("/api/cdrs?" + kWindow, {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_of(parse_json(r.body)["items"]), all_ids());
  expect_error(get("/api/cdrs?" + kWindow + "&account_id=acct-b", {{"Authorization", "Bearer " + token}}), 403, "");
}

}  // namespace
}  // namespace cdrd::test
