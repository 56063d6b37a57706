// Kazoo's CDR row (daemon/api/kazoo/kazoo_row.h) against records written by
// hand and values worked out from Kazoo 4.3's cb_cdrs col_* functions:
//   R1 ends at 2024-01-15T10:01:35Z (Unix 1705312895, Gregorian
//   1705312895 + 62167219200 = 63872532095) after 95 s, so Kazoo's timestamp
//   (the end minus the duration) is 63872532000 = 2024-01-15T10:00:00Z, a
//   Monday (2024-01-01 was a Monday).
#include "daemon/api/kazoo/kazoo_row.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "daemon/api/record_view.h"

namespace cdrd {
namespace {

const char* const kR1 = R"({"id":"202401-abc","call_id":"abc","timestamp":63872532095,"duration_seconds":95,
 "billing_seconds":90,"caller_id_number":"1001","caller_id_name":"Ann \"A\", Ltd","callee_id_number":"+14155550100",
 "hangup_cause":"NORMAL_CLEARING","disposition":"ANSWER","other_leg_call_id":"def","call_direction":"inbound",
 "to":"14155550100@pbx.example","from":"1001@pbx.example","request":"14155550100@pbx.example",
 "from_uri":"1001@pbx.example","media_server":"fs1","interaction_id":"63872531990-aa11",
 "recording_url":"https://rec/x.wav","custom_channel_vars":{"account_id":"acct-a","authorizing_id":"dev-1",
 "owner_id":"user-1","account_billing":"per_minute","rate":"0.02","rate_name":"us-ca","bridge_id":"abc",
 "media_recordings":"rec-1","call_priority":"high"},"rating":{"kazoo_cost":400}})";

// Outbound, rated by cdrd: billed 120 s past the 60 s initial interval, so
// the rate is the next rate, 0.01; the charge 0.01234 is 123.4 units, cut to
// 123. No duration: the timestamp is the end itself.
const char* const kR2 = R"({"id":"202401-xyz","call_id":"xyz","timestamp":63872532095,"call_direction":"outbound",
 "to":"+442079460001@carrier.example","from_uri":"sip:1002@pbx.example","caller_id_number":"1002",
 "custom_channel_vars":{"account_id":"acct-a","authorizing_id":"acct-a","rate_name":"kazoo-uk"},
 "rating":{"customer":{"charge":"0.01234","currency":"USD","name":"UK","initial_rate":"0.02","next_rate":"0.01",
 "initial_interval":60,"billed_seconds":120},"kazoo_cost":999}})";

// Neither inbound nor outbound, Kazoo's Rate variable as a whole number, a
// Kazoo cost that does not count (no account_billing per_minute).
const char* const kR3 = R"({"id":"r3","timestamp":63872532095,"call_direction":"internal",
 "custom_channel_vars":{"rate":"1"},"rating":{"kazoo_cost":500}})";

rapidjson::Document row(const char* record, const KazooRowOptions& options = {}) {
  rapidjson::Document doc;
  doc.Parse(kazoo_row_json(record, options));
  EXPECT_FALSE(doc.HasParseError());
  return doc;
}

std::string text(const rapidjson::Value& row, const char* name) {
  EXPECT_TRUE(row.HasMember(name)) << name;
  if (!row.HasMember(name) || !row[name].IsString()) return "<not a string>";
  return row[name].GetString();
}

ZoneChoice zone(const std::map<std::string, std::string>& params) {
  ZoneChoice z;
  std::string error;
  EXPECT_TRUE(parse_zone_params(params, &z, &error)) << error;
  return z;
}

TEST(KazooRowTest, ColumnsAreKazoosInOrder) {
  const std::vector<std::string_view> expected = {"id",
                                                  "call_id",
                                                  "caller_id_number",
                                                  "caller_id_name",
                                                  "callee_id_number",
                                                  "callee_id_name",
                                                  "duration_seconds",
                                                  "billing_seconds",
                                                  "timestamp",
                                                  "hangup_cause",
                                                  "disposition",
                                                  "other_leg_call_id",
                                                  "owner_id",
                                                  "to",
                                                  "from",
                                                  "direction",
                                                  "request",
                                                  "authorizing_id",
                                                  "cost",
                                                  "dialed_number",
                                                  "calling_from",
                                                  "datetime",
                                                  "unix_timestamp",
                                                  "rfc_1036",
                                                  "iso_8601",
                                                  "iso_8601_combined",
                                                  "call_type",
                                                  "rate",
                                                  "rate_name",
                                                  "bridge_id",
                                                  "recording_url",
                                                  "media_recordings",
                                                  "media_server",
                                                  "call_priority",
                                                  "interaction_id"};
  EXPECT_EQ(kazoo_row_columns({}), expected);
  KazooRowOptions interaction;
  interaction.interaction = true;
  auto with_inception = expected;
  with_inception.push_back("inception_direction");
  EXPECT_EQ(kazoo_row_columns(interaction), with_inception);
  // The JSON object has exactly these members, in this order.
  const auto doc = row(kR1);
  size_t i = 0;
  for (const auto& m : doc.GetObject()) EXPECT_EQ(std::string_view(m.name.GetString()), expected[i++]);
  EXPECT_EQ(i, expected.size());
}

