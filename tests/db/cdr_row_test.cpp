#include "daemon/db/cdr_row.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace cdrd {
namespace {

// 2018-01-11 10:26:01 UTC in Gregorian seconds, and the leg's start in µs.
constexpr const char* kFullRecord = R"({
  "id": "201801-3da8bf84-c133-4959-9e24-e72875cb33a1",
  "call_id": "3da8bf84-c133-4959-9e24-e72875cb33a1",
  "account_id": "acc-1",
  "timestamp": 63682885561,
  "channel_created_time": 1515666344534355,
  "started_at": "2000-01-01T00:00:00.000000Z",
  "answered_at": "2018-01-11T10:25:47.100000Z",
  "duration_seconds": 17,
  "billing_seconds": 14,
  "ringing_seconds": 3,
  "call_direction": "inbound",
  "hangup_cause": "NORMAL_CLEARING",
  "hangup_code": "sip:200",
  "billing_status": "answered",
  "caller_id_number": "+15551230000",
  "callee_id_number": "+15559870000",
  "from_uri": "sip:1000@example.com",
  "to_uri": "sip:2000@example.com",
  "other_leg_call_id": "b-leg-uuid",
  "interaction_id": "63682885544-1a2b3c4d",
  "media_server": "fs1.example.com",
  "leg": "A",
  "source": "json_cdr",
  "imported": true,
  "custom_channel_vars": {"account_id": "acc-1"}
})";

CdrRecord make_record(std::string json, std::string raw = "", std::string raw_format = "") {
  return CdrRecord{std::move(json), std::move(raw), std::move(raw_format)};
}

std::string minimal_json(const std::string& extra) {
  return R"({"id":"x","timestamp":63682885561,"account_id":"a","call_id":"c","source":"esl")" + extra + "}";
}

TEST(ExtractColumns, FullRecordFillsEveryColumn) {
  const CdrRecord record = make_record(kFullRecord, "{\"raw\":1}\n\tline", "json");
  CdrRow row;
  std::string error;
  ASSERT_TRUE(extract_columns(record, &row, &error)) << error;
  EXPECT_EQ(row.id, "201801-3da8bf84-c133-4959-9e24-e72875cb33a1");
  EXPECT_EQ(row.ts, "2018-01-11 10:26:01+00");
  EXPECT_EQ(row.ts_us, 1515666361000000);  // date -u -d @1515666361: 2018-01-11 10:26:01
  EXPECT_EQ(row.gregorian_ts, 63682885561);
  EXPECT_EQ(row.account_id, "acc-1");
  EXPECT_EQ(row.call_id, "3da8bf84-c133-4959-9e24-e72875cb33a1");
  // channel_created_time wins over the record's started_at string.
  EXPECT_EQ(row.started_at, std::optional<std::string>("2018-01-11 10:25:44.534355+00"));
  EXPECT_EQ(row.answered_at, std::optional<std::string>("2018-01-11T10:25:47.100000Z"));
  EXPECT_EQ(row.started_at_us, std::optional<int64_t>(1515666344534355));
  EXPECT_EQ(row.answered_at_us, std::optional<int64_t>(1515666347100000));
  EXPECT_EQ(row.duration_seconds, 17);
  EXPECT_EQ(row.billing_seconds, 14);
  EXPECT_EQ(row.ringing_seconds, 3);
  EXPECT_EQ(row.call_direction, std::optional<std::string>("inbound"));
  EXPECT_EQ(row.hangup_cause, std::optional<std::string>("NORMAL_CLEARING"));
  EXPECT_EQ(row.hangup_code, std::optional<std::string>("sip:200"));
  EXPECT_EQ(row.billing_status, std::optional<std::string>("answered"));
  EXPECT_EQ(row.caller_id_number, std::optional<std::string>("+15551230000"));
  EXPECT_EQ(row.callee_id_number, std::optional<std::string>("+15559870000"));
  EXPECT_EQ(row.from_uri, std::optional<std::string>("sip:1000@example.com"));
  EXPECT_EQ(row.to_uri, std::optional<std::string>("sip:2000@example.com"));
  EXPECT_EQ(row.other_leg_call_id, std::optional<std::string>("b-leg-uuid"));
  EXPECT_EQ(row.interaction_id, std::optional<std::string>("63682885544-1a2b3c4d"));
  EXPECT_EQ(row.media_server, std::optional<std::string>("fs1.example.com"));
  EXPECT_EQ(row.leg, std::optional<std::string>("A"));
  EXPECT_EQ(row.source, "json_cdr");
  EXPECT_TRUE(row.imported);
  EXPECT_EQ(row.record, kFullRecord);
  EXPECT_EQ(row.raw, std::optional<std::string>("{\"raw\":1}\n\tline"));
  EXPECT_EQ(row.raw_format, std::optional<std::string>("json"));
}

