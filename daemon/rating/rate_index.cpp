#include "daemon/rating/rate_index.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace cdrd {
namespace {

constexpr unsigned kLengthBits = 5;

uint64_t make_key(uint64_t value, size_t length) { return (value << kLengthBits) | length; }

uint64_t hash_bits(uint64_t key, unsigned shift) { return (key * 0x9E3779B97F4A7C15ULL) >> shift; }

uint64_t prefix_value(const std::string& prefix) {
  uint64_t v = 0;
  for (const char c : prefix) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

}  // namespace

RateTexts RateTexts::of(const RateEntry& entry) {
  RateTexts t;
  if (entry.tiered()) {
    t.tiers = format_tiers(entry.tiers);
  } else {
    t.initial_rate = entry.initial_rate.to_string();
    t.next_rate = entry.next_rate.to_string();
  }
  t.connect_fee = entry.connect_fee.to_string();
  return t;
}

DeckIndex::DeckIndex(RateDeck deck) : deck_(std::move(deck)) {
  std::vector<RateEntry>& entries = deck_.entries;
  if (entries.size() >= UINT32_MAX) throw std::invalid_argument("rate deck too large");
  const auto before = [](const RateEntry& a, const RateEntry& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return a.valid_from_us < b.valid_from_us;
  };
  if (!std::is_sorted(entries.begin(), entries.end(), before)) {
    // Sorted as indexes, then each rate moved once: sorting the rates
    // themselves would move their strings and GMP numbers at every swap.
    std::vector<uint32_t> order(entries.size());
    std::iota(order.begin(), order.end(), 0U);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return before(entries[a], entries[b]); });
    std::vector<RateEntry> sorted;
    sorted.reserve(entries.size());
    for (const uint32_t i : order) sorted.push_back(std::move(entries[i]));
    entries.swap(sorted);
  }
  texts_.reserve(entries.size());
  for (const RateEntry& e : entries) texts_.push_back(RateTexts::of(e));
  size_t distinct = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& p = entries[i].prefix;
    if (p.empty() || p.size() > kMaxPrefixDigits ||
        !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      throw std::invalid_argument("rate deck " + deck_.settings.name + ": bad prefix '" + p + "'");
    }
    if (i == 0 || entries[i - 1].prefix != p) ++distinct;
  }
  // At most half full, so a miss ends after a probe or two.
  size_t capacity = 16;
  unsigned bits = 4;
  while (capacity < distinct * 2) {
    capacity *= 2;
    ++bits;
  }
  shift_ = 64 - bits;
  slots_.assign(capacity, Slot{});
  const uint64_t mask = capacity - 1;
  for (size_t i = 0; i < entries.size();) {
    size_t j = i + 1;
    while (j < entries.size() && entries[j].prefix == entries[i].prefix) ++j;
    const std::string& p = entries[i].prefix;
    const uint64_t key = make_key(prefix_value(p), p.size());
    for (uint64_t h = hash_bits(key, shift_);; h = (h + 1) & mask) {
      if (slots_[h].key == 0) {
        slots_[h] = Slot{key, static_cast<uint32_t>(i), static_cast<uint32_t>(j - i)};
        break;
      }
    }
    length_mask_ |= 1U << p.size();
    i = j;
  }
}

const DeckIndex::Slot* DeckIndex::slot(uint64_t key) const {
  const uint64_t mask = slots_.size() - 1;
  for (uint64_t h = hash_bits(key, shift_);; h = (h + 1) & mask) {
    const Slot& s = slots_[h];
    if (s.key == key) return &s;
    if (s.key == 0) return nullptr;
  }
}

const RateEntry* DeckIndex::find(std::string_view digits, int64_t at_us) const {
  const size_t longest = std::min(digits.size(), kMaxPrefixDigits);
  uint64_t values[kMaxPrefixDigits + 1];
  values[0] = 0;
  for (size_t i = 0; i < longest; ++i) {
    const char c = digits[i];
    if (c < '0' || c > '9') return nullptr;
    values[i + 1] = values[i] * 10 + static_cast<uint64_t>(c - '0');
  }
  // Past the 15 digits a prefix can have, the number must still be digits.
  for (size_t i = longest; i < digits.size(); ++i) {
    if (digits[i] < '0' || digits[i] > '9') return nullptr;
  }
  for (size_t len = longest; len >= 1; --len) {
    if ((length_mask_ & (1U << len)) == 0) continue;
    const Slot* s = slot(make_key(values[len], len));
    if (s == nullptr) continue;
    for (uint32_t k = s->begin; k < s->begin + s->count; ++k) {
      const RateEntry& e = deck_.entries[k];
      if (e.valid_at(at_us) && e.admits_length(digits.size())) return &e;
    }
  }
  return nullptr;
}

}  // namespace cdrd