TEST(KazooRowTest, InboundRowWithKazoosChannelVariables) {
  const auto r = row(kR1);
  EXPECT_EQ(text(r, "id"), "202401-abc");
  EXPECT_EQ(text(r, "call_id"), "abc");
  EXPECT_EQ(text(r, "caller_id_number"), "1001");
  EXPECT_EQ(text(r, "caller_id_name"), "Ann \"A\", Ltd");
  EXPECT_EQ(text(r, "callee_id_number"), "+14155550100");
  EXPECT_EQ(text(r, "callee_id_name"), "");
  EXPECT_EQ(r["duration_seconds"].GetInt64(), 95);
  EXPECT_EQ(r["billing_seconds"].GetInt64(), 90);
  EXPECT_EQ(text(r, "timestamp"), "63872532000");
  EXPECT_EQ(text(r, "hangup_cause"), "NORMAL_CLEARING");
  EXPECT_EQ(text(r, "disposition"), "ANSWER");
  EXPECT_EQ(text(r, "other_leg_call_id"), "def");
  EXPECT_EQ(text(r, "owner_id"), "user-1");
  EXPECT_EQ(text(r, "to"), "14155550100@pbx.example");
  EXPECT_EQ(text(r, "from"), "1001@pbx.example");
  EXPECT_EQ(text(r, "direction"), "inbound");
  EXPECT_EQ(text(r, "request"), "14155550100@pbx.example");
  EXPECT_EQ(text(r, "authorizing_id"), "dev-1");
  EXPECT_EQ(text(r, "cost"), "400");                   // rating.kazoo_cost, account_billing per_minute
  EXPECT_EQ(text(r, "dialed_number"), "14155550100");  // inbound: the request's user
  EXPECT_EQ(text(r, "calling_from"), "1001");          // inbound: the caller id number
  EXPECT_EQ(text(r, "datetime"), "2024-01-15 10:00:00");
  EXPECT_EQ(text(r, "unix_timestamp"), "1705312800");
  EXPECT_EQ(text(r, "rfc_1036"), "Mon, 15 Jan 2024 10:00:00 GMT");
  EXPECT_EQ(text(r, "iso_8601"), "2024-01-15");
  EXPECT_EQ(text(r, "iso_8601_combined"), "2024-01-15T10:00:00Z");
  EXPECT_EQ(text(r, "call_type"), "per_minute");
  EXPECT_EQ(text(r, "rate"), "0.02");
  EXPECT_EQ(text(r, "rate_name"), "us-ca");
  EXPECT_EQ(text(r, "bridge_id"), "abc");
  EXPECT_EQ(text(r, "recording_url"), "https://rec/x.wav");
  ASSERT_TRUE(r["media_recordings"].IsArray());
  ASSERT_EQ(r["media_recordings"].Size(), 1u);
  EXPECT_EQ(std::string(r["media_recordings"][0].GetString()), "rec-1");
  EXPECT_EQ(text(r, "media_server"), "fs1");
  EXPECT_EQ(text(r, "call_priority"), "high");
  EXPECT_EQ(text(r, "interaction_id"), "63872531990-aa11");
  EXPECT_FALSE(r.HasMember("inception_direction"));
}

TEST(KazooRowTest, OutboundRowRatedByCdrd) {
  const auto r = row(kR2);
  EXPECT_EQ(text(r, "duration_seconds"), "");  // absent: Kazoo's <<>>
  EXPECT_EQ(text(r, "billing_seconds"), "");
  EXPECT_EQ(text(r, "timestamp"), "63872532095");
  EXPECT_EQ(text(r, "datetime"), "2024-01-15 10:01:35");
  EXPECT_EQ(text(r, "authorizing_id"), "");  // the account itself
  EXPECT_EQ(text(r, "cost"), "123");
  EXPECT_EQ(text(r, "rate"), "0.01");
  EXPECT_EQ(text(r, "rate_name"), "UK");
  EXPECT_EQ(text(r, "dialed_number"), "+442079460001");  // outbound: the user of `to`
  EXPECT_EQ(text(r, "calling_from"), "sip:1002");        // outbound: the user of from_uri
  EXPECT_EQ(text(r, "owner_id"), "");
  EXPECT_EQ(r["media_recordings"].Size(), 0u);
}

