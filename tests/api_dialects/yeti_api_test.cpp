// The pure parts of Yeti's routes (yeti_api.h): the list's parameters as the
// read core's RowWindow (window, conditions, order, page), the refusals in
// jsonapi-resources' shape naming the parameter, the pagination links as
// Rails writes them, the login body, the credential header and the accounts
// a credential names. Values worked out by hand; "now" is fixed at
// 2026-03-01T12:00:00Z (Unix 1772366400).
#include "daemon/api/yeti/yeti_api.h"
#include "daemon/api/api_access.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/api/api_settings.h"
#include "daemon/auth/token_signer.h"
#include "tests/api_dialects/dialect_test_support.h"

namespace cdrd::test {
namespace {

constexpr int64_t kNow = 1772366400;  // 2026-03-01T12:00:00Z
constexpr int64_t kMaxWindow = 2682000;
constexpr const char* kCollection = "http://example.org/api/rest/customer/v1/incoming-cdrs";

YetiListRequest parsed(const ApiParams& params) {
  YetiListRequest out;
  YetiError err;
  EXPECT_TRUE(parse_yeti_list(params, kNow, kMaxWindow, &out, &err)) << err.detail;
  return out;
}

YetiError refused(const ApiParams& params) {
  YetiListRequest out;
  YetiError err;
  EXPECT_FALSE(parse_yeti_list(params, kNow, kMaxWindow, &out, &err));
  EXPECT_EQ(err.status, 400);
  return err;
}

void expect_condition(const RowCondition& c, const std::string& column, RowCondition::Op op,
                      const std::vector<std::string>& values, const std::string& cast) {
  EXPECT_EQ(c.column, column);
  EXPECT_EQ(c.op, op) << column;
  EXPECT_EQ(c.values, values) << column;
  EXPECT_EQ(c.cast, cast) << column;
}

TEST(YetiApi, DefaultsAreTheLastDayNewestFirstFiftyAPage) {
  const YetiListRequest list = parsed({});
  EXPECT_EQ(list.page_number, 1);
  EXPECT_EQ(list.page_size, 50);
  EXPECT_EQ(list.window.offset, 0);
  EXPECT_EQ(list.window.limit, 50);
  EXPECT_EQ(list.window.order_by, "c.started_at DESC, c.row_seq DESC");
  // yeti's default filter time_start_gteq 24 hours ago; legs end up to a day
  // after they start.
  ASSERT_EQ(list.window.conditions.size(), 1U);
  expect_condition(list.window.conditions[0], "c.started_at", RowCondition::Op::kGte, {"2026-02-28T12:00:00Z"},
                   "timestamptz");
  EXPECT_EQ(list.window.from_unix, 1772280000);
  EXPECT_EQ(list.window.to_unix, 1772452800);
  EXPECT_TRUE(list.kept.empty());
}

TEST(YetiApi, TimeStartFiltersReplaceTheDefaultWindow) {
  const YetiListRequest list = parsed(
      {{"filter[time-start_gteq]", "2026-02-27 14:55:53"}, {"filter[time_start_lt]", "2026-02-27T16:55:53.518Z"}});
  ASSERT_EQ(list.window.conditions.size(), 2U);
  // std::map order: "filter[time-start_gteq]" < "filter[time_start_lt]".
  expect_condition(list.window.conditions[0], "c.started_at", RowCondition::Op::kGte, {"2026-02-27T14:55:53Z"},
                   "timestamptz");
  expect_condition(list.window.conditions[1], "c.started_at", RowCondition::Op::kLt, {"2026-02-27T16:55:53.518000Z"},
                   "timestamptz");
  EXPECT_EQ(list.window.from_unix, 1772204153);
  // 16:55:53.518 rounds up to :54, plus a day.
  EXPECT_EQ(list.window.to_unix, 1772211354 + 86400);
  // An offset is read: 16:55:53+02:00 is 14:55:53Z; a date is its midnight.
  const YetiListRequest eq = parsed({{"filter[time-start_eq]", "2026-02-27T16:55:53+02:00"}});
  expect_condition(eq.window.conditions[0], "c.started_at", RowCondition::Op::kEq, {"2026-02-27T14:55:53Z"},
                   "timestamptz");
  EXPECT_EQ(eq.window.from_unix, 1772204153);
  // The same with the '+' unescaped in the query (decoded as a space).
  EXPECT_EQ(parsed({{"filter[time-start_eq]", "2026-02-27T16:55:53 02:00"}}).window.conditions[0].values,
            std::vector<std::string>{"2026-02-27T14:55:53Z"});
  EXPECT_EQ(eq.window.to_unix, 1772204153 + 86400);
  const YetiListRequest in = parsed({{"filter[time-start_in]", "2026-02-27,2026-02-27 14:55:53"}});
  expect_condition(in.window.conditions[0], "c.started_at", RowCondition::Op::kIn,
                   {"2026-02-27T00:00:00Z", "2026-02-27T14:55:53Z"}, "timestamptz");
  EXPECT_EQ(in.window.from_unix, 1772150400);
  EXPECT_EQ(in.window.to_unix, 1772204153 + 86400);
}

TEST(YetiApi, EachPredicateBecomesAConditionOnItsColumn) {
  const YetiListRequest list = parsed({{"filter[duration_gt]", "10"},
                                       {"filter[duration_lteq]", "60"},
                                       {"filter[id_in]", "24,25"},
                                       {"filter[success_eq]", "TRUE"},
                                       {"filter[src-prefix-out_start]", "3317"},
                                       {"filter[term-call-id_cont]", "AbC"},
                                       {"filter[time-end_lt]", "2026-03-01 11:00:00"},
                                       {"filter[dst-prefix-out_eq]", "1000"}});
  const auto& c = list.window.conditions;
  ASSERT_EQ(c.size(), 9U);  // the eight, then the default start window
  expect_condition(c[0], "c.callee_id_number", RowCondition::Op::kEq, {"1000"}, "");
  expect_condition(c[1], "c.billing_seconds", RowCondition::Op::kGt, {"10"}, "bigint");
  expect_condition(c[2], "c.billing_seconds", RowCondition::Op::kLte, {"60"}, "bigint");
  expect_condition(c[3], "c.row_seq", RowCondition::Op::kIn, {"24", "25"}, "bigint");
  expect_condition(c[4], "lower(c.caller_id_number)", RowCondition::Op::kPrefix, {"3317"}, "");
  expect_condition(c[5], "(c.billing_status IS NOT DISTINCT FROM 'answered')", RowCondition::Op::kEq, {"true"},
                   "boolean");
  expect_condition(c[6], "lower(c.sip_call_id)", RowCondition::Op::kContains, {"abc"}, "");
  expect_condition(c[7], "(c.record->>'ended_at')::timestamptz", RowCondition::Op::kLt, {"2026-03-01T11:00:00Z"},
                   "timestamptz");
  expect_condition(c[8], "c.started_at", RowCondition::Op::kGte, {"2026-02-28T12:00:00Z"}, "timestamptz");

  // The routing numbers are the root's (the attempt's own when it is the
  // root): e164 digits, else the digits of the number.
  const YetiListRequest routing = parsed({{"filter[src_prefix_routing_eq]", "33170363950"}});
  EXPECT_EQ(routing.window.conditions[0].column,
            "COALESCE(NULLIF(regexp_replace((CASE WHEN r.row_seq IS NULL THEN c.caller_e164 ELSE r.caller_e164 END), "
            "'[^0-9]', '', 'g'), ''), NULLIF(regexp_replace((CASE WHEN r.row_seq IS NULL THEN c.caller_id_number ELSE "
            "r.caller_id_number END), '[^0-9]', '', 'g'), ''))");
}

TEST(YetiApi, SortAndPage) {
  YetiListRequest list = parsed({{"sort", "duration,-time-end"}, {"page[number]", "3"}, {"page[size]", "20"}});
  EXPECT_EQ(list.window.order_by, "c.billing_seconds ASC, (c.record->>'ended_at')::timestamptz DESC, c.row_seq ASC");
  EXPECT_EQ(list.window.offset, 40);
  EXPECT_EQ(list.window.limit, 20);
  EXPECT_EQ(parsed({{"sort", "-id,time_start"}}).window.order_by, "c.row_seq DESC, c.started_at ASC");
  EXPECT_EQ(parsed({{"sort", ""}}).window.order_by, "c.started_at DESC, c.row_seq DESC");
  EXPECT_EQ(parsed({{"page[size]", "1000"}}).window.limit, 1000);
}

TEST(YetiApi, RefusalsNameTheParameterInJsonApiShape) {
  YetiError e = refused({{"filter[legb-local-tag_eq]", "x"}});
  EXPECT_EQ(e.code, "102");
  EXPECT_EQ(e.title, "Filter not allowed");
  EXPECT_EQ(e.detail.rfind("filter[legb-local-tag_eq] is not allowed.", 0), 0U) << e.detail;
  EXPECT_EQ(refused({{"filter[success_gt]", "true"}}).code, "102");
  EXPECT_EQ(refused({{"filter[duration_cont]", "1"}}).code, "102");
  EXPECT_EQ(refused({{"filter[src-prefix-out_gteq]", "1"}}).code, "102");

  e = refused({{"filter[duration_gt]", "ten"}});
  EXPECT_EQ(e.code, "107");
  EXPECT_EQ(e.title, "Invalid filter value");
  EXPECT_EQ(e.detail, "ten is not a valid value for filter[duration_gt]. Expected a non-negative integer.");
  EXPECT_EQ(refused({{"filter[duration_eq]", "1,2"}}).code, "107");
  EXPECT_EQ(refused({{"filter[duration_eq]", ""}}).code, "107");
  EXPECT_EQ(refused({{"filter[success_eq]", "maybe"}}).code, "107");
  e = refused({{"filter[time-end_gt]", "yesterday"}});
  EXPECT_EQ(e.detail.rfind("yesterday is not a valid value for filter[time-end_gt].", 0), 0U) << e.detail;
  // 31 days and an hour at most: 2026-01-01 .. now is 59.5 days.
  e = refused({{"filter[time-start_gteq]", "2026-01-01"}});
  EXPECT_EQ(e.code, "107");
  EXPECT_EQ(e.detail.rfind("2026-01-01 is not a valid value for filter[time-start_gteq]. The time-start range", 0), 0U)
      << e.detail;
  EXPECT_EQ(refused({{"filter", "x"}}).code, "120");

  e = refused({{"sort", "time-connect"}});
  EXPECT_EQ(e.code, "114");
  EXPECT_EQ(e.title, "Invalid sort criteria");
  EXPECT_EQ(e.detail.rfind("time-connect is not a valid sort criteria for incoming-cdrs", 0), 0U) << e.detail;

  e = refused({{"page[size]", "1001"}});
  EXPECT_EQ(e.code, "118");
  EXPECT_EQ(e.detail, "page[size]=1001 exceeds the maximum of 1000.");
  e = refused({{"page[number]", "0"}});
  EXPECT_EQ(e.detail, "0 is not a valid value for page[number] (an integer from 1).");
  EXPECT_EQ(refused({{"page[size]", "x"}}).code, "118");
  e = refused({{"page[offset]", "3"}});
  EXPECT_EQ(e.code, "105");
  EXPECT_EQ(e.detail.rfind("page[offset] is not an allowed page parameter", 0), 0U) << e.detail;
  EXPECT_EQ(refused({{"include", "account"}}).code, "105");
  EXPECT_EQ(refused({{"fields[incoming-cdrs]", "duration"}}).code, "105");

  // Unknown top-level parameters are ignored; the account filter is the
  // dialect's.
  const YetiListRequest list = parsed({{"foo", "1"}, {"filter[account_id_eq]", "acct-a"}, {"auth_token", "t"}});
  EXPECT_EQ(list.ignored, std::vector<std::string>{"foo"});
  EXPECT_EQ(list.window.conditions.size(), 1U);
}

TEST(YetiApi, ErrorBodyIsJsonApiWithStringStatusAndCode) {
  EXPECT_EQ(yeti_error_body(yeti_not_found("24")),
            R"({"errors":[{"title":"Record not found","detail":"The record identified by 24 could not be found.",)"
            R"("code":"404","status":"404"}]})");
  const YetiError core = yeti_error_of({503, "database_unavailable", "the database is unreachable"});
  EXPECT_EQ(yeti_error_body(core),
            R"({"errors":[{"title":"Service Unavailable","detail":"the database is unreachable","code":"503",)"
            R"("status":"503"}]})");
  EXPECT_EQ(yeti_error_of({401, "unauthorized", "x"}).title, "Authorization failed");
  EXPECT_EQ(yeti_error_body(yeti_login_failed()),
            R"({"errors":[{"title":"Authentication failed","detail":"Incorrect login or password.","code":"401",)"
            R"("status":"401"}]})");
  int64_t seq = 0;
  YetiError err;
  EXPECT_TRUE(parse_yeti_id("24", &seq, &err));
  EXPECT_EQ(seq, 24);
  EXPECT_FALSE(parse_yeti_id("abc", &seq, &err));
  EXPECT_EQ(err.code, "103");
  EXPECT_EQ(err.detail.rfind("abc is not a valid value for id", 0), 0U);
}

TEST(YetiApi, PageLinksKeepTheParametersAsRailsWritesThem) {
  const YetiListRequest list = parsed({{"filter[time-start_gteq]", "2026-02-28 12:00:00"},
                                       {"sort", "-duration"},
                                       {"account_id", "acct a"},
                                       {"page[number]", "2"},
                                       {"page[size]", "2"}});
  // Sorted "k=v" pairs, CGI-escaped (brackets, ':' and ' ' as '+').
  EXPECT_EQ(yeti_page_link(kCollection, list, 3),
            std::string(kCollection) +
                "?account_id=acct+a&filter%5Btime-start_gteq%5D=2026-02-28+12%3A00%3A00&page%5Bnumber%5D=3&"
                "page%5Bsize%5D=2&sort=-duration");

  // Five rows, two a page, page 2: first 1, prev 1, next 3, last 3.
  AttemptPage page;
  page.total = 5;
  page.rows.push_back(AttemptRow{24, libresbc_bleg(), libresbc_root()});
  page.rows.push_back(AttemptRow{7, tinycdr_root(), tinycdr_root()});
  const rapidjson::Document doc = parse_json_strict(yeti_list_body(page, list, kCollection));
  EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"data", "meta", "links"}));
  ASSERT_TRUE(doc["data"].IsArray());
  ASSERT_EQ(doc["data"].Size(), 2U);
  EXPECT_EQ(std::string(doc["data"][0]["id"].GetString()), "24");
  EXPECT_EQ(std::string(doc["data"][1]["links"]["self"].GetString()), std::string(kCollection) + "/7");
  EXPECT_EQ(doc["meta"]["total-count"].GetInt64(), 5);
  EXPECT_EQ(keys_of(doc["links"]), (std::vector<std::string>{"first", "prev", "next", "last"}));
  EXPECT_EQ(std::string(doc["links"]["first"].GetString()), yeti_page_link(kCollection, list, 1));
  EXPECT_EQ(std::string(doc["links"]["prev"].GetString()), yeti_page_link(kCollection, list, 1));
  EXPECT_EQ(std::string(doc["links"]["next"].GetString()), yeti_page_link(kCollection, list, 3));
  EXPECT_EQ(std::string(doc["links"]["last"].GetString()), yeti_page_link(kCollection, list, 3));

  // The last page has no next; an empty list's last page is 1.
  const YetiListRequest third = parsed({{"page[number]", "3"}, {"page[size]", "2"}});
  const rapidjson::Document last = parse_json_strict(yeti_list_body(page, third, kCollection));
  EXPECT_EQ(keys_of(last["links"]), (std::vector<std::string>{"first", "prev", "last"}));
  const rapidjson::Document empty = parse_json_strict(yeti_list_body(AttemptPage{}, parsed({}), kCollection));
  EXPECT_EQ(keys_of(empty["links"]), (std::vector<std::string>{"first", "last"}));
  EXPECT_EQ(std::string(empty["links"]["last"].GetString()),
            std::string(kCollection) + "?page%5Bnumber%5D=1&page%5Bsize%5D=50");
  EXPECT_EQ(empty["meta"]["total-count"].GetInt64(), 0);

  // One row: {"data": the seed's object}.
  const rapidjson::Document one = parse_json_strict(yeti_single_body(page.rows[0], kCollection));
  EXPECT_EQ(keys_of(one), std::vector<std::string>{"data"});
  EXPECT_EQ(std::string(one["data"]["type"].GetString()), "incoming-cdrs");
}

