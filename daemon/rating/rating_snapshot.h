// Everything rating needs, as one immutable value: the decks (indexed), the
// assignments (which deck an account pays by, which deck a trunk's carrier
// charges by) and the version of the stored rating data it was built from.
// The writer loads a new snapshot when the version moves
// (daemon/db/rate_store.h) and swaps a shared_ptr<const RatingSnapshot>;
// every method is const and touches no shared mutable state, so any number
// of threads may rate with one snapshot at once.
//
// Choosing the deck for a leg:
// - customer: the assignments of the leg's account_id; vendor: those of its
//   trunk.
// - Direction: an outbound or transit call (transit: from a carrier to a
//   carrier, which the account still sends out) uses an `outbound`
//   assignment, an inbound call an `inbound` one; when there is none valid
//   at the call's start, an `any` one. An internal call, or a leg with no
//   direction class, uses `any` only.
// - Time: of the assignments of that direction, the one with the latest
//   valid_from at or before the call's start (start_us).
// Then the rate: the longest prefix of the callee digits among the deck's
// entries valid at the start whose length limits admit the number
// (rate_index.h), and the charge of charge.h with the deck's duration and
// price rounding.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/rating/rate_deck.h"
#include "daemon/rating/rate_index.h"

namespace cdrd {

enum class RateSide { kCustomer, kVendor };
enum class RateDirection { kAny, kOutbound, kInbound };
std::string_view rate_side_name(RateSide side);
std::optional<RateSide> parse_rate_side(std::string_view name);
std::string_view rate_direction_name(RateDirection direction);
std::optional<RateDirection> parse_rate_direction(std::string_view name);

struct RateAssignment {
  RateSide side = RateSide::kCustomer;
  std::string subject;  // the account id (customer) or the trunk name (vendor)
  RateDirection direction = RateDirection::kAny;
  int64_t valid_from_us = kNoStartUs;  // applies to calls that start at or after this
  std::string deck;
};

// One leg as the writer sees it.
struct LegToRate {
  std::string account_id;
  std::string trunk;
  std::string direction_class;  // inbound | outbound | internal | transit
  std::string callee_digits;    // E.164 digits without '+'; may be empty
  int64_t start_us = 0;
  int64_t answer_us = 0;  // 0 = unanswered
  int64_t end_us = 0;
};

// The result of rating one side of one leg; json() is what the record
// stores as rating.customer / rating.vendor.
struct RatingOutcome {
  bool rated = false;
  std::string reason;  // when !rated: what was missing

  std::string deck;
  std::string prefix;
  std::string name;
  std::string currency;
  int64_t initial_interval = 0;  // two-step rate (tiers empty)
  std::string initial_rate;
  int64_t next_interval = 0;
  std::string next_rate;
  std::string tiers;  // a tiered rate: format_tiers(); then the four above are not used
  std::string connect_fee;
  int64_t billed_seconds = 0;
  std::string charge;  // after the deck's price rounding
  std::string rated_at;

  // Rated: {deck, prefix, name, initial_interval, initial_rate,
  // next_interval, next_rate, connect_fee, billed_seconds, charge, currency,
  // rated_at}, money as decimal strings, name left out when empty, and for a
  // tiered rate "tiers" in place of the four initial_/next_ fields.
  // Not rated: {"status":"unrated","reason":"..."}.
  std::string json() const;
};

class RatingSnapshot {
 public:
  // Indexes the decks. Throws std::invalid_argument when two decks share a
  // name or an assignment names a deck that is not among them.
  RatingSnapshot(uint64_t version, std::vector<RateDeck> decks, const std::vector<RateAssignment>& assignments);
  // The same with decks indexed already (the loader adds each rate as it
  // reads it, so the full RateEntry list never exists at once).
  RatingSnapshot(uint64_t version, std::vector<std::unique_ptr<DeckIndex>> decks,
                 const std::vector<RateAssignment>& assignments);

  // What the leg's account pays (the caller rates the A-leg of a call once).
  RatingOutcome customer(const LegToRate& leg, std::string_view rated_at_iso) const;
  // What the carrier of the leg's trunk charges (every leg to or from a trunk).
  RatingOutcome vendor(const LegToRate& leg, std::string_view rated_at_iso) const;

  uint64_t version() const { return version_; }
  size_t deck_count() const { return decks_.size(); }
  // The deck of that name, or nullptr.
  const DeckIndex* deck(std::string_view name) const;

 private:
  struct Assigned {
    RateDirection direction;
    int64_t valid_from_us;
    const DeckIndex* deck;
  };
  using AssignmentMap = std::unordered_map<std::string, std::vector<Assigned>>;

  const DeckIndex* choose(const AssignmentMap& map, const std::string& subject, std::string_view direction_class,
                          int64_t start_us, bool* subject_known) const;
  RatingOutcome rate(const AssignmentMap& map, RateSide side, const std::string& subject, const LegToRate& leg,
                     std::string_view rated_at_iso) const;

  uint64_t version_;
  std::vector<std::unique_ptr<DeckIndex>> decks_;
  std::unordered_map<std::string, const DeckIndex*> by_name_;
  AssignmentMap customers_;
  AssignmentMap vendors_;
};

// Rates `leg` with one rate of a deck: the charge of charge.h, written with
// the deck's rounding. For tests and tools that have an entry at hand.
RatingOutcome rate_with(const DeckSettings& settings, const RateEntry& entry, const LegToRate& leg,
                        std::string_view rated_at_iso);

}  // namespace cdrd
