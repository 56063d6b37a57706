// The Kazoo routes' parameter parsers (daemon/api/api_query.h,
// daemon/api/cdr_filter.h, daemon/api/kazoo/kazoo_summary.h) as pure
// functions: Kazoo's rules (crossbar_view's window and order,
// crossbar_filter's filters, cb_cdrs's call id fix) against hand-written
// query strings. No server, no database.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/api/api_query.h"
#include "daemon/api/cdr_filter.h"
#include "daemon/api/kazoo/kazoo_summary.h"

namespace cdrd {
namespace {

constexpr int64_t kNow = 63872532095;  // 2024-01-15T10:01:35Z

ApiParams params_of(const std::string& query) {
  ApiParams params;
  EXPECT_TRUE(parse_api_query_string(query.c_str(), &params)) << query;
  return params;
}

ListRequest parsed(const std::string& query, ListOptions options = {}) {
  options.now_gregorian = kNow;
  ListRequest out;
  ApiError err;
  EXPECT_TRUE(parse_list_request(params_of(query), "acct", options, &out, &err)) << query << ": " << err.message;
  return out;
}

std::string refused(const std::string& query, ListOptions options = {}) {
  options.now_gregorian = kNow;
  ListRequest out;
  ApiError err;
  EXPECT_FALSE(parse_list_request(params_of(query), "acct", options, &out, &err)) << query;
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.code, "invalid_parameter");
  return err.message;
}

CdrFilter filter(const std::string& name, const std::string& value) {
  CdrFilter f;
  std::string error;
  EXPECT_TRUE(parse_cdr_filter(name, value, &f, &error)) << name << "=" << value << ": " << error;
  return f;
}

std::string filter_error(const std::string& name, const std::string& value) {
  CdrFilter f;
  std::string error;
  EXPECT_FALSE(parse_cdr_filter(name, value, &f, &error)) << name << "=" << value;
  return error;
}

TEST(KazooListQueryTest, WindowDefaultsToThirtyOneDaysAndAnHourAndIsInclusive) {
  EXPECT_EQ(kDefaultMaxWindowSeconds, 2682000);
  auto q = parsed("").query;
  EXPECT_EQ(q.to_gregorian, kNow);
  EXPECT_EQ(q.from_gregorian, kNow - 2682000);
  q = parsed("created_to=63872000000").query;
  EXPECT_EQ(q.from_gregorian, 63872000000 - 2682000);
  // Exactly the maximum is a window; one second more is not.
  q = parsed("created_from=63869850095&created_to=63872532095").query;
  EXPECT_EQ(q.from_gregorian, 63869850095);
  EXPECT_EQ(q.to_gregorian, 63872532095);
  EXPECT_EQ(refused("created_from=63869850094&created_to=63872532095"),
            "created_from: created_to 63872532095 is more than 2682000 seconds from created_from 63869850094");
  EXPECT_EQ(refused("created_from=63872532096&created_to=63872532095"),
            "created_from: created_to 63872532095 is prior to created_from 63872532096");
  EXPECT_EQ(refused("created_to=soon"),
            "created_to: expected Gregorian seconds (an integer >= 62167219200), got 'soon'");
  // api.max_window_s
  ListOptions small;
  small.max_window_s = 3600;
  EXPECT_EQ(parsed("", small).query.from_gregorian, kNow - 3600);
  EXPECT_EQ(refused("created_from=63872528494", small).rfind("created_from: created_to", 0), 0u);
}

TEST(KazooListQueryTest, OrderAsCrossbarViewDirection) {
  EXPECT_FALSE(parsed("").query.ascending);  // newest first
  EXPECT_TRUE(parsed("ascending=true").query.ascending);
  EXPECT_TRUE(parsed("ascending=1").query.ascending);
  EXPECT_FALSE(parsed("ascending=0").query.ascending);
  EXPECT_FALSE(parsed("descending=true").query.ascending);
  EXPECT_TRUE(parsed("descending=false").query.ascending);
  EXPECT_FALSE(parsed("descending=1&ascending=1").query.ascending);  // descending=true wins
  EXPECT_FALSE(parsed("descending=false&ascending=false").query.ascending);
  EXPECT_EQ(refused("ascending=yes"), "ascending: expected true, false, 1 or 0, got 'yes'");
  EXPECT_EQ(refused("descending=no"), "descending: expected true, false, 1 or 0, got 'no'");
}

TEST(KazooListQueryTest, UnknownParametersAreIgnoredKnownOnesChecked) {
  const auto r = parsed("colour=blue&account_id=other&auth_token=x&accept=csv&file_name=a.csv&tz=UTC&utc_offset=1");
  EXPECT_EQ(r.ignored, (std::vector<std::string>{"account_id", "colour"}));
  EXPECT_EQ(r.query.account_id, "acct");
  EXPECT_EQ(refused("page_size=0"), "page_size: expected an integer from 1 to 1000, got '0'");
  EXPECT_EQ(refused("page_size=1001"), "page_size: expected an integer from 1 to 1000, got '1001'");
  EXPECT_EQ(refused("paginate=maybe"), "paginate: expected true, false, 1 or 0, got 'maybe'");
  EXPECT_EQ(refused("detail=some"), "detail: expected full or kazoo, got 'some'");
  EXPECT_EQ(refused("start_key=forged"), "start_key: not a key returned as next_start_key");
  EXPECT_TRUE(parsed("detail=full").full);
  EXPECT_FALSE(parsed("detail=kazoo").full);
  EXPECT_EQ(parsed("page_size=7").query.page_size, 7u);
  EXPECT_EQ(parsed("").query.page_size, 50u);
}

TEST(KazooListQueryTest, StreamingForPaginateFalseCsvAndV1) {
  EXPECT_FALSE(parsed("").stream);
  EXPECT_TRUE(parsed("paginate=false&page_size=10").stream);  // page_size then means nothing
  ListOptions csv;
  csv.csv = true;
  EXPECT_TRUE(parsed("page_size=10", csv).stream);
  ListOptions v1;
  v1.paginate = false;
  EXPECT_TRUE(parsed("", v1).stream);
  EXPECT_TRUE(parsed("paginate=true", v1).stream);  // v1 never pages
}

TEST(KazooFilterTest, KazoosFilterKinds) {
  auto f = filter("filter_hangup_cause", "[\"USER_BUSY\",\"NO_ANSWER\"]");
  EXPECT_EQ(f.kind, CdrFilter::Kind::kColumn);
  EXPECT_EQ(f.test, CdrFilter::Test::kEquals);
  EXPECT_EQ(f.values, (std::vector<std::string>{"USER_BUSY", "NO_ANSWER"}));
  f = filter("filter_billing_seconds", "[30, 60]");  // numbers as written
  EXPECT_EQ(f.values, (std::vector<std::string>{"30", "60"}));
  f = filter("filter_not_hangup_cause", "NORMAL_CLEARING");
  EXPECT_EQ(f.test, CdrFilter::Test::kNotEquals);
  EXPECT_EQ(f.what, "hangup_cause");
  f = filter("filter_custom_channel_vars.owner_id", "o-1");
  EXPECT_EQ(f.kind, CdrFilter::Kind::kPath);
  EXPECT_EQ(f.path, (std::vector<std::string>{"custom_channel_vars", "owner_id"}));
  f = filter("filter_destination.country", "GB");
  EXPECT_EQ(f.path, (std::vector<std::string>{"destination", "country"}));
  f = filter("filter_transfer.0.kind", "att_xfer");
  EXPECT_EQ(f.path, (std::vector<std::string>{"transfer", "0", "kind"}));
  f = filter("has_key", "custom_channel_vars.owner_id");
  EXPECT_EQ(f.test, CdrFilter::Test::kHasKey);
  EXPECT_EQ(f.path, (std::vector<std::string>{"custom_channel_vars", "owner_id"}));
  EXPECT_EQ(filter("key_missing", "recording_url").test, CdrFilter::Test::kKeyMissing);
  EXPECT_EQ(filter("has_value", "recording_url").test, CdrFilter::Test::kHasValue);
  EXPECT_EQ(filter("value_missing", "recording_url").test, CdrFilter::Test::kValueMissing);
  // A JSON string: its text too.
  EXPECT_EQ(filter("filter_leg", "\"A\"").values, (std::vector<std::string>{"\"A\"", "A"}));
  // An empty value: the field is missing or "".
  EXPECT_EQ(filter("filter_caller_id_name", "").values, std::vector<std::string>{""});
  // A '[' that is no JSON list is a value.
  EXPECT_EQ(filter("filter_caller_id_name", "[x").values, std::vector<std::string>{"[x"});
  // cdrd's prefix.
  f = filter("filter_callee_id_number", "4420*");
  EXPECT_TRUE(f.prefix);
  EXPECT_EQ(f.values, std::vector<std::string>{"4420"});
}

TEST(KazooFilterTest, CallIdsLoseTheirMonthPrefix) {
  EXPECT_EQ(filter("filter_call_id", "201801-3da8bf84").values, std::vector<std::string>{"3da8bf84"});
  EXPECT_EQ(filter("filter_other_leg_call_id", "201801-3da8bf84").values, std::vector<std::string>{"3da8bf84"});
  EXPECT_EQ(filter("filter_not_call_id", "201801-3da8bf84").values, std::vector<std::string>{"3da8bf84"});
  EXPECT_EQ(filter("filter_call_id", "[\"201801-a\",\"b\"]").values, (std::vector<std::string>{"a", "b"}));
  // Not six digits and a dash, or not a call id: unchanged.
  EXPECT_EQ(filter("filter_call_id", "2018-01-a").values, std::vector<std::string>{"2018-01-a"});
  EXPECT_EQ(filter("filter_id", "201801-a").values, std::vector<std::string>{"201801-a"});
}

TEST(KazooFilterTest, BadValuesOfKnownFieldsNameTheParameter) {
  EXPECT_EQ(filter_error("filter_billing_seconds", "thirty"),
            "filter_billing_seconds: expected a non-negative integer (or a list of them), got 'thirty'");
  EXPECT_EQ(filter_error("filter_billing_seconds", "[1,\"x\"]"),
            "filter_billing_seconds: expected a non-negative integer (or a list of them), got '[1,\"x\"]'");
  EXPECT_EQ(filter_error("filter_billing_seconds", ""),
            "filter_billing_seconds: expected a non-negative integer (or a list of them), got ''");
  EXPECT_EQ(filter_error("filter_billing_seconds", "3*"),
            "filter_billing_seconds: a prefix ('*') applies only to text fields");
  EXPECT_EQ(filter_error("filter_imported", "yes"), "filter_imported: expected true or false, got 'yes'");
  EXPECT_EQ(filter_error("filter_caller_id_number", "*"),
            "filter_caller_id_number: '*' alone matches everything; give a prefix before it or leave the filter out");
  EXPECT_EQ(filter_error("filter_hangup_cause", "[null]"), "filter_hangup_cause: a list of strings and numbers only");
  // Found by the api_query fuzzer: an empty list reached the SQL as IN ().
  EXPECT_EQ(filter_error("filter_ca", "[]"), "filter_ca: a list of at least one value");
  EXPECT_EQ(filter_error("filter_leg", "[ ]"), "filter_leg: a list of at least one value");
  EXPECT_EQ(filter_error("filter_a..b", "x"),
            "filter_a..b: the field after 'filter_' must be a dotted path into the CDR, at most 16 segments, none "
            "empty");
  EXPECT_EQ(filter_error("filter_", "x").rfind("filter_: the field after 'filter_'", 0), 0u);
  EXPECT_EQ(filter_error("has_key", "").rfind("has_key: expected a dotted path", 0), 0u);
  std::string many = "[";
  for (int i = 0; i <= 100; ++i) many += (i ? ",\"v" : "\"v") + std::to_string(i) + "\"";
  EXPECT_EQ(filter_error("filter_leg", many + "]"), "filter_leg: a list of at most 100 values");
}

TEST(KazooFilterTest, ConditionsAreBoundSql) {
  const std::vector<CdrFilter> filters = {
      filter("filter_callee_id_number", "4420*"),
      filter("filter_custom_channel_vars.owner_id", "o-1"),
      filter("filter_billing_seconds", "30"),
      filter("filter_hangup_cause", "[\"USER_BUSY\",\"NO_ANSWER\"]"),
      filter("filter_not_hangup_cause", "NORMAL_CLEARING"),
      filter("has_key", "custom_channel_vars.owner_id"),
      filter("value_missing", "recording_url"),
      filter("filter_caller_id_name", ""),
      owner_filter("user-1"),
  };
  std::string sql;
  std::vector<std::string> params = {"acct", "1", "2", "51"};
  append_filter_sql(filters, "c", &sql, &params);
  EXPECT_EQ(sql,
            " AND starts_with(c.callee_id_number, $5)"
            " AND (c.record #>> ARRAY[$6::text, $7::text]) = $8"
            " AND c.billing_seconds = $9::bigint"
            " AND c.hangup_cause IN ($10, $11)"
            " AND NOT (COALESCE(c.hangup_cause, '') = $12)"
            " AND (c.record #> ARRAY[$13::text, $14::text]) IS NOT NULL"
            " AND NOT COALESCE((c.record #> ARRAY[$15::text]) NOT IN ('\"\"'::jsonb, '\"0\"'::jsonb, "
            "'\"NULL\"'::jsonb, '\"undefined\"'::jsonb, '0'::jsonb, 'null'::jsonb, '[]'::jsonb, '{}'::jsonb), false)"
            " AND COALESCE((c.record #>> ARRAY[$16::text]), '') = $17"
            " AND (c.record #>> ARRAY[$18::text, $19::text]) = $20");
  EXPECT_EQ(params, (std::vector<std::string>{"acct",
                                              "1",
                                              "2",
                                              "51",
                                              "4420",
                                              "custom_channel_vars",
                                              "owner_id",
                                              "o-1",
                                              "30",
                                              "USER_BUSY",
                                              "NO_ANSWER",
                                              "NORMAL_CLEARING",
                                              "custom_channel_vars",
                                              "owner_id",
                                              "recording_url",
                                              "caller_id_name",
                                              "",
                                              "custom_channel_vars",
                                              "owner_id",
                                              "user-1"}));
}

TEST(KazooSummaryQueryTest, FormatZoneAndUnknownParameters) {
  SummaryRequest r;
  ApiError err;
  ASSERT_TRUE(parse_summary_request(params_of("format=kazoo&colour=blue&utc_offset=-18000&filter_leg=A"), "acct", kNow,
                                    kDefaultMaxWindowSeconds, &r, &err))
      << err.message;
  EXPECT_TRUE(r.kazoo_format);
  EXPECT_EQ(r.ignored, std::vector<std::string>{"colour"});
  EXPECT_EQ(r.query.time_zone, "<-05>+05");  // sql_zone(): POSIX counts hours west
  EXPECT_EQ(r.query.from_gregorian, kNow - 2682000);
  ASSERT_EQ(r.query.filters.size(), 1u);
  SummaryRequest bad;
  EXPECT_FALSE(parse_summary_request(params_of("format=kazoo&group_by=day"), "acct", kNow, kDefaultMaxWindowSeconds,
                                     &bad, &err));
  EXPECT_EQ(err.message, "group_by: Kazoo's summary (format=kazoo) has no buckets; leave group_by out");
  EXPECT_FALSE(parse_summary_request(params_of("format=xml"), "acct", kNow, kDefaultMaxWindowSeconds, &bad, &err));
  EXPECT_EQ(err.message, "format: expected cdrd or kazoo, got 'xml'");
  EXPECT_FALSE(parse_summary_request(params_of("tz=Nowhere/Else"), "acct", kNow, kDefaultMaxWindowSeconds, &bad, &err));
  EXPECT_EQ(err.message.rfind("tz: ", 0), 0u) << err.message;
}

}  // namespace
}  // namespace cdrd