TEST(YetiApi, LoginBodyTokenAndCredentialHeader) {
  YetiLogin login;
  YetiError err;
  ASSERT_TRUE(parse_yeti_login(R"({"auth":{"login":"alice","password":"p@ss w0rd"}})", &login, &err));
  EXPECT_EQ(login.login, "alice");
  EXPECT_EQ(login.password, "p@ss w0rd");
  EXPECT_FALSE(parse_yeti_login("nope", &login, &err));
  EXPECT_EQ(err.status, 400);
  EXPECT_FALSE(parse_yeti_login(R"({"login":"alice"})", &login, &err));
  EXPECT_EQ(err.detail.rfind("The required parameter, auth,", 0), 0U) << err.detail;
  EXPECT_FALSE(parse_yeti_login(R"({"auth":{"login":"alice"}})", &login, &err));
  EXPECT_EQ(err.detail.rfind("The required parameter, auth.password,", 0), 0U) << err.detail;
  EXPECT_EQ(yeti_token_body("a.b"), R"({"jwt":"a.b"})");

  EXPECT_EQ(yeti_authorization_token("eyJ.x.y"), "eyJ.x.y");
  EXPECT_EQ(yeti_authorization_token("Bearer eyJ.x.y"), "eyJ.x.y");
  EXPECT_EQ(yeti_authorization_token("  Bearer   eyJ.x.y  "), "eyJ.x.y");
  EXPECT_EQ(yeti_authorization_token(""), "");
}

