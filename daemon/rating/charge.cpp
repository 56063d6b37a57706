#include "daemon/rating/charge.h"

namespace cdrd {
namespace {

constexpr int64_t kUsPerSecond = 1000000;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// rate * seconds added to *sum, which is 60 times the time charge: the rates are
// per 60 seconds, so the one division by 60 is left to the end.
void add_time(mpq_class* sum, const Decimal& rate, int64_t seconds) {
  if (seconds <= 0 || rate.is_zero()) return;
  *sum += rate.value() * static_cast<long>(seconds);
}

}  // namespace

int64_t rounded_answered_seconds(int64_t answer_us, int64_t end_us, DurationRounding rounding) {
  const int64_t us = end_us - answer_us;
  if (us <= 0) return 0;
  switch (rounding) {
    case DurationRounding::kUp:
      return us / kUsPerSecond + (us % kUsPerSecond != 0 ? 1 : 0);
    case DurationRounding::kNearest:
      return (us + kUsPerSecond / 2) / kUsPerSecond;
    case DurationRounding::kDown:
      return us / kUsPerSecond;
  }
  return us / kUsPerSecond;
}

Charge charge_call(const RateEntry& rate, bool answered, int64_t answered_seconds) {
  Charge out;
  if (!answered || answered_seconds <= rate.grace_seconds || answered_seconds <= 0) {
    out.amount = rate.attempt_fee;
    return out;
  }
  const int64_t d = answered_seconds;
  mpq_class sum;  // 60 times the charge for the time (the connect fee comes last)
  if (rate.tiered()) {
    for (size_t i = 0; i < rate.tiers.size(); ++i) {
      const RateTier& tier = rate.tiers[i];
      if (d <= tier.start_seconds) break;
      const int64_t tier_end = i + 1 < rate.tiers.size() ? rate.tiers[i + 1].start_seconds : d;
      const int64_t in_tier = (d < tier_end ? d : tier_end) - tier.start_seconds;
      const int64_t rounded = ceil_div(in_tier, tier.increment) * tier.increment;
      out.billed_seconds += rounded;
      add_time(&sum, tier.rate, rounded);
    }
  } else {
    out.billed_seconds = rate.initial_interval;
    add_time(&sum, rate.initial_rate, rate.initial_interval);
    if (d > rate.initial_interval) {
      const int64_t next = ceil_div(d - rate.initial_interval, rate.next_interval) * rate.next_interval;
      out.billed_seconds += next;
      add_time(&sum, rate.next_rate, next);
    }
  }
  sum /= 60;
  if (!rate.connect_fee.is_zero()) sum += rate.connect_fee.value();
  out.amount = Decimal(std::move(sum));
  return out;
}

}  // namespace cdrd
