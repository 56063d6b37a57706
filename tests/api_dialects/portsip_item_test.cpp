// PortSIP's CDR item (seed 001) from call rows: the keys and types of the
// seed's two examples, read from the seed at test time; hand-worked items of
// an answered and an unanswered call made from FreeSWITCH samples; the
// end_reason table; money written exactly as stored.
#include "daemon/api/portsip/portsip_item.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "tests/api_dialects/dialect_test_support.h"

namespace cdrd::test {
namespace {

std::string item(const CallRow& row) {
  return written([&](JsonWriter& w) { write_portsip_item(w, row); });
}

// The seed's list item has `id`, its single item `cost` and
// `billed_account`: the projection writes the union in the seed's order.
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

// Null when unknown: every key but these (always in a record, or a count).
std::set<std::string> nullable_keys(const std::vector<std::string>& keys) {
  std::set<std::string> out(keys.begin(), keys.end());
  for (const char* never : {"id", "call_id", "duration"}) out.erase(never);
  return out;
}

TEST(PortsipItem, HasTheSeedsKeysInOrderWithTheirTypes) {
  const SeedItem seed = seed_item();
  // The union: the list item's 23 keys plus cost and billed_account after duration.
  ASSERT_EQ(seed.keys.size(), 25U);
  EXPECT_EQ(seed.keys.front(), "id");
  const auto type_of = [&](const std::string& key) { return seed.types.at(key); };

  // A call where every field is known: only the two without a source are null.
  const rapidjson::Document full = parse_json_strict(item(CallRow{libresbc_root(), libresbc_bleg()}));
  expect_shape(full, seed.keys, type_of, {"service_number", "user_data"}, "answered call");

  const rapidjson::Document unanswered = parse_json_strict(item(CallRow{tinycdr_root(), std::nullopt}));
  expect_shape(unanswered, seed.keys, type_of, nullable_keys(seed.keys), "unanswered call");
}

TEST(PortsipItem, AnsweredCallWorkedByHand) {
  // Root: the libresbc A-leg (start_uepoch 1621654552783696, progress_media 1621654552843675, end
  // 1621654556763676, from 33123456789@13.228.87.44, to 33123456@188.166.185.82:5060, recv_bye, status 200).
  // Answered leg: the B-leg (answer 1621654552823679, billsec 4, callee 84987654321 "Outbound Call", caller
  // 6533123456789, gateway pbxtcp). Outbound: the DID/CID is the caller id sent out.
  EXPECT_EQ(item(CallRow{libresbc_root(), libresbc_bleg()}), compact(R"({
    "id": "202105-88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0",
    "caller": "33123456789",
    "caller_domain": "13.228.87.44",
    "caller_display_name": "Donald Trump",
    "callee": "84987654321",
    "callee_domain": "188.166.185.82",
    "callee_display_name": "Outbound Call",
    "started_at": "2021-05-22T03:35:52Z",
    "rang_at": "2021-05-22T03:35:52Z",
    "answered_at": "2021-05-22T03:35:52Z",
    "ended_at": "2021-05-22T03:35:56Z",
    "call_id": "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0",
    "direction": "OUTBOUND_CALL",
    "end_reason": "CALLER_DISCONNECTED",
    "reroute_reason": "DIVERSION",
    "status_code": 200,
    "destination": "33123456",
    "outbound_caller_id": "6533123456789",
    "did_cid": "6533123456789",
    "trunk": "pbxtcp",
    "duration": 4,
    "cost": 0.017,
    "billed_account": "outside.libresbc",
    "service_number": null,
    "user_data": null
  })"));
}

TEST(PortsipItem, UnansweredCallWorkedByHand) {
  // tinycdr: start 1242921226180441 (15:53:46.18), progress 15:53:46.58, end 15:53:47.69, from 1000@192.168.6.32
  // "Jayson Vaughn", request 2622@192.168.6.32, sip_term_status 487 (the caller cancelled), accountcode 1000,
  // no trunk, no rating.
  EXPECT_EQ(item(CallRow{tinycdr_root(), std::nullopt}), compact(R"({
    "id": "200905-91353230-461f-11de-aa7f-b10b4edc0c92",
    "caller": "1000",
    "caller_domain": "192.168.6.32",
    "caller_display_name": "Jayson Vaughn",
    "callee": "2622",
    "callee_domain": "192.168.6.32",
    "callee_display_name": "2622",
    "started_at": "2009-05-21T15:53:46Z",
    "rang_at": "2009-05-21T15:53:46Z",
    "answered_at": null,
    "ended_at": "2009-05-21T15:53:47Z",
    "call_id": "91353230-461f-11de-aa7f-b10b4edc0c92",
    "direction": "INTERNAL_CALL",
    "end_reason": "CANCELLED",
    "reroute_reason": null,
    "status_code": 487,
    "destination": "2622",
    "outbound_caller_id": null,
    "did_cid": null,
    "trunk": null,
    "duration": 0,
    "cost": null,
    "billed_account": "1000",
    "service_number": null,
    "user_data": null
  })"));
}

TEST(PortsipItem, InboundCallShowsTheDidAndATransfer) {
  // The libresbc A-leg as an inbound call from carrier "carrier-a" that was transferred (bl_xfer) and
  // answered on the root alone: the DID is the dialed 33123456; no caller id went out.
  const std::string root = with_fields(
      libresbc_root(),
      {{"direction_class", R"("inbound")"},
       {"trunk", R"("carrier-a")"},
       {"transfer",
        R"([{"kind":"diversion","destination":"x"},{"kind":"bl_xfer","destination":"1002/default/XML"}])"}});
  const rapidjson::Document doc = parse_json_strict(item(CallRow{root, std::nullopt}));
  EXPECT_STREQ(doc["direction"].GetString(), "INBOUND_CALL");
  EXPECT_STREQ(doc["did_cid"].GetString(), "33123456");
  EXPECT_TRUE(doc["outbound_caller_id"].IsNull());
  EXPECT_STREQ(doc["trunk"].GetString(), "carrier-a");
  EXPECT_STREQ(doc["reroute_reason"].GetString(), "TRANSFER");
  // The root answered (03:35:52.843675) and billed 4 s itself.
  EXPECT_STREQ(doc["answered_at"].GetString(), "2021-05-22T03:35:52Z");
  EXPECT_EQ(doc["duration"].GetInt(), 4);
}

TEST(PortsipItem, DirectionNames) {
  EXPECT_EQ(portsip_direction("inbound"), "INBOUND_CALL");
  EXPECT_EQ(portsip_direction("outbound"), "OUTBOUND_CALL");
  EXPECT_EQ(portsip_direction("internal"), "INTERNAL_CALL");
  EXPECT_EQ(portsip_direction("transit"), "TRANSIT_CALL");
  EXPECT_EQ(portsip_direction("sideways"), std::nullopt);
}

std::string end_reason(const std::string& root, const std::string& leg) {
  const CallView call(CallRow{root, leg.empty() ? std::nullopt : std::optional<std::string>(leg)});
  const auto reason = portsip_end_reason(call);
  return reason ? std::string(*reason) : "<null>";
}

TEST(PortsipItem, EndReasons) {
  struct Case {
    std::string root, leg, want;
  };
  const std::vector<Case> cases = {
      // Answered: who sent the BYE.
      {R"({"billing_status":"answered","hangup_disposition":"recv_bye"})",
       R"({"billing_status":"answered","hangup_disposition":"send_bye"})", "CALLER_DISCONNECTED"},
      {R"({"billing_status":"answered","hangup_disposition":"send_bye"})",
       R"({"billing_status":"answered","hangup_disposition":"recv_bye"})", "CALLEE_DISCONNECTED"},
      {R"({"billing_status":"answered","hangup_disposition":"send_bye"})", "", "CALLEE_DISCONNECTED"},
      {R"({"billing_status":"answered","hangup_cause":"NORMAL_CLEARING"})", "", "<null>"},
      // Unanswered.
      {R"({"billing_status":"noanswer","hangup_disposition":"recv_cancel","hangup_cause":"ORIGINATOR_CANCEL"})",
       R"({"billing_status":"noanswer","hangup_cause":"ORIGINATOR_CANCEL","sip_term_status":"487"})", "CANCELLED"},
      {R"({"billing_status":"failed","hangup_cause":"NORMAL_CLEARING"})",
       R"({"billing_status":"busy","hangup_cause":"USER_BUSY","sip_term_status":"486"})", "BUSY"},
      {R"({"billing_status":"failed","hangup_cause":"NORMAL_TEMPORARY_FAILURE"})",
       R"({"billing_status":"failed","hangup_cause":"NO_USER_RESPONSE","sip_term_status":"480"})", "NO_ANSWER"},
      {R"({"billing_status":"failed","hangup_cause":"NORMAL_TEMPORARY_FAILURE"})",
       R"({"billing_status":"failed","hangup_cause":"CALL_REJECTED","sip_term_status":"603"})", "REJECTED"},
      {R"({"billing_status":"failed","sip_term_status":"600"})", "", "BUSY"},
      {R"({"billing_status":"noanswer","hangup_cause":"NO_ANSWER"})", "", "NO_ANSWER"},
      // The fsdocs 2014 call: refused at once by the switch (send_refuse, NORMAL_CLEARING, failed).
      {R"({"billing_status":"failed","hangup_disposition":"send_refuse","hangup_cause":"NORMAL_CLEARING"})", "",
       "FAILED"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(end_reason(c.root, c.leg), c.want) << c.root << " / " << c.leg;
  }
}

TEST(PortsipItem, CostIsTheStoredDecimalExactly) {
  // 18 digits, a point and 12 more: no double holds it.
  const std::string root = with_fields(tinycdr_root(), {{"rating", R"({"customer":{"charge":
      "123456789012345678.000000000001","billed_seconds":0,"currency":"USD"}})"}});
  const std::string out = item(CallRow{root, std::nullopt});
  EXPECT_NE(out.find(R"("cost":123456789012345678.000000000001,)"), std::string::npos) << out;

  // Trailing zeros of a stored text are dropped, as the rating library writes money.
  const std::string zeros = with_fields(tinycdr_root(), {{"rating", R"({"customer":{"charge":"0.50"}})"}});
  EXPECT_NE(item(CallRow{zeros, std::nullopt}).find(R"("cost":0.5,)"), std::string::npos);

  // An unrated call costs null, not 0.
  const std::string unrated =
      with_fields(tinycdr_root(), {{"rating", R"({"customer":{"status":"unrated","reason":"no customer deck"}})"}});
  EXPECT_NE(item(CallRow{unrated, std::nullopt}).find(R"("cost":null,)"), std::string::npos);
}

TEST(PortsipItem, BadStoredMoneyAndRecordsAreNamed) {
  const std::string root = with_fields(tinycdr_root(), {{"rating", R"({"customer":{"charge":"1e3"}})"}});
  try {
    item(CallRow{root, std::nullopt});
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "CallRow.root: rating.customer.charge is not a decimal number: '1e3'");
  }
  try {
    item(CallRow{tinycdr_root(), std::string("[1]")});
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "CallRow.answered: the record is not a JSON object");
  }
}

}  // namespace
}  // namespace cdrd::test
