// Decimal: strict parsing of money text and writing it back with each
// rounding. Expected strings are worked out by hand.
#include "daemon/rating/decimal.h"

#include <gtest/gtest.h>

#include <string>

namespace cdrd {
namespace {

Decimal dec(const std::string& text) {
  const auto d = Decimal::parse(text);
  EXPECT_TRUE(d.has_value()) << text;
  return d.value_or(Decimal());
}

// a / b as an exact Decimal.
Decimal ratio(long a, long b) { return Decimal(mpq_class(a, b)); }

TEST(Decimal, ParsesPlainDecimalText) {
  EXPECT_EQ(dec("0.012").to_string(), "0.012");
  EXPECT_EQ(dec("0.010").to_string(), "0.01");
  EXPECT_EQ(dec("12").to_string(), "12");
  EXPECT_EQ(dec("007.50").to_string(), "7.5");
  EXPECT_EQ(dec("0").to_string(), "0");
  EXPECT_EQ(dec("0.000").to_string(), "0");
  EXPECT_EQ(dec("-1.5").to_string(), "-1.5");
  EXPECT_TRUE(dec("-1.5").is_negative());
  EXPECT_TRUE(dec("0.0").is_zero());
  EXPECT_EQ(dec("0.012"), ratio(12, 1000));
  EXPECT_EQ(dec("0.000000000001").to_string(), "0.000000000001");
  // Up to 18 digits before the point and 12 after: beyond one machine word.
  EXPECT_EQ(dec("123456789012345678.123456789012").to_string(), "123456789012345678.123456789012");
}

TEST(Decimal, RefusesAnythingElse) {
  for (const char* bad : {"", "-", "+1", "1.", ".5", "1e3", "1E3", "0,5", " 1", "1 ", "--1", "1.2.3", "0x10", "1/3",
                          "NaN", "inf", "0.0000000000001", "1234567890123456789", "１"}) {
    EXPECT_FALSE(Decimal::parse(bad).has_value()) << bad;
  }
}

TEST(Decimal, WritesWithEachRounding) {
  // 0.2 + 0.1 + 35 * 0.05 / 60 = 0.3291666...
  const Decimal x = dec("0.3") + ratio(175, 6000);  // 35 s * 0.05 / 60
  EXPECT_EQ(x.to_string(4, PriceRounding::kUp), "0.3292");
  EXPECT_EQ(x.to_string(4, PriceRounding::kDown), "0.3291");
  EXPECT_EQ(x.to_string(4, PriceRounding::kHalfUp), "0.3292");
  EXPECT_EQ(x.to_string(2, PriceRounding::kHalfUp), "0.33");
  EXPECT_EQ(x.to_string(0, PriceRounding::kUp), "1");
  EXPECT_EQ(x.to_string(0, PriceRounding::kDown), "0");
  // none: exact, and a value that never ends is cut half up at 12 places.
  EXPECT_EQ(x.to_string(4, PriceRounding::kNone), "0.329166666667");
  EXPECT_EQ(ratio(1, 3).to_string(), "0.333333333333");
  EXPECT_EQ(ratio(1, 8).to_string(4, PriceRounding::kNone), "0.125");
  // Trailing zeros go: 0.3 rounded up to 4 places is "0.3", not "0.3000".
  EXPECT_EQ(dec("0.3").to_string(4, PriceRounding::kUp), "0.3");
  EXPECT_EQ(Decimal().to_string(4, PriceRounding::kUp), "0");
}

TEST(Decimal, TiesAndNegatives) {
  EXPECT_EQ(dec("0.00005").to_string(4, PriceRounding::kHalfUp), "0.0001");
  EXPECT_EQ(dec("0.00004999").to_string(4, PriceRounding::kHalfUp), "0");
  EXPECT_EQ(dec("-0.00005").to_string(4, PriceRounding::kHalfUp), "-0.0001");
  EXPECT_EQ(dec("2.5").to_string(0, PriceRounding::kHalfUp), "3");
  EXPECT_EQ(dec("-2.5").to_string(0, PriceRounding::kHalfUp), "-3");
  EXPECT_EQ(dec("-0.12341").to_string(4, PriceRounding::kUp), "-0.1234");
  EXPECT_EQ(dec("-0.12341").to_string(4, PriceRounding::kDown), "-0.1235");
  EXPECT_EQ(dec("0.00001").to_string(4, PriceRounding::kUp), "0.0001");
  EXPECT_EQ(dec("0.00009").to_string(4, PriceRounding::kDown), "0");
}

TEST(Decimal, Arithmetic) {
  EXPECT_EQ((dec("0.1") + dec("0.2")).to_string(), "0.3");
  EXPECT_EQ((dec("0.3") - dec("0.1")).to_string(), "0.2");
  EXPECT_EQ((dec("0.012") * Decimal::from_integer(60)).to_string(), "0.72");
  EXPECT_TRUE(dec("0.1") < dec("0.11"));
  EXPECT_EQ(Decimal::from_integer(-7).to_string(), "-7");
}

TEST(Decimal, BeyondMachineWords) {
  // The numerator does not fit 64 bits: GMP's own division does the rounding.
  const Decimal big = dec("-123456789012345678.123456789012");
  EXPECT_EQ(big.to_string(4, PriceRounding::kUp), "-123456789012345678.1234");
  EXPECT_EQ(big.to_string(4, PriceRounding::kDown), "-123456789012345678.1235");
  EXPECT_EQ(big.to_string(4, PriceRounding::kHalfUp), "-123456789012345678.1235");
  EXPECT_EQ(big.to_string(0, PriceRounding::kHalfUp), "-123456789012345678");
  // Its square, worked out with Python's fractions.Fraction.
  EXPECT_EQ((big * big).to_string(2, PriceRounding::kDown), "15241578753238836558451457271672004.47");
}

TEST(Decimal, RoundingNames) {
  for (const char* name : {"none", "up", "down", "half_up"}) {
    const auto r = parse_price_rounding(name);
    ASSERT_TRUE(r.has_value()) << name;
    EXPECT_EQ(price_rounding_name(*r), name);
  }
  EXPECT_FALSE(parse_price_rounding("nearest").has_value());
}

}  // namespace
}  // namespace cdrd
