// What one call costs under one rate of a deck, exactly (Decimal).
//
// Two-step rate (Yeti's interval billing), with d the answered seconds
// after the deck's duration rounding, ii/ir the initial interval and rate,
// ni/nr the next ones (rates per 60 seconds) and fee the connect fee:
//   charge         = fee + ii*ir/60 + [d > ii] * ceil((d - ii)/ni) * ni*nr/60
//   billed_seconds = ii + [d > ii] * ceil((d - ii)/ni) * ni
// Tiered rate: each tier covers its start up to the next tier's start; the
// time of the call inside a tier is rounded up to the tier's increment and
// costs rounded * rate/60; billed_seconds is the sum of the rounded times;
// plus the connect fee.
// An unanswered call, or one of at most grace_seconds, costs the attempt fee
// alone (0 when none) and bills 0 seconds. The deck's price rounding is
// applied only when the charge is written as text (RatingOutcome).
#pragma once

#include <cstdint>

#include "daemon/rating/decimal.h"
#include "daemon/rating/rate_deck.h"

namespace cdrd {

// Whole answered seconds from the answer and end instants (µs):
// ceil/round-half-up/floor of (end_us - answer_us) / 1e6; 0 when end_us is
// before answer_us.
int64_t rounded_answered_seconds(int64_t answer_us, int64_t end_us, DurationRounding rounding);

struct Charge {
  int64_t billed_seconds = 0;
  Decimal amount;  // exact, before the deck's price rounding
};

// `answered` false = an unanswered call (answered_seconds is not used).
Charge charge_call(const RateEntry& rate, bool answered, int64_t answered_seconds);

}  // namespace cdrd
