// Longest-prefix lookup over one deck, compact enough for decks of hundreds
// of thousands of prefixes in a daemon held to 100 MB.
//
// A RateEntry (strings and four GMP numbers) takes some 650 bytes with its
// texts; a deck index keeps instead, per entry, a 40-byte PackedRate: the
// prefix as a key (its digits as an integer plus its length, at most 15
// digits, so one uint64), the validity window, the length limits, the name
// as a slice of one shared buffer, and the index of its terms. The terms
// (intervals, rates, fees, grace, tiers, and their texts) are kept once per
// distinct set: a deck has far fewer prices than prefixes (100,000 prefixes
// of the bench deck share 8,100). The full RateEntry is never needed again
// once indexed, so add() takes one at a time and the loader streams them.
//
// The packed rates are sorted by (key, valid_from) and an open-addressing
// hash table maps each distinct key to its run. A lookup probes once per
// prefix length the deck has, longest first, with the keys computed in one
// pass over the number: about 10 probes of one cache line each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/rating/rate_deck.h"

namespace cdrd {

// The text of a rate's numbers as the stored rating object carries them,
// made once per distinct set of terms when the deck is indexed instead of
// once per call.
struct RateTexts {
  std::string initial_rate;
  std::string next_rate;
  std::string connect_fee;
  std::string tiers;  // format_tiers(), "" for a two-step rate
  static RateTexts of(const RateEntry& entry);
};

// What find() returns: the rate that applies, by reference into the index.
struct RateMatch {
  std::string prefix;
  std::string_view name;
  // The rate's terms for charge_call(); its prefix, name, validity and
  // length limits are not set (they differ between the entries sharing it).
  const RateEntry* terms = nullptr;
  const RateTexts* texts = nullptr;
};

class DeckIndex {
 public:
  // An empty deck to add() rates to, then finish().
  explicit DeckIndex(DeckSettings settings);
  // Adds every rate of `deck` and finishes.
  explicit DeckIndex(RateDeck deck);

  // Throws std::invalid_argument for a prefix that is not 1 to 15 digits
  // and after finish().
  void add(const RateEntry& entry);
  // Sorts and hashes; find() before it finds nothing.
  void finish();

  const DeckSettings& settings() const { return settings_; }
  size_t size() const { return rates_.size(); }
  // Distinct sets of terms (intervals, rates, fees, grace, tiers).
  size_t distinct_terms() const { return terms_.size(); }

  // The rate for the number `digits` (E.164 digits without '+') at `at_us`:
  // of the entries valid at that instant whose length limits admit the
  // number, the one with the longest prefix. nullopt when there is none or
  // `digits` is empty or not all digits.
  std::optional<RateMatch> find(std::string_view digits, int64_t at_us) const;

 private:
  struct PackedRate {
    uint64_t key;  // make_key(prefix digits, prefix length)
    int64_t valid_from_us;
    int64_t valid_till_us;
    uint32_t name_offset;  // in names_
    uint32_t name_size;
    uint32_t terms;  // index in terms_
    uint8_t min_length;
    uint8_t max_length;
  };
  struct Slot {
    uint64_t key = 0;  // 0 = empty (a real key has a length >= 1 in its low bits)
    uint32_t begin = 0;
    uint32_t count = 0;
  };
  struct Terms {
    RateEntry entry;  // prefix, name, validity and lengths left at their defaults
    RateTexts texts;
  };
  const Slot* slot(uint64_t key) const;

  DeckSettings settings_;
  std::vector<PackedRate> rates_;
  std::string names_;
  std::vector<Terms> terms_;
  std::unordered_map<std::string, uint32_t> terms_by_text_;  // while adding only
  std::vector<Slot> slots_;
  unsigned shift_ = 64;
  uint32_t length_mask_ = 0;  // bit n set: some prefix has n digits
  bool finished_ = false;
};

}  // namespace cdrd
