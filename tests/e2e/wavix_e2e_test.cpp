// End to end: Wavix's CDR API (seed 002) of the real daemon over calls posted
// through mod_json_cdr. The object's keys and JSON types are compared with
// the seed's example as ../shared/seeds holds it at test time; the values of
// one call are worked out by hand from the 2017 sample.
//
// Account acct-a holds, all from the 2017 sample (1001 calls 1002, created
// 2018-01-11T10:25:44.534355Z, answered, 68 billed seconds, ended
// 10:26:55Z; an internal call: no trunk):
//   call A: the sample (uuid 3da8bf84-...) and its B-leg (f52c26f1-...,
//           created 50 ms later)
//   calls e1000000-...-00000000000{1..5}: copies of the A-leg, each a call
//   call e2000000-...-000000000001: a copy nobody answered (NO_ANSWER)
// and acct-b one copy. The calls end at the same second, so the list
// (newest first, then by CDR id "201801-<uuid>" descending) is e1..5, e1..4,
// e1..3, e1..2, e1..1, A for the answered ones.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/api_dialects/dialect_test_support.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::string kAUuid = "3da8bf84-c133-4959-9e24-e72875cb33a1";
const std::string kBUuid = "f52c26f1-b018-4963-bf6d-a3111d1a0320";
const std::string kNoAnswerUuid = "e2000000-0000-4000-8000-000000000001";
const std::string kOtherUuid = "e3000000-0000-4000-8000-000000000001";
const std::string kDay = "from=2018-01-11&to=2018-01-11";

std::string copy_uuid(int n) { return "e1000000-0000-4000-8000-00000000000" + std::to_string(n); }

const std::map<std::string, std::string> kAKey = {{"Authorization", "Bearer a-key"}};
const std::map<std::string, std::string> kAllKey = {{"Authorization", "Bearer all-key"}};

// The keys that may be null in an unrated call without recording, trunk or
// AMD (wavix_cdr.h).
const std::set<std::string> kNullable = {"from",        "to",         "disposition",   "destination",
                                         "per_minute",  "charge",     "recording_url", "sip_trunk",
                                         "forward_fee", "answered_by"};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string to_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  value.Accept(w);
  return {sb.GetString(), sb.GetSize()};
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

// The 2017 sample as a call of its own in `account`: its uuid replaced, and
// the other leg it names too (the uuid reversed: never stored, so the copies
// are separate calls). `answered` false: hung up NO_ANSWER before answer.
std::string sample_call(const std::string& uuid, const std::string& account, bool answered = true) {
  std::string text = read_sample("json_cdr_cgrates_2017.json");
  if (uuid != kAUuid) {
    text = replace_all(text, kAUuid, uuid);
    text = replace_all(text, kBUuid, std::string(uuid.rbegin(), uuid.rend()));
  }
  rapidjson::Document doc = parse_json(text);
  auto& alloc = doc.GetAllocator();
  auto& v = doc["variables"];
  set_string(v, "account_id", account, alloc);
  if (!answered) {
    for (const char* name : {"answer_uepoch", "answer_epoch", "bridge_epoch", "billsec", "billmsec"}) {
      set_string(v, name, "0", alloc);
    }
    set_string(v, "hangup_cause", "NO_ANSWER", alloc);
    set_string(v, "hangup_cause_q850", "19", alloc);
    for (auto& callflow : doc["callflow"].GetArray()) {
      for (const char* name : {"answered_time", "bridged_time", "progress_media_time"}) {
        set_string(callflow["times"], name, "0", alloc);
      }
    }
  }
  return to_text(doc);
}

// The B-leg FreeSWITCH would have written for the sample's call (as in
// legs_e2e_test.cpp): its own uuid, originated by the A-leg, created 50 ms
// after it.
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
    rapidjson::Value a_profile(profile, alloc);
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

long long count_rows(const std::string& dsn) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  return tx.exec1("SELECT count(*) FROM cdrs")[0].as<long long>();
}

bool wait_for(const std::function<bool()>& probe) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return probe();
}

