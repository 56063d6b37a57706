// End to end: both legs of the 2017 sample's bridged call through
// mod_json_cdr, read back by /cdrs/legs/{interaction_id} and /cdrs/interaction.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};
const std::map<std::string, std::string> kAKey = {{"X-Auth-Token", "a-key"}};

const std::string kAUuid = "3da8bf84-c133-4959-9e24-e72875cb33a1";
const std::string kBUuid = "f52c26f1-b018-4963-bf6d-a3111d1a0320";  // the A-leg's bridge_uuid
const std::string kAId = "201801-" + kAUuid;
const std::string kBId = "201801-" + kBUuid;
const long long kATimestamp = 63682885615LL;  // the 2017 sample's end

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

// The 2017 sample (the A-leg), in account acct-a.
std::string a_leg_cdr() {
  rapidjson::Document doc = parse_json(read_sample("json_cdr_cgrates_2017.json"));
  set_string(doc["variables"], "account_id", "acct-a", doc.GetAllocator());
  return to_text(doc);
}

// The B-leg FreeSWITCH would have written for the same call: its own uuid,
// originated by the A-leg (originating_leg_uuid, call_uuid and an
// `originator` caller profile, which is what json_cdr.cpp reads to mark a
// B-leg), created 50 ms after the A-leg.
std::string b_leg_cdr() {
  rapidjson::Document doc = parse_json(read_sample("json_cdr_cgrates_2017.json"));
  auto& alloc = doc.GetAllocator();
  auto& v = doc["variables"];
  set_string(v, "account_id", "acct-a", alloc);
  set_string(v, "uuid", kBUuid, alloc);
  set_string(v, "call_uuid", kAUuid, alloc);
  set_string(v, "originating_leg_uuid", kAUuid, alloc);
  for (const char* name : {"bridge_uuid", "signal_bond", "last_bridge_to"}) set_string(v, name, kAUuid, alloc);
  const long long start = std::stoll(v["start_uepoch"].GetString()) + 50000;
  set_string(v, "start_uepoch", std::to_string(start), alloc);
  for (auto& callflow : doc["callflow"].GetArray()) {
    auto& profile = callflow["caller_profile"];
    rapidjson::Value a_profile(profile, alloc);  // the A-leg's own profile, as the B-leg sees it
    a_profile.RemoveMember("originatee");
    set_string(profile, "uuid", kBUuid, alloc);
    set_string(profile, "chan_name", "sofia/internal/1002@10.10.10.100:5060", alloc);
    profile.RemoveMember("originatee");
    rapidjson::Value profiles(rapidjson::kArrayType);
    profiles.PushBack(a_profile, alloc);
    rapidjson::Value originator(rapidjson::kObjectType);
    originator.AddMember("originator_caller_profiles", profiles, alloc);
    profile.AddMember("originator", originator, alloc);
  }
  return to_text(doc);
}

HttpResponse post_json_cdr(int port, const std::string& body) {
  return http_request(port, "POST", "/ingest/freeswitch/json", body, {{"Content-Type", "application/json"}});
}

std::vector<std::string> ids_of(const rapidjson::Value& data) {
  std::vector<std::string> ids;
  for (const auto& item : data.GetArray()) ids.emplace_back(item["id"].GetString());
  return ids;
}

class LegsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_legs");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    // The B-leg first: legs are tied together whichever arrives first.
    ASSERT_EQ(post_json_cdr(cdrd_->port(), b_leg_cdr()).status, 200);
    ASSERT_EQ(post_json_cdr(cdrd_->port(), a_leg_cdr()).status, 200);
    ASSERT_TRUE(eventually([&] { return query_count(dsn_, "SELECT count(*) FROM cdrs") == 2; }));
  }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = kAllKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TEST_F(LegsE2E, LegsOfTheCallPointAtEachOther) {
  const HttpResponse r = get("/v2/accounts/acct-a/cdrs/legs/" + kAUuid);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("data") && doc["data"].IsArray()) << r.body;
  EXPECT_EQ(std::string(doc["status"].GetString()), "success");
  EXPECT_EQ(doc["page_size"].GetUint64(), 2u);
  EXPECT_TRUE(doc.HasMember("request_id") && doc.HasMember("timestamp"));
  EXPECT_FALSE(doc.HasMember("next_start_key"));
  const auto& data = doc["data"];
  ASSERT_EQ(ids_of(data), (std::vector<std::string>{kAId, kBId}));  // by channel start
  const auto& a = data[0];
  const auto& b = data[1];
  EXPECT_EQ(std::string(a["leg"].GetString()), "A");
  EXPECT_EQ(std::string(b["leg"].GetString()), "B");
  EXPECT_EQ(std::string(a["call_id"].GetString()), kAUuid);
  EXPECT_EQ(std::string(b["call_id"].GetString()), kBUuid);
  EXPECT_EQ(std::string(a["other_leg_call_id"].GetString()), kBUuid);
  EXPECT_EQ(std::string(b["other_leg_call_id"].GetString()), kAUuid);
  EXPECT_EQ(std::string(a["interaction_id"].GetString()), kAUuid);
  EXPECT_EQ(std::string(b["interaction_id"].GetString()), kAUuid);
  EXPECT_EQ(std::string(a["started_at"].GetString()), "2018-01-11T10:25:44.534355Z");
  EXPECT_EQ(std::string(b["started_at"].GetString()), "2018-01-11T10:25:44.584355Z");
  EXPECT_EQ(std::string(a["account_id"].GetString()), "acct-a");
  EXPECT_EQ(std::string(b["account_id"].GetString()), "acct-a");
  EXPECT_FALSE(a.HasMember("is_loopback"));
  EXPECT_FALSE(b.HasMember("is_loopback"));
  // The same under /v1 and with a key for acct-a only.
  EXPECT_EQ(get("/v1/accounts/acct-a/cdrs/legs/" + kAUuid, kAKey).status, 200);
}

TEST_F(LegsE2E, InteractionIsOneRowWithBothLegs) {
  const std::string window =
      "?created_from=" + std::to_string(kATimestamp - 60) + "&created_to=" + std::to_string(kATimestamp + 60);
  const HttpResponse r = get("/v2/accounts/acct-a/cdrs/interaction" + window);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.IsObject() && doc["data"].IsArray()) << r.body;
  EXPECT_EQ(std::string(doc["status"].GetString()), "success");
  EXPECT_EQ(doc["page_size"].GetUint64(), 1u);
  EXPECT_FALSE(doc.HasMember("next_start_key"));
  ASSERT_EQ(doc["data"].Size(), 1u) << r.body;
  // Kazoo's interaction row: the A-leg, its start (the end minus its 71 s)
  // as Kazoo's text timestamp, inception_direction from authorizing_id.
  const auto& row = doc["data"][0];
  EXPECT_EQ(std::string(row["id"].GetString()), kAId);
  EXPECT_EQ(std::string(row["call_id"].GetString()), kAUuid);
  EXPECT_EQ(std::string(row["timestamp"].GetString()), std::to_string(kATimestamp - 71));
  EXPECT_EQ(std::string(row["interaction_id"].GetString()), kAUuid);
  EXPECT_EQ(std::string(row["inception_direction"].GetString()), "termination");
  EXPECT_FALSE(row.HasMember("legs"));
  // detail=full: the stored A-leg with the ids of its legs.
  const auto full = parse_json(get("/v2/accounts/acct-a/cdrs/interaction" + window + "&detail=full").body);
  ASSERT_EQ(full["data"].Size(), 1u);
  const auto& stored = full["data"][0];
  EXPECT_EQ(std::string(stored["leg"].GetString()), "A");
  EXPECT_EQ(stored["timestamp"].GetInt64(), kATimestamp);
  ASSERT_TRUE(stored.HasMember("legs") && stored["legs"].IsArray());
  std::vector<std::string> legs;
  for (const auto& leg : stored["legs"].GetArray()) legs.emplace_back(leg.GetString());
  EXPECT_EQ(legs, (std::vector<std::string>{kAId, kBId}));

  // The list route's parameters and checks.
  EXPECT_EQ(parse_json(get("/v2/accounts/acct-a/cdrs/interaction" + window + "&ascending=true").body)["data"].Size(),
            1u);
  HttpResponse bad = get("/v2/accounts/acct-a/cdrs/interaction?page_size=0");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("page_size"), std::string::npos) << bad.body;
  bad = get("/v2/accounts/acct-a/cdrs/interaction?start_key=forged!");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("start_key"), std::string::npos) << bad.body;
  // Outside the window: no rows, still a success.
  const HttpResponse empty =
      get("/v2/accounts/acct-a/cdrs/interaction?created_from=" + std::to_string(kATimestamp + 1) +
          "&created_to=" + std::to_string(kATimestamp + 60));
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(parse_json(empty.body)["data"].Size(), 0u);
}

