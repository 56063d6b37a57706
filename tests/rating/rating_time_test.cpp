// ISO-8601 instants of the rating engine, to and from microseconds.
#include "daemon/rating/rating_time.h"

#include <gtest/gtest.h>

namespace cdrd {
namespace {

TEST(RatingTime, ParsesTheAcceptedForms) {
  // 2024-05-01T00:00:00Z = 1714521600 s (19844 days after 1970-01-01).
  EXPECT_EQ(parse_iso_time_us("2024-05-01"), 1714521600LL * 1000000);
  EXPECT_EQ(parse_iso_time_us("2024-05-01T00:00:00Z"), 1714521600LL * 1000000);
  EXPECT_EQ(parse_iso_time_us("2024-05-01 16:55:53.518"),
            (1714521600LL + 16LL * 3600 + 55LL * 60 + 53) * 1000000 + 518000);
  EXPECT_EQ(parse_iso_time_us("2024-05-01T16:55:53.518000Z"), (1714521600LL + 60953) * 1000000 + 518000);
  EXPECT_EQ(parse_iso_time_us("2024-05-01T02:00:00+02:00"), 1714521600LL * 1000000);
  EXPECT_EQ(parse_iso_time_us("2024-04-30T22:30:00-01:30"), 1714521600LL * 1000000);
  EXPECT_EQ(parse_iso_time_us("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso_time_us("2024-02-29"), (1714521600LL - 62LL * 86400) * 1000000);
}

TEST(RatingTime, RefusesImpossibleOrOtherText) {
  for (const char* bad : {"", "2023-02-29", "2024-13-01", "2024-04-31", "2024-05-01T24:00:00Z", "2024-05-01T10:60:00",
                          "2024-05-01T10:00", "2024-05-01T10:00:00.", "2024-05-01T10:00:00.1234567",
                          "2024-05-01T10:00:00X", "24-05-01", "2024/05/01", "0999-01-01", "2024-05-01T10:00:00Z "}) {
    EXPECT_FALSE(parse_iso_time_us(bad).has_value()) << bad;
  }
}

TEST(RatingTime, FormatsUtc) {
  EXPECT_EQ(format_iso_time_us(1714521600LL * 1000000), "2024-05-01T00:00:00Z");
  EXPECT_EQ(format_iso_time_us((1714521600LL + 60953) * 1000000 + 518000), "2024-05-01T16:55:53.518000Z");
  EXPECT_EQ(format_iso_time_us(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso_time_us(-1), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace cdrd