std::string str(const rapidjson::Value& object, const char* key) {
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "<not a string>";
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::vector<std::string> uuids_of(const rapidjson::Value& items) {
  std::vector<std::string> out;
  for (const auto& item : items.GetArray()) out.push_back(str(item, "uuid"));
  return out;
}

std::vector<std::string> lines_of(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class WavixE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_wavix");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    std::vector<std::string> bodies = {b_leg_cdr(), sample_call(kAUuid, "acct-a"),
                                       sample_call(kNoAnswerUuid, "acct-a", false), sample_call(kOtherUuid, "acct-b")};
    for (int n = 1; n <= 5; ++n) bodies.push_back(sample_call(copy_uuid(n), "acct-a"));
    for (const std::string& body : bodies) {
      ASSERT_EQ(
          http_request(cdrd_->port(), "POST", "/ingest/freeswitch/json", body, {{"Content-Type", "application/json"}})
              .status,
          200);
    }
    ASSERT_TRUE(wait_for([&] { return count_rows(dsn_) == 9; }));
  }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = kAKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }
  // A Wavix error: the status, {"success": false, "message": ...} with the
  // message starting with `prefix`.
  void expect_error(const HttpResponse& r, int status, const std::string& prefix, const std::string& label) {
    EXPECT_EQ(r.status, status) << label << ": " << r.body;
    const rapidjson::Document doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject()) << label;
    EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"success", "message"})) << label;
    EXPECT_TRUE(doc["success"].IsFalse()) << label;
    EXPECT_EQ(str(doc, "message").rfind(prefix, 0), 0U) << label << ": " << r.body;
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TEST_F(WavixE2E, OneCdrHasTheSeedsKeysTypesAndHandWorkedValues) {
  const rapidjson::Document seed = seed_example(seed_text("002"), "--header 'Authorization: Bearer <token>'");
  ASSERT_EQ(keys_of(seed).size(), 14U);
  const auto type_of = [&](const std::string& key) { return json_type(seed[key.c_str()]); };

  const HttpResponse r = get("/v1/cdr/" + kAUuid);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  const rapidjson::Document a = parse_json(r.body);
  expect_shape(a, keys_of(seed), type_of, kNullable, "GET /v1/cdr/{A-leg}");
  EXPECT_EQ(str(a, "date"), "2018-01-11T10:25:44.534Z");
  EXPECT_EQ(str(a, "from"), "1001");
  EXPECT_EQ(str(a, "to"), "1002");
  EXPECT_EQ(str(a, "disposition"), "answered");
  ASSERT_TRUE(a["duration"].IsInt64());
  EXPECT_EQ(a["duration"].GetInt64(), 68);
  EXPECT_EQ(str(a, "forward_fee"), "0.0");  // an internal call, not forwarded
  EXPECT_EQ(str(a, "uuid"), kAUuid);
  EXPECT_EQ(str(a, "parent_uuid"), kAUuid);
  // Unrated, no recording, no trunk, no AMD.
  for (const char* key : {"per_minute", "charge", "recording_url", "sip_trunk", "answered_by"}) {
    EXPECT_TRUE(a[key].IsNull()) << key;
  }

  // By the B-leg's uuid: the same call, the uuid asked for, the A-leg its parent.
  const HttpResponse rb = get("/v1/cdr/" + kBUuid);
  ASSERT_EQ(rb.status, 200) << rb.body;
  const rapidjson::Document b = parse_json(rb.body);
  expect_shape(b, keys_of(seed), type_of, kNullable, "GET /v1/cdr/{B-leg}");
  EXPECT_EQ(str(b, "uuid"), kBUuid);
  EXPECT_EQ(str(b, "parent_uuid"), kAUuid);
  EXPECT_EQ(str(b, "date"), "2018-01-11T10:25:44.534Z");
  EXPECT_EQ(b["duration"].GetInt64(), 68);

  // ?appid= is the same credential; a key for every account names one.
  EXPECT_EQ(get("/v1/cdr/" + kAUuid + "?appid=a-key", {}).status, 200);
  EXPECT_EQ(get("/v1/cdr/" + kAUuid + "?account_id=acct-a", kAllKey).status, 200);
  expect_error(get("/v1/cdr/" + kAUuid, kAllKey), 400, "account_id", "a key for every account");
  expect_error(get("/v1/cdr/" + kAUuid + "?account_id=acct-b"), 403, "", "another account");
  expect_error(get("/v1/cdr/" + kAUuid, {}), 401, "", "no credentials");
  expect_error(get("/v1/cdr/" + kAUuid + "?appid=nope", {}), 401, "", "a bad appid");
  // acct-b's call is not acct-a's; an unknown uuid is not found.
  expect_error(get("/v1/cdr/" + kOtherUuid), 404, "no CDR with uuid " + kOtherUuid, "another account's call");
  expect_error(get("/v1/cdr/ffffffff-0000-4000-8000-000000000000"), 404, "no CDR with uuid", "unknown uuid");
  EXPECT_EQ(get("/v1/cdr/" + kOtherUuid + "?account_id=acct-b", kAllKey).status, 200);
}