TEST(TakeColumns, MovesTheStringsInOnSuccessAndLeavesTheRecordOnFailure) {
  CdrRecord record = make_record(kFullRecord, "the raw", "json");
  CdrRow row;
  std::string error;
  ASSERT_TRUE(take_columns(&record, &row, &error)) << error;
  EXPECT_EQ(row.record, kFullRecord);
  EXPECT_EQ(row.raw, std::optional<std::string>("the raw"));
  EXPECT_EQ(row.raw_format, std::optional<std::string>("json"));
  EXPECT_EQ(row.id, "201801-3da8bf84-c133-4959-9e24-e72875cb33a1");

  const std::string bad = minimal_json(R"(,"duration_seconds":99999999999)");
  CdrRecord refused = make_record(bad, "raw kept", "xml");
  EXPECT_FALSE(take_columns(&refused, &row, &error));
  EXPECT_EQ(refused.json, bad);  // still there for the quarantine
  EXPECT_EQ(refused.raw, "raw kept");
  EXPECT_EQ(refused.raw_format, "xml");
}

TEST(ExtractColumns, MinimalRecordLeavesOptionalColumnsEmpty) {
  CdrRow row;
  row.imported = true;  // must be reset: the row is filled from scratch
  row.leg = "B";
  std::string error;
  ASSERT_TRUE(extract_columns(make_record(minimal_json("")), &row, &error)) << error;
  EXPECT_EQ(row.id, "x");
  EXPECT_EQ(row.source, "esl");
  EXPECT_EQ(row.started_at, std::nullopt);
  EXPECT_EQ(row.answered_at, std::nullopt);
  EXPECT_EQ(row.duration_seconds, 0);
  EXPECT_EQ(row.billing_seconds, 0);
  EXPECT_EQ(row.ringing_seconds, 0);
  EXPECT_EQ(row.leg, std::nullopt);
  EXPECT_EQ(row.call_direction, std::nullopt);
  EXPECT_FALSE(row.imported);
  EXPECT_EQ(row.raw, std::nullopt);
  EXPECT_EQ(row.raw_format, std::nullopt);
}

TEST(ExtractColumns, IsLoopbackComesFromTheRecord) {
  CdrRow row;
  std::string error;
  ASSERT_TRUE(extract_columns(make_record(minimal_json(R"(,"is_loopback":true)")), &row, &error)) << error;
  EXPECT_TRUE(row.is_loopback);
  ASSERT_TRUE(extract_columns(make_record(minimal_json(R"(,"is_loopback":false)")), &row, &error)) << error;
  EXPECT_FALSE(row.is_loopback);
  row.is_loopback = true;  // absent means false, not "unchanged"
  ASSERT_TRUE(extract_columns(make_record(minimal_json("")), &row, &error)) << error;
  EXPECT_FALSE(row.is_loopback);
}

TEST(ExtractColumns, StartedAtFallsBackToTheRecordsString) {
  CdrRow row;
  std::string error;
  ASSERT_TRUE(
      extract_columns(make_record(minimal_json(R"(,"started_at":"2018-01-11T10:25:44.534355Z")")), &row, &error))
      << error;
  EXPECT_EQ(row.started_at, std::optional<std::string>("2018-01-11T10:25:44.534355Z"));
  EXPECT_EQ(row.started_at_us, std::optional<int64_t>(1515666344534355));
}

TEST(ExtractColumns, SecondsUpToTheLimitsOfAnIntegerColumn) {
  CdrRow row;
  std::string error;
  ASSERT_TRUE(extract_columns(
      make_record(minimal_json(R"(,"duration_seconds":2147483647,"billing_seconds":-2147483648)")), &row, &error))
      << error;
  EXPECT_EQ(row.duration_seconds, 2147483647);
  EXPECT_EQ(row.billing_seconds, -2147483648);
}

