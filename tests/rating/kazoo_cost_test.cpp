// Kazoo's cost (wht_util.erl) in units of 1/10000 dollar, from units and
// from the channel variables' text. Expected values are worked out by hand.
#include "daemon/rating/kazoo_cost.h"

#include <gtest/gtest.h>

namespace cdrd {
namespace {

KazooRate vector_rate() {
  KazooRate r;
  r.rate_units = 200;  // $0.02 per minute
  r.increment_s = 6;
  r.minimum_s = 30;
  r.surcharge_units = 100;  // $0.01
  return r;
}

TEST(KazooCost, IssueVectorInUnits) {
  // 100 + 30/60*200 + ceil(65/6) * (6/60*200) = 100 + 100 + 11*20 = 420.
  EXPECT_EQ(kazoo_cost_units(vector_rate(), 95), 420);
  EXPECT_EQ(kazoo_units_to_dollars(420), "0.042");
}

TEST(KazooCost, IssueVectorFromChannelVariables) {
  KazooRateVars vars;
  vars.rate = "0.02";
  vars.rate_increment = "6";
  vars.rate_minimum = "30";
  vars.surcharge = "0.01";
  std::string error;
  EXPECT_EQ(kazoo_cost_units(vars, 95, &error), 420) << error;
  KazooRate rate;
  ASSERT_TRUE(kazoo_rate_from_vars(vars, &rate, &error)) << error;
  EXPECT_EQ(rate.rate_units, 200);
  EXPECT_EQ(rate.surcharge_units, 100);
}

TEST(KazooCost, MinimumNoChargeAndZero) {
  KazooRate r = vector_rate();
  EXPECT_EQ(kazoo_cost_units(r, 30), 200);  // at the minimum: surcharge + minimum
  EXPECT_EQ(kazoo_cost_units(r, 1), 200);
  EXPECT_EQ(kazoo_cost_units(r, 31), 220);  // one increment past it
  EXPECT_EQ(kazoo_cost_units(r, 0), 0);
  EXPECT_EQ(kazoo_cost_units(r, -5), 0);
  r.nocharge_time_s = 10;
  EXPECT_EQ(kazoo_cost_units(r, 10), 0);
  EXPECT_EQ(kazoo_cost_units(r, 11), 200);
}

TEST(KazooCost, IncrementZeroIsSixty) {
  KazooRate r = vector_rate();
  r.increment_s = 0;
  // 100 + 100 + ceil(65/60) * 200 = 600.
  EXPECT_EQ(kazoo_cost_units(r, 95), 600);
}

TEST(KazooCost, TruncatesLikeKazoo) {
  // 0.0123 $/min = 123 units; 7 s per second-increment: 7 * (1/60 * 123) = 14.35 -> 14.
  KazooRate r;
  r.rate_units = 123;
  r.increment_s = 1;
  EXPECT_EQ(kazoo_cost_units(r, 7), 14);
  // Discount: trunc(10% of 420) = 42 -> 378; trunc(33% of 420 = 138.6) = 138 -> 282.
  r = vector_rate();
  r.discount_percentage = 10;
  EXPECT_EQ(kazoo_cost_units(r, 95), 378);
  r.discount_percentage = 33;
  EXPECT_EQ(kazoo_cost_units(r, 95), 282);
}

TEST(KazooCost, MissingVariablesTakeKazooDefaults) {
  // Only Rate: increment 60, minimum 0, no surcharge: ceil(95/60) * 200 = 400.
  KazooRateVars vars;
  vars.rate = "0.02";
  std::string error;
  EXPECT_EQ(kazoo_cost_units(vars, 95, &error), 400);
  EXPECT_EQ(kazoo_cost_units(KazooRateVars{}, 95, &error), 0);
  EXPECT_FALSE(KazooRateVars{}.any());
  EXPECT_TRUE(vars.any());
}

TEST(KazooCost, DollarsRoundToTheNearestUnit) {
  KazooRateVars vars;
  vars.rate = "0.00005";  // 0.5 unit: erlang:round/1 goes away from zero
  vars.rate_increment = "60";
  std::string error;
  KazooRate rate;
  ASSERT_TRUE(kazoo_rate_from_vars(vars, &rate, &error));
  EXPECT_EQ(rate.rate_units, 1);
  vars.rate = "0.00004";
  ASSERT_TRUE(kazoo_rate_from_vars(vars, &rate, &error));
  EXPECT_EQ(rate.rate_units, 0);
}

TEST(KazooCost, BadVariablesAreNamed) {
  KazooRateVars vars;
  vars.rate = "abc";
  std::string error;
  EXPECT_FALSE(kazoo_cost_units(vars, 95, &error).has_value());
  EXPECT_EQ(error, "Rate 'abc' is not an amount of dollars of 0 or more");
  vars.rate = "0.02";
  vars.rate_increment = "-6";
  EXPECT_FALSE(kazoo_cost_units(vars, 95, &error).has_value());
  EXPECT_EQ(error, "Rate-Increment '-6' is not a whole number of 0 or more");
}

TEST(KazooCost, FindsBothSpellingsOfTheVariables) {
  const std::map<std::string, std::string> ccvs = {
      {"Rate", "0.02"}, {"rate_increment", "6"}, {"Rate-Minimum", "30"}, {"surcharge", "0.01"}, {"Other", "x"}};
  const KazooRateVars vars = kazoo_rate_vars(ccvs);
  std::string error;
  EXPECT_EQ(kazoo_cost_units(vars, 95, &error), 420) << error;
  EXPECT_FALSE(vars.rate_nocharge_time.has_value());
}

}  // namespace
}  // namespace cdrd