TEST_F(WavixE2E, ListPagesAndFilters) {
  const std::string list = "/v1/cdr?" + kDay + "&type=received";
  HttpResponse r = get(list + "&per_page=4");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = parse_json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"items", "pagination"}));
  EXPECT_EQ(uuids_of(doc["items"]), (std::vector<std::string>{copy_uuid(5), copy_uuid(4), copy_uuid(3), copy_uuid(2)}));
  EXPECT_EQ(to_text(doc["pagination"]), R"({"current_page":1,"per_page":4,"total":6,"total_pages":2})");
  // Each item is the object GET /v1/cdr/{uuid} answers.
  EXPECT_EQ(to_text(doc["items"][0]), get("/v1/cdr/" + copy_uuid(5)).body);

  doc = parse_json(get(list + "&per_page=4&page=2").body);
  EXPECT_EQ(uuids_of(doc["items"]), (std::vector<std::string>{copy_uuid(1), kAUuid}));
  EXPECT_EQ(to_text(doc["pagination"]), R"({"current_page":2,"per_page":4,"total":6,"total_pages":2})");
  doc = parse_json(get(list + "&per_page=4&page=3").body);
  EXPECT_EQ(doc["items"].Size(), 0U);
  EXPECT_EQ(to_text(doc["pagination"]), R"({"current_page":3,"per_page":4,"total":6,"total_pages":2})");
  // The default page size is 25: everything on page 1.
  doc = parse_json(get(list).body);
  EXPECT_EQ(to_text(doc["pagination"]), R"({"current_page":1,"per_page":25,"total":6,"total_pages":1})");

  // Dispositions: the unanswered copy only with noanswer or all.
  doc = parse_json(get(list + "&disposition=noanswer").body);
  EXPECT_EQ(uuids_of(doc["items"]), (std::vector<std::string>{kNoAnswerUuid}));
  EXPECT_EQ(str(doc["items"][0], "disposition"), "noanswer");
  EXPECT_EQ(doc["items"][0]["duration"].GetInt64(), 0);
  EXPECT_EQ(parse_json(get(list + "&disposition=all").body)["pagination"]["total"].GetInt64(), 7);
  EXPECT_EQ(parse_json(get(list + "&disposition=busy").body)["pagination"]["total"].GetInt64(), 0);
  // An internal call is received, never placed; no other day has calls.
  EXPECT_EQ(to_text(parse_json(get("/v1/cdr?" + kDay + "&type=placed").body)["pagination"]),
            R"({"current_page":1,"per_page":25,"total":0,"total_pages":0})");
  EXPECT_EQ(
      parse_json(get("/v1/cdr?from=2018-01-12&to=2018-02-11&type=received").body)["pagination"]["total"].GetInt64(), 0);
  // Number searches and the trunk.
  EXPECT_EQ(parse_json(get(list + "&from_search=100").body)["pagination"]["total"].GetInt64(), 6);
  EXPECT_EQ(parse_json(get(list + "&to_search=1002").body)["pagination"]["total"].GetInt64(), 6);
  EXPECT_EQ(parse_json(get(list + "&to_search=1001").body)["pagination"]["total"].GetInt64(), 0);
  EXPECT_EQ(parse_json(get(list + "&sip_trunk=32882").body)["pagination"]["total"].GetInt64(), 0);
  // ?appid=, and another account by account_id.
  EXPECT_EQ(parse_json(get(list + "&appid=a-key", {}).body)["pagination"]["total"].GetInt64(), 6);
  doc = parse_json(get(list + "&account_id=acct-b", kAllKey).body);
  EXPECT_EQ(uuids_of(doc["items"]), (std::vector<std::string>{kOtherUuid}));
}

