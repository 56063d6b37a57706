// Ack-latency summary for the load generator: nearest-rank percentiles over
// every request's latency, so p99 of 200,000 samples is a real sample, not an
// interpolation between two.
#pragma once

#include <cstdint>
#include <vector>

namespace cdrd {

struct LatencySummary {
  uint64_t count = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// Nearest-rank percentile (0 < percent <= 100) of an ascending-sorted,
// non-empty sample: the smallest value with at least `percent`% of the
// samples at or below it.
uint64_t nearest_rank_percentile(const std::vector<uint64_t>& sorted, double percent);

// Sorts `latencies_us` in place and summarizes it in milliseconds; all zero
// when empty.
LatencySummary summarize_latencies(std::vector<uint64_t>* latencies_us);

}  // namespace cdrd