TEST_F(LegsE2E, AuthScopingUnknownCallsAndRouteErrors) {
  // a-key reads acct-a only.
  HttpResponse r = get("/v2/accounts/acct-b/cdrs/legs/" + kAUuid, kAKey);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "forbidden");
  EXPECT_EQ(get("/v2/accounts/acct-b/cdrs/interaction", kAKey).status, 403);
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/legs/" + kAUuid, {}).status, 401);
  // acct-b has no leg of that call, even for a key that may read it: an
  // empty list (Kazoo's answer for an interaction without legs).
  r = get("/v2/accounts/acct-b/cdrs/legs/" + kAUuid);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(parse_json(r.body)["data"].Size(), 0u) << r.body;
  r = get("/v2/accounts/acct-b/cdrs/interaction?created_from=" + std::to_string(kATimestamp - 60) +
          "&created_to=" + std::to_string(kATimestamp + 60));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(parse_json(r.body)["data"].Size(), 0u);

  // Unknown interaction: 200 with no legs.
  r = get("/v2/accounts/acct-a/cdrs/legs/" + random_uuid());
  EXPECT_EQ(r.status, 200);
  const auto none = parse_json(r.body);
  EXPECT_EQ(none["data"].Size(), 0u) << r.body;
  EXPECT_EQ(std::string(none["status"].GetString()), "success");
  // The B-leg's uuid is neither an interaction id nor a CDR id; its CDR id
  // (201801-<uuid>) is, and gives both legs of its call.
  EXPECT_EQ(parse_json(get("/v2/accounts/acct-a/cdrs/legs/" + kBUuid).body)["data"].Size(), 0u);
  r = get("/v2/accounts/acct-a/cdrs/legs/" + kBId);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_of(parse_json(r.body)["data"]), (std::vector<std::string>{kAId, kBId}));

  // Route errors as the other routes give them.
  r = http_request(cdrd_->port(), "POST", "/v2/accounts/acct-a/cdrs/legs/" + kAUuid, "{}", kAllKey);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "method_not_allowed");
  EXPECT_EQ(http_request(cdrd_->port(), "PUT", "/v2/accounts/acct-a/cdrs/interaction", "{}", kAllKey).status, 405);
  r = get("/v2/accounts/acct-a/cdrs/legs");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "not_found");
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/legs/" + kAUuid + "/more").status, 404);
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/interaction/" + kAUuid).status, 404);
  // A parameter the route does not use is ignored.
  r = get("/v2/accounts/acct-a/cdrs/legs/" + kAUuid + "?page_size=5");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"].Size(), 2u);
  // A CDR id is still a CDR id.
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/" + kBId).status, 200);
}

}  // namespace
}  // namespace cdrd::test