TEST_F(WavixE2E, BadParametersAre400NamingThem) {
  const std::string list = "/v1/cdr?" + kDay + "&type=received";
  expect_error(get(list + "&per_page=0"), 400, "per_page", "per_page=0");
  expect_error(get(list + "&per_page=101"), 400, "per_page", "per_page=101");
  expect_error(get(list + "&page=0"), 400, "page", "page=0");
  expect_error(get(list + "&disposition=maybe"), 400, "disposition", "disposition");
  expect_error(get(list + "&from_search=abc"), 400, "from_search", "from_search");
  expect_error(get("/v1/cdr?" + kDay + "&type=outbound"), 400, "type", "type=outbound");
  expect_error(get("/v1/cdr?" + kDay), 400, "type: required", "no type");
  expect_error(get("/v1/cdr?from=2018-13-01&to=2018-01-11&type=received"), 400, "from", "from");
  expect_error(get("/v1/cdr?to=2018-01-11&type=received"), 400, "from: required", "no from");
  expect_error(get("/v1/cdr?from=2018-01-01&to=2018-02-01&type=received"), 400, "to", "32 days");
  expect_error(get("/v1/cdr/all?" + kDay + "&type=sideways"), 400, "type", "the export's type");
  expect_error(get("/v1/cdr/" + kAUuid + "?show_transcription=maybe"), 400, "show_transcription", "show_transcription");
  expect_error(http_request(cdrd_->port(), "POST", "/v1/cdr", "", kAKey), 405, "", "POST");
}

TEST_F(WavixE2E, ExportStreamsNdjsonOrCsv) {
  const std::string all = "/v1/cdr/all?" + kDay + "&type=received&disposition=all";
  HttpResponse r = get(all);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/x-ndjson");
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  const std::vector<std::string> lines = lines_of(r.body);
  ASSERT_EQ(lines.size(), 7U) << r.body;
  // Oldest first: the same end, so by CDR id ascending.
  const std::vector<std::string> order = {kAUuid,       copy_uuid(1), copy_uuid(2), copy_uuid(3),
                                          copy_uuid(4), copy_uuid(5), kNoAnswerUuid};
  for (size_t i = 0; i < lines.size(); ++i) {
    const rapidjson::Document item = parse_json(lines[i]);
    ASSERT_TRUE(item.IsObject()) << lines[i];
    EXPECT_EQ(keys_of(item).size(), 14U);
    EXPECT_EQ(str(item, "uuid"), order[i]);
  }
  EXPECT_EQ(lines[0], get("/v1/cdr/" + kAUuid).body);
  // The default disposition (answered) and ?appid=.
  EXPECT_EQ(lines_of(get("/v1/cdr/all?" + kDay + "&type=received&appid=a-key", {}).body).size(), 6U);

  // CSV: the object's keys as the header, one line a call.
  r = get(all, {{"Authorization", "Bearer a-key"}, {"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/csv; charset=utf-8");
  const std::vector<std::string> rows = lines_of(r.body);
  ASSERT_EQ(rows.size(), 8U) << r.body;
  EXPECT_EQ(rows[0],
            "date,from,to,disposition,duration,destination,per_minute,recording_url,charge,sip_trunk,forward_fee,uuid,"
            "parent_uuid,answered_by\r");
  EXPECT_EQ(rows[1], "2018-01-11T10:25:44.534Z,1001,1002,answered,68,,,,,,0.0," + kAUuid + "," + kAUuid + ",\r");
}

}  // namespace
}  // namespace cdrd::test
