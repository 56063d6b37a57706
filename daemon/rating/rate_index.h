// Longest-prefix lookup over one deck. The entries are sorted by (prefix,
// valid_from) and an open-addressing hash table maps each distinct prefix
// to its run of entries; its key is the prefix's digits as an integer plus
// its length (a prefix has at most 15 digits, so both fit one uint64). A
// lookup probes once per prefix length the deck has, longest first, with
// the keys computed in one pass over the number: about 10 probes of one
// cache line each instead of a walk down a trie of 10-way nodes (which for
// 100,000 prefixes would take tens of megabytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/rating/rate_deck.h"

namespace cdrd {

// The text of a rate's numbers as the stored rating object carries them,
// made once per rate when the deck is indexed instead of once per call.
struct RateTexts {
  std::string initial_rate;
  std::string next_rate;
  std::string connect_fee;
  std::string tiers;  // format_tiers(), "" for a two-step rate
  static RateTexts of(const RateEntry& entry);
};

class DeckIndex {
 public:
  explicit DeckIndex(RateDeck deck);

  const RateDeck& deck() const { return deck_; }

  // The rate for the number `digits` (E.164 digits without '+') at `at_us`:
  // of the entries valid at that instant whose length limits admit the
  // number, the one with the longest prefix. nullptr when there is none or
  // `digits` is empty or not all digits.
  const RateEntry* find(std::string_view digits, int64_t at_us) const;
  // The texts of an entry find() returned.
  const RateTexts& texts(const RateEntry& entry) const {
    return texts_[static_cast<size_t>(&entry - deck_.entries.data())];
  }

 private:
  struct Slot {
    uint64_t key = 0;  // 0 = empty (a real key has a length >= 1 in its low bits)
    uint32_t begin = 0;
    uint32_t count = 0;
  };
  const Slot* slot(uint64_t key) const;

  RateDeck deck_;
  std::vector<RateTexts> texts_;  // parallel to deck_.entries
  std::vector<Slot> slots_;
  unsigned shift_ = 64;
  uint32_t length_mask_ = 0;  // bit n set: some prefix has n digits
};

}  // namespace cdrd
