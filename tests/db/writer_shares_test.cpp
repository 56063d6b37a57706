// next_connection0_share(): how the writer moves connection 0's part of a
// batch until connection 0 (its rows plus the links) and the slowest lane
// take as long. Figures worked out by hand from the formula in the header.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "daemon/db/batch_writer.h"

namespace cdrd {
namespace {

TEST(WriterShares, OneStepByHand) {
  // One lane, connection 0 took 300 µs, the lane 100:
  // step = 0.5 * (100 - 300) * 1 / ((1 + 1) * (300 + 1 * 100)) = -100 / 800 = -0.125.
  EXPECT_DOUBLE_EQ(next_connection0_share(0.5, 300, 100, 1), 0.375);
  // Three lanes, connection 0 took 100 µs, the slowest lane 400:
  // step = 0.5 * 300 * 3 / (4 * (100 + 1200)) = 450 / 5200.
  EXPECT_DOUBLE_EQ(next_connection0_share(0.25, 100, 400, 3), 0.25 + 450.0 / 5200.0);
  // Balanced: no change.
  EXPECT_DOUBLE_EQ(next_connection0_share(0.4, 250, 250, 1), 0.4);
}

TEST(WriterShares, StaysWithinItsBoundsAndIgnoresEmptyTimes) {
  EXPECT_DOUBLE_EQ(next_connection0_share(0.03, 1000000, 1, 1), kMinConnection0Share);
  EXPECT_DOUBLE_EQ(next_connection0_share(0.97, 1, 1000000, 1), kMaxConnection0Share);
  EXPECT_DOUBLE_EQ(next_connection0_share(0.5, 0, 0, 1), 0.5);
  EXPECT_DOUBLE_EQ(next_connection0_share(0.5, 300, 100, 0), 0.5);
}

// A model of the writer: N rows at c µs each, connection 0 with E µs of
// extra work (the links). Balanced when E + c*f*N = c*(1-f)*N/L, i.e.
// f = (1 - L*E/(c*N)) / (1 + L): for one lane, E = 50, c = 1, N = 400,
// f = (1 - 0.125) / 2 = 0.4375; for two lanes, E = 60, N = 600,
// f = (1 - 0.2) / 3 = 0.2666...
double settle(double e, double n, size_t lanes) {
  double f = 1.0 / static_cast<double>(lanes + 1);
  for (int batch = 0; batch < 40; ++batch) {
    const auto t0 = static_cast<uint64_t>(std::llround(e + f * n));
    const auto tl = static_cast<uint64_t>(std::llround((1 - f) * n / static_cast<double>(lanes)));
    f = next_connection0_share(f, t0, tl, lanes);
  }
  return f;
}

TEST(WriterShares, SettlesWhereConnectionZeroAndTheLanesFinishTogether) {
  EXPECT_NEAR(settle(50, 400, 1), 0.4375, 0.005);
  EXPECT_NEAR(settle(60, 600, 2), 0.8 / 3, 0.005);
}

}  // namespace
}  // namespace cdrd