struct BadCase {
  const char* name;
  std::string json;
  std::string error;
};

class ExtractColumnsRejects : public testing::TestWithParam<BadCase> {};

TEST_P(ExtractColumnsRejects, WithAnErrorNamingTheProblem) {
  CdrRow row;
  std::string error;
  EXPECT_FALSE(extract_columns(make_record(GetParam().json), &row, &error));
  EXPECT_EQ(error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ExtractColumnsRejects,
    testing::Values(
        BadCase{"NotJson", "{\"id\":", "record is not valid JSON: Invalid value. at offset 6"},
        BadCase{"NotAnObject", "[1,2]", "record is not a JSON object"},
        BadCase{"MissingId", R"({"timestamp":63682885561,"account_id":"a","call_id":"c","source":"esl"})",
                "required field 'id' is missing"},
        BadCase{"MissingTimestamp", R"({"id":"x","account_id":"a","call_id":"c","source":"esl"})",
                "required field 'timestamp' is missing"},
        BadCase{"MissingAccount", R"({"id":"x","timestamp":63682885561,"call_id":"c","source":"esl"})",
                "required field 'account_id' is missing"},
        BadCase{"MissingCallId", R"({"id":"x","timestamp":63682885561,"account_id":"a","source":"esl"})",
                "required field 'call_id' is missing"},
        BadCase{"MissingSource", R"({"id":"x","timestamp":63682885561,"account_id":"a","call_id":"c"})",
                "required field 'source' is missing"},
        BadCase{"IdNotString", R"({"id":7,"timestamp":63682885561,"account_id":"a","call_id":"c","source":"esl"})",
                "field 'id' is not a string"},
        BadCase{"TimestampString", R"({"id":"x","timestamp":"63682885561","account_id":"a","call_id":"c"})",
                "field 'timestamp' is not a 64-bit integer"},
        BadCase{"DurationNotInteger", minimal_json(R"(,"duration_seconds":1e20)"),
                "field 'duration_seconds' is not a 64-bit integer"},
        BadCase{"DurationFraction", minimal_json(R"(,"billing_seconds":1.5)"),
                "field 'billing_seconds' is not a 64-bit integer"},
        BadCase{"RingingOverInt64", minimal_json(R"(,"ringing_seconds":18446744073709551615)"),
                "field 'ringing_seconds' is not a 64-bit integer"},
        BadCase{"HangupCauseNumber", minimal_json(R"(,"hangup_cause":16)"), "field 'hangup_cause' is not a string"},
        BadCase{"LegNull", minimal_json(R"(,"leg":null)"), "field 'leg' is not a string"},
        BadCase{"ImportedString", minimal_json(R"(,"imported":"true")"), "field 'imported' is not a boolean"},
        BadCase{"LoopbackString", minimal_json(R"(,"is_loopback":"true")"), "field 'is_loopback' is not a boolean"},
        BadCase{"AnsweredAtNumber", minimal_json(R"(,"answered_at":1)"), "field 'answered_at' is not a string"},
        BadCase{"DurationOverInteger", minimal_json(R"(,"duration_seconds":99999999999)"),
                "field 'duration_seconds' (99999999999) is out of range for an integer column"},
        BadCase{"RingingUnderInteger", minimal_json(R"(,"ringing_seconds":-2147483649)"),
                "field 'ringing_seconds' (-2147483649) is out of range for an integer column"},
        BadCase{"AnsweredAtNotATime", minimal_json(R"(,"answered_at":"not a time")"),
                "field 'answered_at' (not a time) is not an ISO-8601 time"},
        BadCase{"StartedAtNoDay", minimal_json(R"(,"started_at":"2018-02-30T10:00:00Z")"),
                "field 'started_at' (2018-02-30T10:00:00Z) is not an ISO-8601 time"},
        BadCase{"CreatedTimeString", minimal_json(R"(,"channel_created_time":"1")"),
                "field 'channel_created_time' is not a 64-bit integer"},
        // Gregorian 0 is year 0, which PostgreSQL would need as 1 BC.
        BadCase{"TimestampYearZero", R"({"id":"x","timestamp":0,"account_id":"a","call_id":"c","source":"esl"})",
                "field 'timestamp' (0) is outside the years 1..9999"},
        BadCase{"TimestampYear10000",
                R"({"id":"x","timestamp":315569520000,"account_id":"a","call_id":"c","source":"esl"})",
                "field 'timestamp' (315569520000) is outside the years 1..9999"},
        BadCase{"TimestampHuge",
                R"({"id":"x","timestamp":9223372036854775807,"account_id":"a","call_id":"c","source":"esl"})",
                "field 'timestamp' (9223372036854775807) is outside the years 1..9999"},
        BadCase{"TimestampMin",
                R"({"id":"x","timestamp":-9223372036854775808,"account_id":"a","call_id":"c","source":"esl"})",
                "field 'timestamp' (-9223372036854775808) is outside the years 1..9999"},
        BadCase{"CreatedTimeYear10000", minimal_json(R"(,"channel_created_time":253402300800000000)"),
                "field 'channel_created_time' (253402300800000000) is outside the years 1..9999"}),
    [](const testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(ExtractColumns, AcceptsTheEdgesOfTheYearRange) {
  CdrRow row;
  std::string error;
  // 0001-01-01 00:00:00 and 9999-12-31 23:59:59 in Gregorian seconds.
  ASSERT_TRUE(extract_columns(
      make_record(R"({"id":"x","timestamp":31622400,"account_id":"a","call_id":"c","source":"esl"})"), &row, &error))
      << error;
  EXPECT_EQ(row.ts, "0001-01-01 00:00:00+00");
  ASSERT_TRUE(extract_columns(
      make_record(R"({"id":"x","timestamp":315569519999,"account_id":"a","call_id":"c","source":"esl"})"), &row,
      &error))
      << error;
  EXPECT_EQ(row.ts, "9999-12-31 23:59:59+00");
}

TEST(FormatUtcMicros, ExactStrings) {
  std::string out;
  ASSERT_TRUE(format_utc_micros(0, &out));
  EXPECT_EQ(out, "1970-01-01 00:00:00+00");
  ASSERT_TRUE(format_utc_micros(1515666344534355, &out));
  EXPECT_EQ(out, "2018-01-11 10:25:44.534355+00");
  ASSERT_TRUE(format_utc_micros(1515666361000000, &out));
  EXPECT_EQ(out, "2018-01-11 10:26:01+00");
  ASSERT_TRUE(format_utc_micros(1515666361000001, &out));
  EXPECT_EQ(out, "2018-01-11 10:26:01.000001+00");
  ASSERT_TRUE(format_utc_micros(1515666361100000, &out));
  EXPECT_EQ(out, "2018-01-11 10:26:01.100000+00");
  ASSERT_TRUE(format_utc_micros(-1, &out));
  EXPECT_EQ(out, "1969-12-31 23:59:59.999999+00");
  ASSERT_TRUE(format_utc_micros(-1000000, &out));
  EXPECT_EQ(out, "1969-12-31 23:59:59+00");
  ASSERT_TRUE(format_utc_micros(-1500000, &out));
  EXPECT_EQ(out, "1969-12-31 23:59:58.500000+00");
  ASSERT_TRUE(format_utc_micros(951782400000000, &out));  // leap day
  EXPECT_EQ(out, "2000-02-29 00:00:00+00");
}

TEST(FormatUtcMicros, YearRange) {
  std::string out = "unchanged";
  ASSERT_TRUE(format_utc_micros(-62135596800LL * 1000000, &out));
  EXPECT_EQ(out, "0001-01-01 00:00:00+00");
  ASSERT_TRUE(format_utc_micros(253402300799LL * 1000000 + 999999, &out));
  EXPECT_EQ(out, "9999-12-31 23:59:59.999999+00");
  out = "unchanged";
  EXPECT_FALSE(format_utc_micros(-62135596800LL * 1000000 - 1, &out));
  EXPECT_FALSE(format_utc_micros(253402300800LL * 1000000, &out));
  EXPECT_FALSE(format_utc_micros(std::numeric_limits<int64_t>::max(), &out));
  EXPECT_FALSE(format_utc_micros(std::numeric_limits<int64_t>::min(), &out));
  EXPECT_EQ(out, "unchanged");
}

}  // namespace
}  // namespace cdrd
