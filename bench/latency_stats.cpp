#include "bench/latency_stats.h"

#include <algorithm>
#include <cmath>

namespace cdrd {

uint64_t nearest_rank_percentile(const std::vector<uint64_t>& sorted, double percent) {
  const double n = static_cast<double>(sorted.size());
  // The small epsilon keeps e.g. 0.99 * 100 = 99.00000000000001 from rounding up a rank.
  size_t rank = static_cast<size_t>(std::ceil(percent / 100.0 * n - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

LatencySummary summarize_latencies(std::vector<uint64_t>* latencies_us) {
  LatencySummary summary;
  if (latencies_us->empty()) return summary;
  std::sort(latencies_us->begin(), latencies_us->end());
  const auto ms = [](uint64_t us) { return static_cast<double>(us) / 1000.0; };
  summary.count = latencies_us->size();
  summary.p50_ms = ms(nearest_rank_percentile(*latencies_us, 50));
  summary.p90_ms = ms(nearest_rank_percentile(*latencies_us, 90));
  summary.p99_ms = ms(nearest_rank_percentile(*latencies_us, 99));
  summary.max_ms = ms(latencies_us->back());
  return summary;
}

}  // namespace cdrd