TEST(KazooRowTest, WhatNeitherDirectionNorRatingGives) {
  const auto r = row(kR3);
  EXPECT_EQ(text(r, "dialed_number"), "");
  EXPECT_EQ(text(r, "calling_from"), "");
  EXPECT_EQ(text(r, "cost"), "0");    // no account_billing per_minute
  EXPECT_EQ(text(r, "rate"), "1.0");  // Erlang's float text of 1 dollar
  EXPECT_EQ(text(r, "call_id"), "");
  KazooRowOptions o;
  o.interaction = true;
  EXPECT_EQ(text(row(kR3, o), "inception_direction"), "termination");  // no authorizing_id
  EXPECT_EQ(text(row(kR1, o), "inception_direction"), "origination");
  o.user_path = true;  // under /users/: from call_direction
  EXPECT_EQ(text(row(kR1, o), "inception_direction"), "origination");
  EXPECT_EQ(text(row(kR2, o), "inception_direction"), "termination");
  EXPECT_EQ(text(row(kR3, o), "inception_direction"), "");
  EXPECT_THROW(kazoo_row_json("[1]", {}), std::invalid_argument);
}

TEST(KazooRowTest, DatetimeTakesTheOffsetAndTheZone) {
  KazooRowOptions o;
  o.zone = zone({{"utc_offset", "-18000"}});
  auto r = row(kR1, o);
  EXPECT_EQ(text(r, "datetime"), "2024-01-15 05:00:00");
  // The other times stay UTC, as in Kazoo.
  EXPECT_EQ(text(r, "iso_8601_combined"), "2024-01-15T10:00:00Z");
  EXPECT_EQ(text(r, "timestamp"), "63872532000");
  o.zone = zone({{"tz", "Europe/Berlin"}});  // +01:00 in January
  EXPECT_EQ(text(row(kR1, o), "datetime"), "2024-01-15 11:00:00");
  o.zone = zone({{"utc_offset", "36000"}});  // +10:00 crosses midnight
  EXPECT_EQ(text(row(kR1, o), "datetime"), "2024-01-15 20:00:00");
}

TEST(KazooRowTest, CsvQuotesEveryCellAsKzCsv) {
  EXPECT_EQ(kazoo_csv_header({}),
            "\"ID\",\"call_id\",\"caller_id_number\",\"caller_id_name\",\"callee_id_number\",\"callee_id_name\","
            "\"duration_seconds\",\"billing_seconds\",\"timestamp\",\"hangup_cause\",\"disposition\","
            "\"other_leg_call_id\",\"owner_id\",\"to\",\"from\",\"direction\",\"request\",\"authorizing_id\",\"cost\","
            "\"dialed_number\",\"calling_from\",\"datetime\",\"unix_timestamp\",\"rfc_1036\",\"iso_8601\","
            "\"iso_8601_combined\",\"call_type\",\"rate\",\"rate_name\",\"bridge_id\",\"recording_url\","
            "\"media_recordings\",\"media_server\",\"call_priority\",\"interaction_id\"\n");
  std::string out;
  append_kazoo_csv_row(kR1, {}, &out);
  EXPECT_EQ(out,
            "\"202401-abc\",\"abc\",\"1001\",\"Ann \"\"A\"\", Ltd\",\"+14155550100\",\"\",\"95\",\"90\","
            "\"63872532000\",\"NORMAL_CLEARING\",\"ANSWER\",\"def\",\"user-1\",\"14155550100@pbx.example\","
            "\"1001@pbx.example\",\"inbound\",\"14155550100@pbx.example\",\"dev-1\",\"400\",\"14155550100\",\"1001\","
            "\"2024-01-15 10:00:00\",\"1705312800\",\"Mon, 15 Jan 2024 10:00:00 GMT\",\"2024-01-15\","
            "\"2024-01-15T10:00:00Z\",\"per_minute\",\"0.02\",\"us-ca\",\"abc\",\"https://rec/x.wav\",\"rec-1\","
            "\"fs1\",\"high\",\"63872531990-aa11\"\n");
  KazooRowOptions o;
  o.interaction = true;
  const std::string header = kazoo_csv_header(o);
  EXPECT_EQ(header.substr(header.size() - 23), ",\"inception_direction\"\n");
  out.clear();
  append_kazoo_csv_row(kR2, o, &out);
  // No interaction_id; an authorizing_id (the account's own): origination.
  EXPECT_EQ(out.substr(out.size() - 18), ",\"\",\"origination\"\n");
}

