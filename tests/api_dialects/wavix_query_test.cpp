// Wavix's list parameters (daemon/api/wavix/wavix_query.h) -> RowWindow:
// the window in whole UTC days, the filters' conditions, the page, and the
// 400 messages that name the parameter. Times worked out by hand:
// 2023-08-21T00:00:00Z = 1692576000, 2023-09-20T00:00:00Z = 1695168000.
#include <gtest/gtest.h>

#include <string>

#include "daemon/api/wavix/wavix_query.h"

namespace cdrd {
namespace {

constexpr int64_t kAug21 = 1692576000;
constexpr int64_t kSep20 = 1695168000;

ApiParams base() { return {{"from", "2023-08-21"}, {"to", "2023-08-21"}, {"type", "placed"}}; }

ApiParams with(ApiParams params, const std::string& name, const std::string& value) {
  params[name] = value;
  return params;
}

// The message of a refused query ("" when accepted).
std::string refusal(const ApiParams& params) {
  WavixListQuery q;
  std::string message;
  if (parse_wavix_list_query(params, &q, &message)) return "";
  return message;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

TEST(WavixQuery, DatesAreWholeUtcDays) {
  int64_t day = 0;
  ASSERT_TRUE(parse_wavix_date("2023-08-21", &day));
  EXPECT_EQ(day, kAug21);
  ASSERT_TRUE(parse_wavix_date("1970-01-01", &day));
  EXPECT_EQ(day, 0);
  ASSERT_TRUE(parse_wavix_date("2024-02-29", &day));
  EXPECT_EQ(day, 1709164800);
  for (const char* bad : {"2023-02-29", "2023-13-01", "2023-00-10", "2023-08-32", "2023-8-21", "23-08-21", "2023/08/21",
                          "2023-08-21T00:00:00Z", "+023-08-21", "", "2023-08-2x"}) {
    EXPECT_FALSE(parse_wavix_date(bad, &day)) << bad;
  }
}

TEST(WavixQuery, DefaultsAndTheWindow) {
  WavixListQuery q;
  std::string message;
  ASSERT_TRUE(parse_wavix_list_query(base(), &q, &message)) << message;
  EXPECT_EQ(q.window.from_unix, kAug21);
  EXPECT_EQ(q.window.to_unix, kAug21 + 86399);
  EXPECT_EQ(q.page, 1);
  EXPECT_EQ(q.per_page, 25);
  EXPECT_EQ(q.window.offset, 0);
  EXPECT_EQ(q.window.limit, 25);
  EXPECT_EQ(q.window.order_by, "c.ts DESC, c.id DESC");
  // type=placed and the default disposition (answered).
  ASSERT_EQ(q.window.conditions.size(), 2U);
  EXPECT_EQ(q.window.conditions[0].column, "c.direction_class");
  EXPECT_EQ(q.window.conditions[0].op, RowCondition::Op::kIn);
  EXPECT_EQ(q.window.conditions[0].values, (std::vector<std::string>{"outbound", "transit"}));
  EXPECT_EQ(q.window.conditions[1].column, kWavixDispositionSql);
  EXPECT_EQ(q.window.conditions[1].values, (std::vector<std::string>{"answered"}));

  // 31 days inclusive is the most: 2023-08-21 .. 2023-09-20.
  ASSERT_TRUE(parse_wavix_list_query(with(base(), "to", "2023-09-20"), &q, &message)) << message;
  EXPECT_EQ(q.window.to_unix, kSep20 + 86399);
  EXPECT_TRUE(starts_with(refusal(with(base(), "to", "2023-09-21")), "to: "))
      << refusal(with(base(), "to", "2023-09-21"));
  EXPECT_TRUE(starts_with(refusal(with(base(), "to", "2023-08-20")), "from: "));
}

TEST(WavixQuery, FiltersAndPages) {
  ApiParams p = base();
  p["type"] = "received";
  p["disposition"] = "all";
  p["from_search"] = "+1 430";
  p["to_search"] = "3317";
  p["sip_trunk"] = "32882";
  p["page"] = "3";
  p["per_page"] = "100";
  WavixListQuery q;
  std::string message;
  ASSERT_TRUE(parse_wavix_list_query(p, &q, &message)) << message;
  ASSERT_EQ(q.window.conditions.size(), 4U);
  EXPECT_EQ(q.window.conditions[0].values, (std::vector<std::string>{"inbound", "internal"}));
  EXPECT_EQ(q.window.conditions[1].column, kWavixFromSql);
  EXPECT_EQ(q.window.conditions[1].op, RowCondition::Op::kContains);
  EXPECT_EQ(q.window.conditions[1].values, (std::vector<std::string>{"1430"}));
  EXPECT_EQ(q.window.conditions[2].column, kWavixToSql);
  EXPECT_EQ(q.window.conditions[2].values, (std::vector<std::string>{"3317"}));
  EXPECT_EQ(q.window.conditions[3].column, kWavixTrunkSql);
  EXPECT_EQ(q.window.conditions[3].op, RowCondition::Op::kEq);
  EXPECT_EQ(q.window.conditions[3].values, (std::vector<std::string>{"32882"}));
  EXPECT_EQ(q.window.offset, 200);
  EXPECT_EQ(q.window.limit, 100);
  for (const char* d : {"noanswer", "busy", "failed"}) {
    ASSERT_TRUE(parse_wavix_list_query(with(base(), "disposition", d), &q, &message)) << message;
    EXPECT_EQ(q.window.conditions[1].values, (std::vector<std::string>{d}));
  }
  // The last page the count reaches (100000 calls at 100 a page), and beyond.
  EXPECT_EQ(refusal(with(with(base(), "per_page", "100"), "page", "1000")), "");
  EXPECT_TRUE(starts_with(refusal(with(with(base(), "per_page", "100"), "page", "1001")), "page: "));
}

TEST(WavixQuery, BadValuesNameTheirParameter) {
  ApiParams no_from = base();
  no_from.erase("from");
  EXPECT_TRUE(starts_with(refusal(no_from), "from: required"));
  ApiParams no_to = base();
  no_to.erase("to");
  EXPECT_TRUE(starts_with(refusal(no_to), "to: required"));
  ApiParams no_type = base();
  no_type.erase("type");
  EXPECT_TRUE(starts_with(refusal(no_type), "type: required"));
  const struct {
    const char* name;
    const char* value;
  } cases[] = {{"from", "yesterday"},
               {"to", "2023-02-30"},
               {"type", "outbound"},
               {"disposition", "answer"},
               {"from_search", "abc"},
               {"to_search", "+"},
               {"to_search", ""},
               {"sip_trunk", ""},
               {"page", "0"},
               {"page", "-1"},
               {"page", "1.5"},
               {"per_page", "0"},
               {"per_page", "101"},
               {"per_page", "x"},
               {"from_search", "123456789012345678901234567890123"}};
  for (const auto& c : cases) {
    const std::string message = refusal(with(base(), c.name, c.value));
    EXPECT_TRUE(starts_with(message, std::string(c.name) + ": ")) << c.name << "=" << c.value << ": " << message;
  }
  // Parameters Wavix has and cdrd does not read are ignored.
  EXPECT_EQ(refusal(with(base(), "uuid", "anything")), "");
}

}  // namespace
}  // namespace cdrd