TEST(YetiApi, CredentialAccountsWithoutTheDatabase) {
  ApiSettings settings;
  settings.auth = ApiAuth({ApiKey{"one-key", {"acct-a"}}, ApiKey{"all-key", {"*"}}});
  auto signer = std::make_shared<const TokenSigner>("0123456789abcdef0123456789abcdef");
  settings.tokens = signer;
  using Accounts = std::optional<std::vector<std::string>>;
  EXPECT_EQ(credential_accounts(settings, "one-key", kNow), Accounts(std::vector<std::string>{"acct-a"}));
  EXPECT_EQ(credential_accounts(settings, "all-key", kNow), Accounts(std::vector<std::string>{"*"}));
  TokenClaims claims;
  claims.accounts = {"acct-b", "acct-c"};
  claims.user_login = "alice";
  claims.expires_at = kNow + 60;
  EXPECT_EQ(credential_accounts(settings, signer->sign(claims), kNow),
            Accounts(std::vector<std::string>{"acct-b", "acct-c"}));
  // Expired, a stored key (its accounts are in the database), unknown.
  EXPECT_EQ(credential_accounts(settings, signer->sign(claims), kNow + 61), std::nullopt);
  EXPECT_EQ(credential_accounts(settings, "cdrd_0123456789abcdef_secret", kNow), std::nullopt);
  EXPECT_EQ(credential_accounts(settings, "nope", kNow), std::nullopt);
}

}  // namespace
}  // namespace cdrd::test
