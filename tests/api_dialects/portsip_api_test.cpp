// PortSIP's routes' pure parts (portsip_api.h): the list's parameters (the
// window, paging, filters and the 400s naming the parameter), the login body
// as JSON and as PortSIP's form, and the documents, against values worked
// out by hand.
#include "daemon/api/portsip/portsip_api.h"
#include "daemon/api/portsip/portsip_item.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/api_dialects/dialect_test_support.h"

namespace cdrd::test {
namespace {

// 2024-05-10T12:00:00Z
constexpr int64_t kNow = 1715342400;
constexpr int64_t kMaxWindow = int64_t{31} * 86400 + 3600;

PortsipListRequest list_ok(const ApiParams& params) {
  PortsipListRequest out;
  ApiError err;
  EXPECT_TRUE(parse_portsip_list(params, kNow, kMaxWindow, &out, &err)) << err.message;
  return out;
}

// The 400's message, which must start with `parameter`.
void expect_bad(const ApiParams& params, const std::string& parameter) {
  PortsipListRequest out;
  ApiError err;
  ASSERT_FALSE(parse_portsip_list(params, kNow, kMaxWindow, &out, &err)) << parameter;
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.message.rfind(parameter + ": ", 0), 0U) << err.message;
}

TEST(PortsipApi, DefaultsAreTheLastDayNewestFirstAHundredRows) {
  const PortsipListRequest r = list_ok({});
  EXPECT_EQ(r.window.to_unix, kNow);
  EXPECT_EQ(r.window.from_unix, kNow - 86400);
  EXPECT_EQ(r.window.offset, 0);
  EXPECT_EQ(r.window.limit, 100);
  EXPECT_EQ(r.window.order_by, "c.ts DESC, c.id DESC");
  EXPECT_TRUE(r.window.conditions.empty());
  EXPECT_TRUE(r.ignored.empty());
}

TEST(PortsipApi, WindowFromIsoTimes) {
  // 2024-05-01T00:00:00Z = 1714521600; 2024-05-02T06:30:15.900Z cut to the second = 1714631415.
  PortsipListRequest r = list_ok({{"start_time", "2024-05-01T00:00:00Z"}, {"end_time", "2024-05-02T06:30:15.900Z"}});
  EXPECT_EQ(r.window.from_unix, 1714521600);
  EXPECT_EQ(r.window.to_unix, 1714631415);
  // An offset is read: 02:00+02:00 is 00:00Z.
  r = list_ok({{"start_time", "2024-05-01T02:00:00+02:00"}});
  EXPECT_EQ(r.window.from_unix, 1714521600);
  EXPECT_EQ(r.window.to_unix, kNow);
  // end_time alone: the day before it.
  r = list_ok({{"end_time", "2024-05-01T00:00:00Z"}});
  EXPECT_EQ(r.window.from_unix, 1714521600 - 86400);
  // Exactly 31 days and an hour is allowed; a second more is not.
  r = list_ok({{"start_time", "2024-04-01T00:00:00Z"}, {"end_time", "2024-05-02T01:00:00Z"}});
  EXPECT_EQ(r.window.to_unix - r.window.from_unix, kMaxWindow);
  expect_bad({{"start_time", "2024-04-01T00:00:00Z"}, {"end_time", "2024-05-02T01:00:01Z"}}, "start_time");
  expect_bad({{"start_time", "2024-05-02T00:00:00Z"}, {"end_time", "2024-05-01T00:00:00Z"}}, "start_time");
  expect_bad({{"start_time", "yesterday"}}, "start_time");
  expect_bad({{"end_time", "2024-02-30T00:00:00Z"}}, "end_time");
  expect_bad({{"end_time", ""}}, "end_time");
}

TEST(PortsipApi, SkipAndTopAreBounded) {
  const PortsipListRequest r = list_ok({{"skip", "250"}, {"top", "25"}});
  EXPECT_EQ(r.window.offset, 250);
  EXPECT_EQ(r.window.limit, 25);
  EXPECT_EQ(list_ok({{"top", "1"}}).window.limit, 1);
  EXPECT_EQ(list_ok({{"skip", "100000"}}).window.offset, 100000);
  expect_bad({{"top", "0"}}, "top");
  expect_bad({{"top", "101"}}, "top");
  expect_bad({{"top", "ten"}}, "top");
  expect_bad({{"top", "-5"}}, "top");
  expect_bad({{"top", ""}}, "top");
  expect_bad({{"skip", "-1"}}, "skip");
  expect_bad({{"skip", "100001"}}, "skip");
  expect_bad({{"skip", "99999999999999999999999"}}, "skip");
  expect_bad({{"skip", "1.5"}}, "skip");
}

TEST(PortsipApi, FiltersBecomeBoundConditions) {
  const PortsipListRequest r = list_ok(
      {{"caller", "1001"}, {"callee", "4420*"}, {"trunk", "carrier-1"}, {"direction", "OUTBOUND_CALL"}, {"x", "1"}});
  ASSERT_EQ(r.window.conditions.size(), 4U);
  const RowCondition& caller = r.window.conditions[0];
  EXPECT_EQ(caller.column, "c.caller_id_number");
  EXPECT_EQ(caller.op, RowCondition::Op::kEq);
  EXPECT_EQ(caller.values, std::vector<std::string>{"1001"});
  const RowCondition& callee = r.window.conditions[1];
  EXPECT_EQ(callee.op, RowCondition::Op::kPrefix);
  EXPECT_EQ(callee.values, std::vector<std::string>{"4420"});
  // The item's callee: the answered (else last) leg's, else the root's.
  EXPECT_EQ(callee.column.rfind("COALESCE((SELECT l.callee_id_number FROM cdrs l", 0), 0U) << callee.column;
  EXPECT_NE(callee.column.find(", c.callee_id_number)"), std::string::npos) << callee.column;
  const RowCondition& trunk = r.window.conditions[2];
  EXPECT_EQ(trunk.column.rfind("COALESCE(c.trunk, (SELECT l.trunk FROM cdrs l", 0), 0U) << trunk.column;
  EXPECT_EQ(trunk.values, std::vector<std::string>{"carrier-1"});
  const RowCondition& direction = r.window.conditions[3];
  EXPECT_EQ(direction.column, "c.direction_class");
  EXPECT_EQ(direction.values, std::vector<std::string>{"outbound"});
  EXPECT_EQ(r.ignored, std::vector<std::string>{"x"});

  for (const auto& [portsip, direction_class] : std::vector<std::pair<std::string, std::string>>{
           {"INBOUND_CALL", "inbound"}, {"INTERNAL_CALL", "internal"}, {"TRANSIT_CALL", "transit"}}) {
    EXPECT_EQ(list_ok({{"direction", portsip}}).window.conditions.at(0).values.at(0), direction_class);
  }
  // account_id and auth_token are the routes', not unknown.
  EXPECT_TRUE(list_ok({{"account_id", "a"}, {"auth_token", "t"}}).ignored.empty());

  expect_bad({{"caller", ""}}, "caller");
  expect_bad({{"caller", "*"}}, "caller");
  expect_bad({{"trunk", "*"}}, "trunk");
  expect_bad({{"direction", "inbound"}}, "direction");
  expect_bad({{"direction", "INBOUND"}}, "direction");
}

TEST(PortsipApi, LoginBodyAsJsonOrForm) {
  PortsipLogin login;
  ApiError err;
  ASSERT_TRUE(parse_portsip_login(R"({"username":"alice","password":"p@ss w0rd"})", false, &login, &err));
  EXPECT_EQ(login.username, "alice");
  EXPECT_EQ(login.password, "p@ss w0rd");
  // PortSIP's form: '+' is a space, %2B a plus; the other fields are ignored.
  ASSERT_TRUE(parse_portsip_login(
      "grant_type=password&username=bob&password=a+b%2Bc%26d&scope=all&client_id=9d806019&domain=pbx.example", true,
      &login, &err))
      << err.message;
  EXPECT_EQ(login.username, "bob");
  EXPECT_EQ(login.password, "a b+c&d");

  const auto bad = [&](const std::string& body, bool form, const std::string& field) {
    ApiError e;
    PortsipLogin l;
    ASSERT_FALSE(parse_portsip_login(body, form, &l, &e)) << body;
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.message.rfind(field, 0), 0U) << e.message;
  };
  bad(R"({"password":"x"})", false, "username: ");
  bad(R"({"username":"alice"})", false, "password: ");
  bad(R"({"username":"alice","password":""})", false, "password: ");
  bad(R"({"username":1,"password":"x"})", false, "username: ");
  bad("not json", false, "the body is not a JSON object");
  bad("grant_type=refresh_token&refresh_token=abc", true, "grant_type: ");
  bad("username=alice", true, "password: ");
}

TEST(PortsipApi, Documents) {
  EXPECT_EQ(portsip_error_body({400, "invalid_parameter", "top: expected \"1\""}),
            R"({"error":{"code":400,"message":"top: expected \"1\""}})");
  EXPECT_EQ(portsip_token_body("abc.def", 3600),
            R"({"access_token":"abc.def","expires_in":3600,"refresh_token":"abc.def","token_type":"Bearer"})");
  EXPECT_EQ(portsip_list_body(CallPage{{}, 0}), R"({"count":0,"items":[]})");

  // The tinycdr call (portsip_item_test.cpp works its item out by hand):
  // one item in the list's and the single route's envelope.
  const CallRow row{tinycdr_root(), std::nullopt};
  const std::string item = written([&](JsonWriter& w) { write_portsip_item(w, row); });
  EXPECT_EQ(portsip_list_body(CallPage{{row}, 7}), R"({"count":7,"items":[)" + item + "]}");
  EXPECT_EQ(portsip_single_body(row), R"({"items":[)" + item + "]}");
}

}  // namespace
}  // namespace cdrd::test
