// Yeti's incoming CDR (seed 004) from attempt rows: the `data` object's keys,
// links and attribute types of the seed's example, read from the seed at test
// time; hand-worked attributes of an answered and an unanswered attempt made
// from FreeSWITCH samples; tiered and unrated vendor ratings.
#include "daemon/api/yeti/yeti_incoming_cdr.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "tests/api_dialects/dialect_test_support.h"

namespace cdrd::test {
namespace {

constexpr const char* kCollection = "http://example.org/api/rest/customer/v1/incoming-cdrs";

std::string data(const AttemptRow& row) {
  return written([&](JsonWriter& w) { write_yeti_incoming_cdr(w, row, kCollection); });
}

rapidjson::Document seed_document() { return seed_example(seed_text("004"), "Body"); }

// The JSON types yeti-web gives the attributes the seed shows as null (its
// cdr.cdr columns: numeric -> BigDecimal -> string, integer and smallint ->
// number, character varying -> string).
const std::map<std::string, std::string> kYetiTypes = {{"dialpeer-initial-interval", "number"},
                                                       {"dialpeer-initial-rate", "string"},
                                                       {"dialpeer-next-interval", "number"},
                                                       {"dialpeer-next-rate", "string"},
                                                       {"dialpeer-fee", "string"},
                                                       {"dialpeer-prefix", "string"},
                                                       {"vendor-price", "string"},
                                                       {"vendor-duration", "number"},
                                                       {"src-name-out", "string"},
                                                       {"src-prefix-out", "string"},
                                                       {"dst-prefix-out", "string"},
                                                       {"diversion-out", "string"},
                                                       {"legb-disconnect-code", "number"},
                                                       {"legb-disconnect-reason", "string"},
                                                       {"sign-term-ip", "string"},
                                                       {"sign-term-port", "number"},
                                                       {"sign-term-transport-protocol-id", "number"},
                                                       {"term-call-id", "string"},
                                                       {"legb-user-agent", "string"}};

AttemptRow answered_attempt() { return AttemptRow{24, libresbc_bleg(), libresbc_root()}; }
AttemptRow unanswered_attempt() { return AttemptRow{7, tinycdr_root(), tinycdr_root()}; }

TEST(YetiIncomingCdr, HasTheSeedsKeysLinksAndTypes) {
  const rapidjson::Document seed = seed_document();
  const rapidjson::Value& want = seed["data"];
  const rapidjson::Value& want_attributes = want["attributes"];
  ASSERT_EQ(keys_of(want_attributes).size(), 28U);
  const auto type_of = [&](const std::string& key) {
    const rapidjson::Value& v = want_attributes[key.c_str()];
    return v.IsNull() ? kYetiTypes.at(key) : json_type(v);
  };

  // The seed's own id (24) and base URL give the seed's links exactly.
  const rapidjson::Document ours = parse_json_strict(data(answered_attempt()));
  EXPECT_EQ(keys_of(ours), keys_of(want));
  EXPECT_EQ(ours["id"], want["id"]);
  EXPECT_EQ(ours["type"], want["type"]);
  EXPECT_EQ(ours["links"], want["links"]);
  EXPECT_EQ(ours["relationships"], want["relationships"]);
  // Every field known: nothing is null.
  expect_shape(ours["attributes"], keys_of(want_attributes), type_of, {}, "answered attempt");

  // Unknown fields are null; duration, success and rec never are.
  std::set<std::string> nullable;
  for (const std::string& key : keys_of(want_attributes)) nullable.insert(key);
  for (const char* never : {"duration", "success", "rec"}) nullable.erase(never);
  const rapidjson::Document unanswered = parse_json_strict(data(unanswered_attempt()));
  expect_shape(unanswered["attributes"], keys_of(want_attributes), type_of, nullable, "unanswered attempt");
}

TEST(YetiIncomingCdr, AnsweredAttemptWorkedByHand) {
  // The libresbc B-leg (start 1621654552804532, answer 1621654552823679, end 1621654556763676, billsec 4, caller
  // 6533123456789, callee 84987654321, from_tag K27BprQj9HQUg on this outbound leg, 13.228.87.44:5060, Call-ID
  // a69096bb-..., QAPBX13, phrase OK; status 200 and tcp added) rated by its vendor 1/0.03, 1/0.03, no fee: 4 s,
  // 0.002. Routed on the root's +33123456789 -> +84987654321; the root has a recording.
  EXPECT_EQ(data(answered_attempt()), compact(R"({
    "id": "24",
    "type": "incoming-cdrs",
    "links": {"self": "http://example.org/api/rest/customer/v1/incoming-cdrs/24"},
    "attributes": {
      "time-start": "2021-05-22T03:35:52.804Z",
      "time-connect": "2021-05-22T03:35:52.823Z",
      "time-end": "2021-05-22T03:35:56.763Z",
      "duration": 4,
      "success": true,
      "dialpeer-initial-interval": 1,
      "dialpeer-initial-rate": "0.03",
      "dialpeer-next-interval": 1,
      "dialpeer-next-rate": "0.03",
      "dialpeer-fee": "0.0",
      "dialpeer-prefix": "849",
      "vendor-price": "0.002",
      "vendor-duration": 4,
      "src-name-out": "6533123456789",
      "src-prefix-out": "6533123456789",
      "dst-prefix-out": "84987654321",
      "src-prefix-routing": "33123456789",
      "dst-prefix-routing": "84987654321",
      "diversion-out": "<sip:1000@pbx.example>;reason=unconditional",
      "local-tag": "K27BprQj9HQUg",
      "legb-disconnect-code": 200,
      "legb-disconnect-reason": "OK",
      "sign-term-ip": "13.228.87.44",
      "sign-term-port": 5060,
      "sign-term-transport-protocol-id": 2,
      "term-call-id": "a69096bb-3551-123a-2e8c-ea0e9328da5f",
      "legb-user-agent": "QAPBX13",
      "rec": true
    },
    "relationships": {"account": {"links": {
      "self": "http://example.org/api/rest/customer/v1/incoming-cdrs/24/relationships/account",
      "related": "http://example.org/api/rest/customer/v1/incoming-cdrs/24/account"}}}
  })"));
}

TEST(YetiIncomingCdr, UnansweredAttemptWorkedByHand) {
  // tinycdr alone (never routed on): start 15:53:46.180441, end 15:53:47.691068, caller "Jayson Vaughn" 1000 to
  // 2622, 487 without a phrase, 192.168.6.32:5061 over udp, no call_direction on this A-leg and no to_tag.
  const rapidjson::Document doc = parse_json_strict(data(unanswered_attempt()));
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc["attributes"].Accept(w);
  EXPECT_EQ(std::string(sb.GetString()), compact(R"({
      "time-start": "2009-05-21T15:53:46.180Z",
      "time-connect": null,
      "time-end": "2009-05-21T15:53:47.691Z",
      "duration": 0,
      "success": false,
      "dialpeer-initial-interval": null,
      "dialpeer-initial-rate": null,
      "dialpeer-next-interval": null,
      "dialpeer-next-rate": null,
      "dialpeer-fee": null,
      "dialpeer-prefix": null,
      "vendor-price": null,
      "vendor-duration": null,
      "src-name-out": "Jayson Vaughn",
      "src-prefix-out": "1000",
      "dst-prefix-out": "2622",
      "src-prefix-routing": "1000",
      "dst-prefix-routing": "2622",
      "diversion-out": null,
      "local-tag": null,
      "legb-disconnect-code": 487,
      "legb-disconnect-reason": null,
      "sign-term-ip": "192.168.6.32",
      "sign-term-port": 5061,
      "sign-term-transport-protocol-id": 1,
      "term-call-id": "uezqmckgyeznkvl@onedrop.nationwide-recovery.com",
      "legb-user-agent": "Twinkle/1.2",
      "rec": false
  })"));
  EXPECT_STREQ(doc["id"].GetString(), "7");
  EXPECT_STREQ(doc["links"]["self"].GetString(), "http://example.org/api/rest/customer/v1/incoming-cdrs/7");
}

TEST(YetiIncomingCdr, TieredAndUnratedVendorRatings) {
  // A tiered rate has no initial/next: those are null, the rest is there.
  const std::string tiered =
      with_fields(libresbc_bleg(), {{"rating", R"({"vendor":{"deck":"c","prefix":"84","tiers":"0:0.1:60;60:0.05:1",
                           "connect_fee":"0.2","billed_seconds":60,"charge":"0.3","currency":"USD"}})"}});
  rapidjson::Document doc = parse_json_strict(data(AttemptRow{1, tiered, libresbc_root()}));
  const rapidjson::Value& a = doc["attributes"];
  EXPECT_TRUE(a["dialpeer-initial-interval"].IsNull());
  EXPECT_TRUE(a["dialpeer-initial-rate"].IsNull());
  EXPECT_TRUE(a["dialpeer-next-interval"].IsNull());
  EXPECT_TRUE(a["dialpeer-next-rate"].IsNull());
  EXPECT_STREQ(a["dialpeer-fee"].GetString(), "0.2");
  EXPECT_STREQ(a["dialpeer-prefix"].GetString(), "84");
  EXPECT_STREQ(a["vendor-price"].GetString(), "0.3");
  EXPECT_EQ(a["vendor-duration"].GetInt(), 60);

  const std::string unrated =
      with_fields(libresbc_bleg(),
                  {{"rating", R"({"vendor":{"status":"unrated","reason":"no vendor deck assigned to trunk T"}})"}});
  doc = parse_json_strict(data(AttemptRow{1, unrated, libresbc_root()}));
  for (const char* key : {"dialpeer-initial-interval", "dialpeer-initial-rate", "dialpeer-fee", "dialpeer-prefix",
                          "vendor-price", "vendor-duration"}) {
    EXPECT_TRUE(doc["attributes"][key].IsNull()) << key;
  }
}

TEST(YetiIncomingCdr, TransportProtocolIds) {
  // yeti-web db/seeds/main/class4.sql: 1 UDP, 2 TCP, 3 TLS, 5 WS.
  EXPECT_EQ(yeti_transport_protocol_id("udp"), 1);
  EXPECT_EQ(yeti_transport_protocol_id("tcp"), 2);
  EXPECT_EQ(yeti_transport_protocol_id("tls"), 3);
  EXPECT_EQ(yeti_transport_protocol_id("ws"), 5);
  EXPECT_EQ(yeti_transport_protocol_id("wss"), std::nullopt);
}

TEST(YetiIncomingCdr, RecNeedsAnAnsweredAttempt) {
  // The root was recorded, but this attempt never answered: nothing of it is in the recording.
  const std::string root = with_fields(tinycdr_root(), {{"recording_url", R"("https://rec.example/x.wav")"}});
  const rapidjson::Document doc = parse_json_strict(data(AttemptRow{3, tinycdr_root(), root}));
  EXPECT_FALSE(doc["attributes"]["rec"].GetBool());
}

}  // namespace
}  // namespace cdrd::test