TEST(KazooRowTest, FullRecordsTakeTheZoneOnTheirFourTimes) {
  const std::string record =
      R"({"id":"a","started_at":"2024-01-15T10:00:00.123456Z","answered_at":"2024-01-15T10:00:05Z",)"
      R"("ended_at":"2024-07-15T10:01:35Z","note":"2024-01-15T10:00:00Z"})";
  EXPECT_EQ(localize_record(record, ZoneChoice{}), record);  // UTC: the stored text
  EXPECT_EQ(localize_record(record, zone({{"tz", "Europe/Berlin"}})),
            R"({"id":"a","started_at":"2024-01-15T11:00:00.123456+01:00",)"
            R"("answered_at":"2024-01-15T11:00:05.000000+01:00","ended_at":"2024-07-15T12:01:35.000000+02:00",)"
            R"("note":"2024-01-15T10:00:00Z"})");
  EXPECT_THROW(localize_record("not json", zone({{"utc_offset", "60"}})), std::invalid_argument);
}

TEST(KazooRowTest, FileNameAsApiUtilPicksIt) {
  EXPECT_EQ(kazoo_csv_file_name("", ""), "result.csv");
  EXPECT_EQ(kazoo_csv_file_name("from-header.csv", "from-param.csv"), "from-header.csv");
  EXPECT_EQ(kazoo_csv_file_name("", "from-param.csv"), "from-param.csv");
  EXPECT_EQ(kazoo_csv_file_name("", "/tmp/x/report.csv"), "report.csv");
  EXPECT_EQ(kazoo_csv_file_name("dir/", ""), "result.csv");
  EXPECT_EQ(kazoo_csv_file_name("we\"ird\r\n\\.csv", ""), "we_ird___.csv");
}

// The in-place overloads (an export's) write what the copying ones write,
// escapes included (R1's caller_id_name has quotes and a comma), and refuse
// a NUL byte inside the text instead of stopping there.
TEST(KazooRowTest, InPlaceParsingWritesTheSameRows) {
  for (const char* record : {kR1, kR2, kR3}) {
    std::string copying;
    append_kazoo_csv_row(std::string_view(record), {}, &copying);
    std::string text = record;
    std::string in_place;
    append_kazoo_csv_row(&text, {}, &in_place);
    EXPECT_EQ(in_place, copying);
    text = record;
    EXPECT_EQ(kazoo_row_json(&text, {}), kazoo_row_json(std::string_view(record), {}));
  }
  std::string with_nul = std::string(R"({"id":"a)") + '\0' + R"("})";
  std::string out;
  EXPECT_THROW(append_kazoo_csv_row(&with_nul, {}, &out), std::invalid_argument);
  std::string not_object = "[1]";
  EXPECT_THROW(kazoo_row_json(&not_object, {}), std::invalid_argument);
}

// format_utc() against dates worked out by hand (and checked with Python's
// datetime): 951782400 is 2000-02-29, a Tuesday; 1796659509 is 2026-12-07
// 16:05:09, a Monday; -1 the last second of 1969, a Wednesday; year 0
// (leap, proleptic Gregorian) starts on a Saturday, 366 days before the
// Monday 0001-01-01. Past year 9999 date::format's own text is kept.
TEST(FormatUtc, EveryFormatByHand) {
  EXPECT_EQ(format_utc(0, UtcFormat::kDate), "1970-01-01");
  EXPECT_EQ(format_utc(0, UtcFormat::kDateTime), "1970-01-01 00:00:00");
  EXPECT_EQ(format_utc(0, UtcFormat::kIso), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(0, UtcFormat::kRfc1036), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_utc(951782400, UtcFormat::kRfc1036), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(format_utc(1796659509, UtcFormat::kDateTime), "2026-12-07 16:05:09");
  EXPECT_EQ(format_utc(1796659509, UtcFormat::kIso), "2026-12-07T16:05:09Z");
  EXPECT_EQ(format_utc(1796659509, UtcFormat::kRfc1036), "Mon, 07 Dec 2026 16:05:09 GMT");
  EXPECT_EQ(format_utc(-1, UtcFormat::kRfc1036), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(format_utc(-62167219200, UtcFormat::kRfc1036), "Sat, 01 Jan 0000 00:00:00 GMT");
  EXPECT_EQ(format_utc(253402300800, UtcFormat::kDate), "10000-01-01");
}

TEST(FormatUtc, SecondsAndMillisecondsAreCutDownBefore1970Too) {
  EXPECT_EQ(utc_seconds_text(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(utc_millis_text(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(utc_millis_text(1500), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(utc_millis_text(int64_t{1796659509} * 1000000 + 518999), "2026-12-07T16:05:09.518Z");
  EXPECT_EQ(utc_seconds_text(int64_t{1796659509} * 1000000 + 999999), "2026-12-07T16:05:09Z");
  EXPECT_EQ(utc_seconds_text(std::nullopt), std::nullopt);
  // Past year 9999 the second comes from date::format, the milliseconds still go before the 'Z'.
  EXPECT_EQ(utc_millis_text(int64_t{253402300800} * 1000000 + 1000), "10000-01-01T00:00:00.001Z");
}

}  // namespace
}  // namespace cdrd
