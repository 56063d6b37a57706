// A rate deck: the settings that apply to every rate of it (currency, how
// the answered time and the price are rounded) and its rates, one per
// prefix and validity window. Plain data: the CSV importer
// (deck_csv.h) and the database (daemon/db/rate_store.h) produce it, the
// snapshot (rating_snapshot.h) indexes it, the charge (charge.h) reads one
// entry of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "daemon/rating/decimal.h"
#include "daemon/rating/rating_time.h"

namespace cdrd {

// How the answered time (microseconds) becomes whole seconds:
// up = ceiling, nearest = half up, down = floor.
enum class DurationRounding { kUp, kNearest, kDown };
std::string_view duration_rounding_name(DurationRounding rounding);
std::optional<DurationRounding> parse_duration_rounding(std::string_view name);

struct DeckSettings {
  std::string name;      // [A-Za-z0-9_.-], 1 to 64 characters
  std::string currency;  // ISO 4217: three capital letters
  DurationRounding duration_rounding = DurationRounding::kUp;
  PriceRounding price_rounding = PriceRounding::kNone;
  int decimals = 4;  // 0 to kMaxDecimalPlaces; the places the price is rounded to (not with kNone)
};

bool valid_deck_name(std::string_view name);
bool valid_currency(std::string_view currency);
// False with *error naming the first bad setting.
bool check_deck_settings(const DeckSettings& settings, std::string* error);

// The longest prefix, in digits: E.164 numbers have at most 15.
inline constexpr size_t kMaxPrefixDigits = 15;

// One step of a tiered rate (CGRateS' rating intervals): from start_seconds
// of the answered time up to the next tier's start, at `rate` per 60
// seconds, the time in the tier rounded up to `increment` seconds.
struct RateTier {
  int64_t start_seconds = 0;
  Decimal rate;
  int64_t increment = 1;
};

// Text form of a tier list: "start:rate:increment" joined by ';', e.g.
// "0:0.1:60;60:0.05:1". The first start is 0, the starts increase, rates are
// >= 0 and increments >= 1.
bool parse_tiers(std::string_view text, std::vector<RateTier>* tiers, std::string* error);
std::string format_tiers(const std::vector<RateTier>& tiers);

struct RateEntry {
  std::string prefix;  // 1 to kMaxPrefixDigits digits
  std::string name;    // free text, may be empty

  // Two-step rate (Yeti's interval billing); unused when `tiers` is set.
  int64_t initial_interval = 0;  // seconds, >= 0
  Decimal initial_rate;          // per 60 seconds
  int64_t next_interval = 1;     // seconds, >= 1
  Decimal next_rate;             // per 60 seconds
  std::vector<RateTier> tiers;   // non-empty: a tiered rate instead

  Decimal connect_fee;                 // added to every answered call that is charged
  Decimal attempt_fee;                 // the whole charge of an unanswered call (or one within the grace time)
  int64_t grace_seconds = 0;           // an answered call of at most this many seconds is an attempt
  int min_length = 0;                  // the number's digits at least; 0 = no limit
  int max_length = 0;                  // the number's digits at most; 0 = no limit
  int64_t valid_from_us = kNoStartUs;  // the call's start is at or after this ...
  int64_t valid_till_us = kNoEndUs;    // ... and before this

  bool tiered() const { return !tiers.empty(); }
};

// A rate applies to a call that starts in [valid_from_us, valid_till_us)
// and to a number whose digit count is within its limits (0 = no limit).
inline bool valid_at(int64_t valid_from_us, int64_t valid_till_us, int64_t us) {
  return us >= valid_from_us && us < valid_till_us;
}
inline bool admits_length(int min_length, int max_length, size_t digits) {
  return (min_length == 0 || digits >= static_cast<size_t>(min_length)) &&
         (max_length == 0 || digits <= static_cast<size_t>(max_length));
}

// Parsing and indexing move rates around in vectors; a copy there would
// copy every GMP number.
static_assert(std::is_nothrow_move_constructible_v<RateEntry>, "RateEntry moves must not throw");

struct RateDeck {
  DeckSettings settings;
  std::vector<RateEntry> entries;
};

// True when two entries of the same prefix are valid at a common instant;
// *first and *second are their indexes in `entries` (*first the one that
// starts earlier), for the caller to name them. O(n log n).
bool find_overlap(const std::vector<RateEntry>& entries, size_t* first, size_t* second);

}  // namespace cdrd
