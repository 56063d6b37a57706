// Wavix's CDR object (seed 002) from call rows: the keys and types of the
// seed's example, read from the seed at test time; hand-worked objects of an
// answered and an unanswered call made from FreeSWITCH samples; the rate per
// minute of two-step and tiered rates (the README's rating examples).
#include "daemon/api/wavix/wavix_cdr.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/api_dialects/dialect_test_support.h"

namespace cdrd::test {
namespace {

std::string cdr(const CallRow& row, std::string_view uuid = {}) {
  return written([&](JsonWriter& w) { write_wavix_cdr(w, row, uuid); });
}

rapidjson::Document seed_object() { return seed_example(seed_text("002"), "--header 'Authorization: Bearer <token>'"); }

// The keys that may be null (unknown, unrated, no recording, trunk or AMD,
// a transit call's forward_fee); date, duration, uuid and parent_uuid never.
const std::set<std::string> kNullable = {"from",        "to",         "disposition",   "destination",
                                         "per_minute",  "charge",     "recording_url", "sip_trunk",
                                         "forward_fee", "answered_by"};

TEST(WavixCdr, HasTheSeedsKeysInOrderWithTheirTypes) {
  const rapidjson::Document seed = seed_object();
  ASSERT_EQ(keys_of(seed).size(), 14U);
  const auto type_of = [&](const std::string& key) { return json_type(seed[key.c_str()]); };

  // Every field known: nothing may be null.
  const rapidjson::Document full = parse_json_strict(cdr(CallRow{libresbc_root(), libresbc_bleg()}));
  expect_shape(full, keys_of(seed), type_of, {}, "answered call");

  const rapidjson::Document unanswered = parse_json_strict(cdr(CallRow{tinycdr_root(), std::nullopt}));
  expect_shape(unanswered, keys_of(seed), type_of, kNullable, "unanswered call");
}

TEST(WavixCdr, AnsweredCallWorkedByHand) {
  // The libresbc call: start 1621654552783696; caller_e164 +33123456789, callee_e164 +84987654321 (Vietnam);
  // the B-leg billed 4 s. Rated 60/0.012 then 6/0.01 + 0.005: 4 s bill 60 s, within the initial interval, so the
  // call was charged at the initial 0.012 a minute; 0.005 + 0.012 = 0.017.
  EXPECT_EQ(cdr(CallRow{libresbc_root(), libresbc_bleg()}), compact(R"({
    "date": "2021-05-22T03:35:52.783Z",
    "from": "33123456789",
    "to": "84987654321",
    "disposition": "answered",
    "duration": 4,
    "destination": "Vietnam",
    "per_minute": "0.012",
    "recording_url": "https://rec.example/88b4673b.wav",
    "charge": "0.017",
    "sip_trunk": "pbxtcp",
    "forward_fee": "0.0",
    "uuid": "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0",
    "parent_uuid": "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0",
    "answered_by": "human"
  })"));
}

TEST(WavixCdr, UnansweredCallWorkedByHand) {
  // tinycdr: start 1242921226180441; 1000 and 2622 are no E.164 numbers (so no destination either); the caller
  // cancelled while it rang (billing_status noanswer); never rated.
  EXPECT_EQ(cdr(CallRow{tinycdr_root(), std::nullopt}), compact(R"({
    "date": "2009-05-21T15:53:46.180Z",
    "from": "1000",
    "to": "2622",
    "disposition": "noanswer",
    "duration": 0,
    "destination": null,
    "per_minute": null,
    "recording_url": null,
    "charge": null,
    "sip_trunk": null,
    "forward_fee": "0.0",
    "uuid": "91353230-461f-11de-aa7f-b10b4edc0c92",
    "parent_uuid": "91353230-461f-11de-aa7f-b10b4edc0c92",
    "answered_by": null
  })"));
}

TEST(WavixCdr, UuidIsTheLegAskedForAndParentTheRoot) {
  // Asked by its B-leg (tinycdr's originatee 913d2a1c-...): the call is still the root's.
  const rapidjson::Document doc =
      parse_json_strict(cdr(CallRow{tinycdr_root(), std::nullopt}, "913d2a1c-461f-11de-aa7f-b10b4edc0c92"));
  EXPECT_STREQ(doc["uuid"].GetString(), "913d2a1c-461f-11de-aa7f-b10b4edc0c92");
  EXPECT_STREQ(doc["parent_uuid"].GetString(), "91353230-461f-11de-aa7f-b10b4edc0c92");
}

// A one-leg call answered at 16:55:53.518 and ended at 16:57:28.918 (billmsec 95400: billing_seconds 96),
// started 2026-02-27T16:55:50.25Z (started_at only: no channel_created_time), with `customer` as its rating.
std::string rated_call(const std::string& customer) {
  return R"({"id":"202602-c1","call_id":"c1","started_at":"2026-02-27T16:55:50.250000Z",
    "answered_at":"2026-02-27T16:55:53.518000Z","ended_at":"2026-02-27T16:57:28.918000Z",
    "billing_status":"answered","billing_seconds":96,"callee_e164":"+33170363950",
    "rating":{"customer":)" +
         customer + "}}";
}

TEST(WavixCdr, ReadmeTwoStepExample) {
  // README "The charge": 60/0.012, 6/0.01, fee 0.005, nearest: d = 95, billed 96, charge 0.023. Past the initial
  // 60 s the call ran at the next rate, 0.01 a minute.
  const rapidjson::Document doc = parse_json_strict(cdr(
      CallRow{rated_call(R"({"deck":"retail","prefix":"33","name":"France","initial_interval":60,"initial_rate":"0.012",
        "next_interval":6,"next_rate":"0.01","connect_fee":"0.005","billed_seconds":96,"charge":"0.023",
        "currency":"USD","rated_at":"2026-02-27T17:00:00Z"})"),
              std::nullopt}));
  EXPECT_STREQ(doc["date"].GetString(), "2026-02-27T16:55:50.250Z");
  EXPECT_EQ(doc["duration"].GetInt(), 96);
  EXPECT_STREQ(doc["charge"].GetString(), "0.023");
  EXPECT_STREQ(doc["per_minute"].GetString(), "0.01");
  EXPECT_STREQ(doc["to"].GetString(), "33170363950");
}

TEST(WavixCdr, TieredRatesGiveTheRateOfTheTierReached) {
  // README: tiers 0:0.1:60;60:0.05:1, fee 0.2, up to 4 places: 95 s bill 60 + 35 = 95 s and cost 0.3292 (second
  // tier: 0.05); 30 s bill 60 s and cost 0.3 (first tier: 0.1).
  const auto per_minute = [](const std::string& tiers, int billed, const std::string& charge) {
    const rapidjson::Document doc = parse_json_strict(cdr(CallRow{
        rated_call(R"({"deck":"t","prefix":"33","tiers":")" + tiers + R"(","connect_fee":"0.2","billed_seconds":)" +
                   std::to_string(billed) + R"(,"charge":")" + charge + R"(","currency":"USD"})"),
        std::nullopt}));
    EXPECT_STREQ(doc["charge"].GetString(), charge.c_str());
    return std::string(doc["per_minute"].GetString());
  };
  EXPECT_EQ(per_minute("0:0.1:60;60:0.05:1", 95, "0.3292"), "0.05");
  EXPECT_EQ(per_minute("0:0.1:60;60:0.05:1", 60, "0.3"), "0.1");
  // Tiers 0:0.1:60;30:0.05:1: 10 s round up to 60 s in the first tier, past the second's start, and still
  // never reached it; 40 s bill 60 + 10 = 70 s and did.
  EXPECT_EQ(per_minute("0:0.1:60;30:0.05:1", 60, "0.3"), "0.1");
  EXPECT_EQ(per_minute("0:0.1:60;30:0.05:1", 70, "0.3084"), "0.05");
  // Three tiers, 0-60 by 60, 60-120 by 30, then by 1: 150 s bill 60 + 60 + 30 = 150 s, third tier.
  EXPECT_EQ(per_minute("0:0.1:60;60:0.05:30;120:0.02:1", 150, "0.36"), "0.02");
  EXPECT_EQ(per_minute("0:0.1:60;60:0.05:30;120:0.02:1", 120, "0.35"), "0.05");
}

TEST(WavixCdr, DispositionsAndTransit) {
  const auto doc_of = [](const std::string& root, const std::optional<std::string>& leg) {
    return parse_json_strict(cdr(CallRow{root, leg}));
  };
  // The last attempt was busy: the call is busy.
  rapidjson::Document d =
      doc_of(R"({"call_id":"r","billing_status":"failed"})", std::string(R"({"call_id":"b","billing_status":"busy"})"));
  EXPECT_STREQ(d["disposition"].GetString(), "busy");
  // Answered on the B-leg, billed from it.
  d = doc_of(R"({"call_id":"r","billing_status":"failed","billing_seconds":0})",
             std::string(R"({"call_id":"b","billing_status":"answered","billing_seconds":12})"));
  EXPECT_STREQ(d["disposition"].GetString(), "answered");
  EXPECT_EQ(d["duration"].GetInt(), 12);
  // No billing_status anywhere: unknown.
  d = doc_of(R"({"call_id":"r"})", std::nullopt);
  EXPECT_TRUE(d["disposition"].IsNull());
  EXPECT_TRUE(d["date"].IsNull());
  EXPECT_TRUE(d["from"].IsNull());
  // A transit call was forwarded to a carrier: the fee is inside charge, its share unknown.
  d = doc_of(R"({"call_id":"r","direction_class":"transit"})", std::nullopt);
  EXPECT_TRUE(d["forward_fee"].IsNull());
  // Whole amounts keep a decimal place ("1.0"), as the seed's "0.0".
  d = doc_of(R"({"call_id":"r","rating":{"customer":{"initial_interval":60,"initial_rate":"1","next_interval":60,
               "next_rate":"1","billed_seconds":60,"charge":"1.000"}}})",
             std::nullopt);
  EXPECT_STREQ(d["charge"].GetString(), "1.0");
  EXPECT_STREQ(d["per_minute"].GetString(), "1.0");
}

}  // namespace
}  // namespace cdrd::test
