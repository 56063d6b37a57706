// The charge of one call under one rate: the test vectors as
// literals, and the edges of the formula (initial interval, grace, attempt
// fee, duration rounding).
#include "daemon/rating/charge.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/rating/rating_snapshot.h"

namespace cdrd {
namespace {

Decimal dec(const std::string& text) { return Decimal::parse(text).value(); }

int64_t at(const std::string& iso) { return parse_iso_time_us(iso).value(); }

// ii=60, ir=0.012, ni=6, nr=0.010, fee=0.005.
RateEntry yeti_rate() {
  RateEntry e;
  e.prefix = "33";
  e.name = "France";
  e.initial_interval = 60;
  e.initial_rate = dec("0.012");
  e.next_interval = 6;
  e.next_rate = dec("0.010");
  e.connect_fee = dec("0.005");
  return e;
}

// (0 s, 0.1/min, 60 s increments), (60 s, 0.05/min, 1 s increments), connect fee 0.2.
RateEntry tiered_rate() {
  RateEntry e;
  e.prefix = "44";
  std::string error;
  EXPECT_TRUE(parse_tiers("0:0.1:60;60:0.05:1", &e.tiers, &error)) << error;
  e.connect_fee = dec("0.2");
  return e;
}

TEST(Charge, AnsweredSecondsFromMicroseconds) {
  const int64_t answer = at("2024-05-01T16:55:53.518Z");
  const int64_t end = at("2024-05-01T16:57:28.918Z");  // 95.4 s later
  EXPECT_EQ(rounded_answered_seconds(answer, end, DurationRounding::kNearest), 95);
  EXPECT_EQ(rounded_answered_seconds(answer, end, DurationRounding::kUp), 96);
  EXPECT_EQ(rounded_answered_seconds(answer, end, DurationRounding::kDown), 95);
  // Exactly half a second rounds up with nearest; a whole second stays.
  EXPECT_EQ(rounded_answered_seconds(0, 2500000, DurationRounding::kNearest), 3);
  EXPECT_EQ(rounded_answered_seconds(0, 2499999, DurationRounding::kNearest), 2);
  EXPECT_EQ(rounded_answered_seconds(0, 3000000, DurationRounding::kUp), 3);
  EXPECT_EQ(rounded_answered_seconds(0, 3000001, DurationRounding::kUp), 4);
  EXPECT_EQ(rounded_answered_seconds(5000000, 4000000, DurationRounding::kUp), 0);
}

TEST(Charge, YetiVectorNearestRounding) {
  // d = 95: 0.005 + 60*0.012/60 + ceil(35/6)*6 * 0.010/60 = 0.005 + 0.012 + 0.006.
  DeckSettings settings;
  settings.name = "retail";
  settings.currency = "USD";
  settings.duration_rounding = DurationRounding::kNearest;
  LegToRate leg;
  leg.callee_digits = "33170363950";
  leg.start_us = at("2024-05-01T16:55:40Z");
  leg.answer_us = at("2024-05-01T16:55:53.518Z");
  leg.end_us = at("2024-05-01T16:57:28.918Z");
  const RatingOutcome out = rate_with(settings, yeti_rate(), leg, "2024-05-01T17:00:00Z");
  ASSERT_TRUE(out.rated);
  EXPECT_EQ(out.charge, "0.023");
  EXPECT_EQ(out.billed_seconds, 96);
  EXPECT_EQ(out.json(),
            "{\"deck\":\"retail\",\"prefix\":\"33\",\"name\":\"France\",\"initial_interval\":60,"
            "\"initial_rate\":\"0.012\",\"next_interval\":6,\"next_rate\":\"0.01\",\"connect_fee\":\"0.005\","
            "\"billed_seconds\":96,\"charge\":\"0.023\",\"currency\":\"USD\",\"rated_at\":\"2024-05-01T17:00:00Z\"}");
}

TEST(Charge, TwoStepEdges) {
  const RateEntry rate = yeti_rate();
  // Shorter than the initial interval: the whole interval is billed.
  Charge c = charge_call(rate, true, 1);
  EXPECT_EQ(c.billed_seconds, 60);
  EXPECT_EQ(c.amount.to_string(), "0.017");
  c = charge_call(rate, true, 60);
  EXPECT_EQ(c.billed_seconds, 60);
  EXPECT_EQ(c.amount.to_string(), "0.017");
  // One second past it: one whole next interval (6 s at 0.010/min = 0.001).
  c = charge_call(rate, true, 61);
  EXPECT_EQ(c.billed_seconds, 66);
  EXPECT_EQ(c.amount.to_string(), "0.018");
  c = charge_call(rate, true, 97);  // ceil(37/6) = 7 intervals = 42 s = 0.007
  EXPECT_EQ(c.billed_seconds, 102);
  EXPECT_EQ(c.amount.to_string(), "0.024");
  // 0 answered seconds is an attempt; so is no answer.
  c = charge_call(rate, true, 0);
  EXPECT_EQ(c.billed_seconds, 0);
  EXPECT_EQ(c.amount.to_string(), "0");
  c = charge_call(rate, false, 0);
  EXPECT_EQ(c.billed_seconds, 0);
  EXPECT_EQ(c.amount.to_string(), "0");
}

TEST(Charge, GraceAndAttemptFee) {
  RateEntry rate = yeti_rate();
  rate.grace_seconds = 5;
  rate.attempt_fee = dec("0.0015");
  Charge c = charge_call(rate, false, 0);
  EXPECT_EQ(c.billed_seconds, 0);
  EXPECT_EQ(c.amount.to_string(), "0.0015");
  c = charge_call(rate, true, 5);
  EXPECT_EQ(c.billed_seconds, 0);
  EXPECT_EQ(c.amount.to_string(), "0.0015");
  c = charge_call(rate, true, 6);
  EXPECT_EQ(c.billed_seconds, 60);
  EXPECT_EQ(c.amount.to_string(), "0.017");
}

TEST(Charge, NoInitialInterval) {
  // Per-second billing from the first second: 0 + ceil(7/1)*1 * 0.6/60 = 0.07.
  RateEntry rate;
  rate.prefix = "1";
  rate.initial_interval = 0;
  rate.next_interval = 1;
  rate.next_rate = dec("0.6");
  const Charge c = charge_call(rate, true, 7);
  EXPECT_EQ(c.billed_seconds, 7);
  EXPECT_EQ(c.amount.to_string(), "0.07");
}

TEST(Charge, TieredVector) {
  DeckSettings settings;
  settings.name = "tiered";
  settings.currency = "EUR";
  settings.price_rounding = PriceRounding::kUp;
  settings.decimals = 4;
  // 95 s: 0.2 + 60*0.1/60 + 35*0.05/60 = 0.32916... -> 0.3292 (up, 4 places).
  Charge c = charge_call(tiered_rate(), true, 95);
  EXPECT_EQ(c.billed_seconds, 95);
  EXPECT_EQ(c.amount.to_string(settings.decimals, settings.price_rounding), "0.3292");
  // 30 s: the first tier's 60 s increment bills 60 s: 0.2 + 0.1 = 0.3.
  c = charge_call(tiered_rate(), true, 30);
  EXPECT_EQ(c.billed_seconds, 60);
  EXPECT_EQ(c.amount.to_string(settings.decimals, settings.price_rounding), "0.3");
  // Through rate_with, as stored: "tiers" instead of the two-step fields.
  LegToRate leg;
  leg.callee_digits = "4420";
  leg.answer_us = at("2024-05-01T10:00:00Z");
  leg.end_us = at("2024-05-01T10:01:35Z");
  const RatingOutcome out = rate_with(settings, tiered_rate(), leg, "2024-05-01T11:00:00Z");
  EXPECT_EQ(out.json(),
            "{\"deck\":\"tiered\",\"prefix\":\"44\",\"tiers\":\"0:0.1:60;60:0.05:1\",\"connect_fee\":\"0.2\","
            "\"billed_seconds\":95,\"charge\":\"0.3292\",\"currency\":\"EUR\",\"rated_at\":\"2024-05-01T11:00:00Z\"}");
}

TEST(Charge, TiersBeyondTwoSteps) {
  // 0-30 s at 1.2/min in 30 s, 30-90 s at 0.6/min in 10 s, 90 s on at 0.3/min in 1 s.
  RateEntry rate;
  std::string error;
  ASSERT_TRUE(parse_tiers("0:1.2:30;30:0.6:10;90:0.3:1", &rate.tiers, &error)) << error;
  // 100 s: 30 s = 0.6, 60 s = 0.6, 10 s = 0.05 -> 1.25, billed 100.
  Charge c = charge_call(rate, true, 100);
  EXPECT_EQ(c.billed_seconds, 100);
  EXPECT_EQ(c.amount.to_string(), "1.25");
  // 45 s: 30 s = 0.6; 15 s rounded up to 20 s = 0.2 -> 0.8, billed 50.
  c = charge_call(rate, true, 45);
  EXPECT_EQ(c.billed_seconds, 50);
  EXPECT_EQ(c.amount.to_string(), "0.8");
}

TEST(Charge, TierSyntax) {
  std::vector<RateTier> tiers;
  std::string error;
  EXPECT_TRUE(parse_tiers("0:0.1:60", &tiers, &error));
  EXPECT_EQ(format_tiers(tiers), "0:0.1:60");
  EXPECT_FALSE(parse_tiers("5:0.1:60", &tiers, &error));
  EXPECT_EQ(error, "tier 1 starts at 5 s; the first tier starts at 0");
  EXPECT_FALSE(parse_tiers("0:0.1:60;0:0.2:1", &tiers, &error));
  EXPECT_EQ(error, "tier 2 starts at 0 s, not after the tier before it (0 s)");
  EXPECT_FALSE(parse_tiers("0:0.1:0", &tiers, &error));
  EXPECT_FALSE(parse_tiers("0:-0.1:60", &tiers, &error));
  EXPECT_FALSE(parse_tiers("0:0.1", &tiers, &error));
  EXPECT_FALSE(parse_tiers("0:0.1:60;", &tiers, &error));
  EXPECT_FALSE(parse_tiers("", &tiers, &error));
}

}  // namespace
}  // namespace cdrd
