#include "daemon/rating/rate_index.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

namespace cdrd {
namespace {

constexpr unsigned kLengthBits = 5;
constexpr uint64_t kLengthMask = (1U << kLengthBits) - 1;

uint64_t make_key(uint64_t value, size_t length) { return (value << kLengthBits) | length; }

uint64_t hash_bits(uint64_t key, unsigned shift) { return (key * 0x9E3779B97F4A7C15ULL) >> shift; }

// The prefix text of a key, leading zeros included (the length says how many digits).
std::string prefix_of(uint64_t key) {
  std::string out(static_cast<size_t>(key & kLengthMask), '0');
  uint64_t value = key >> kLengthBits;
  for (size_t i = out.size(); i > 0 && value != 0; --i, value /= 10) out[i - 1] = static_cast<char>('0' + value % 10);
  return out;
}

// Two entries with this text have the same terms: every number in its
// canonical text, the integers, the tiers.
std::string terms_text(const RateEntry& e, const RateTexts& t) {
  std::string key;
  key.reserve(96);
  for (const std::string* s : {&t.initial_rate, &t.next_rate, &t.connect_fee, &t.tiers}) {
    key += *s;
    key.push_back('|');
  }
  key += e.attempt_fee.to_string();
  for (const int64_t n : {e.initial_interval, e.next_interval, e.grace_seconds}) {
    key.push_back('|');
    key += std::to_string(n);
  }
  return key;
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

DeckIndex::DeckIndex(DeckSettings settings) : settings_(std::move(settings)) {}

DeckIndex::DeckIndex(RateDeck deck) : settings_(std::move(deck.settings)) {
  rates_.reserve(deck.entries.size());
  for (const RateEntry& e : deck.entries) add(e);
  finish();
}

void DeckIndex::add(const RateEntry& entry) {
  if (finished_) throw std::invalid_argument("rate deck " + settings_.name + ": a rate added after indexing");
  const std::string& p = entry.prefix;
  if (p.empty() || p.size() > kMaxPrefixDigits ||
      !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw std::invalid_argument("rate deck " + settings_.name + ": bad prefix '" + p + "'");
  }
  if (entry.min_length < 0 || entry.min_length > 255 || entry.max_length < 0 || entry.max_length > 255) {
    throw std::invalid_argument("rate deck " + settings_.name + ": length limits of prefix " + p + " out of range");
  }
  if (rates_.size() >= std::numeric_limits<uint32_t>::max() ||
      names_.size() + entry.name.size() >= std::numeric_limits<uint32_t>::max()) {
    throw std::invalid_argument("rate deck " + settings_.name + " too large");
  }
  RateTexts texts = RateTexts::of(entry);
  std::string text = terms_text(entry, texts);
  auto [it, fresh] = terms_by_text_.try_emplace(std::move(text), static_cast<uint32_t>(terms_.size()));
  if (fresh) {
    Terms t;
    t.entry.initial_interval = entry.initial_interval;
    t.entry.initial_rate = entry.initial_rate;
    t.entry.next_interval = entry.next_interval;
    t.entry.next_rate = entry.next_rate;
    t.entry.tiers = entry.tiers;
    t.entry.connect_fee = entry.connect_fee;
    t.entry.attempt_fee = entry.attempt_fee;
    t.entry.grace_seconds = entry.grace_seconds;
    t.texts = std::move(texts);
    terms_.push_back(std::move(t));
  }
  uint64_t value = 0;
  for (const char c : p) value = value * 10 + static_cast<uint64_t>(c - '0');
  PackedRate r{};
  r.key = make_key(value, p.size());
  r.valid_from_us = entry.valid_from_us;
  r.valid_till_us = entry.valid_till_us;
  r.name_offset = static_cast<uint32_t>(names_.size());
  r.name_size = static_cast<uint32_t>(entry.name.size());
  r.terms = it->second;
  r.min_length = static_cast<uint8_t>(entry.min_length);
  r.max_length = static_cast<uint8_t>(entry.max_length);
  names_ += entry.name;
  rates_.push_back(r);
}

void DeckIndex::finish() {
  if (finished_) return;
  finished_ = true;
  terms_by_text_ = {};  // only needed while adding
  rates_.shrink_to_fit();
  names_.shrink_to_fit();
  terms_.shrink_to_fit();
  std::stable_sort(rates_.begin(), rates_.end(), [](const PackedRate& a, const PackedRate& b) {
    return a.key != b.key ? a.key < b.key : a.valid_from_us < b.valid_from_us;
  });
  size_t distinct = 0;
  for (size_t i = 0; i < rates_.size(); ++i) {
    if (i == 0 || rates_[i - 1].key != rates_[i].key) ++distinct;
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
  for (size_t i = 0; i < rates_.size();) {
    size_t j = i + 1;
    while (j < rates_.size() && rates_[j].key == rates_[i].key) ++j;
    const uint64_t key = rates_[i].key;
    for (uint64_t h = hash_bits(key, shift_);; h = (h + 1) & mask) {
      if (slots_[h].key == 0) {
        slots_[h] = Slot{key, static_cast<uint32_t>(i), static_cast<uint32_t>(j - i)};
        break;
      }
    }
    length_mask_ |= 1U << (key & kLengthMask);
    i = j;
  }
}

const DeckIndex::Slot* DeckIndex::slot(uint64_t key) const {
  if (slots_.empty()) return nullptr;
  const uint64_t mask = slots_.size() - 1;
  for (uint64_t h = hash_bits(key, shift_);; h = (h + 1) & mask) {
    const Slot& s = slots_[h];
    if (s.key == key) return &s;
    if (s.key == 0) return nullptr;
  }
}

std::optional<RateMatch> DeckIndex::find(std::string_view digits, int64_t at_us) const {
  const size_t longest = std::min(digits.size(), kMaxPrefixDigits);
  uint64_t values[kMaxPrefixDigits + 1];
  values[0] = 0;
  for (size_t i = 0; i < longest; ++i) {
    const char c = digits[i];
    if (c < '0' || c > '9') return std::nullopt;
    values[i + 1] = values[i] * 10 + static_cast<uint64_t>(c - '0');
  }
  // Past the 15 digits a prefix can have, the number must still be digits.
  for (size_t i = longest; i < digits.size(); ++i) {
    if (digits[i] < '0' || digits[i] > '9') return std::nullopt;
  }
  for (size_t len = longest; len >= 1; --len) {
    if ((length_mask_ & (1U << len)) == 0) continue;
    const Slot* s = slot(make_key(values[len], len));
    if (s == nullptr) continue;
    for (uint32_t k = s->begin; k < s->begin + s->count; ++k) {
      const PackedRate& r = rates_[k];
      if (!valid_at(r.valid_from_us, r.valid_till_us, at_us) ||
          !admits_length(r.min_length, r.max_length, digits.size())) {
        continue;
      }
      RateMatch m;
      m.prefix = prefix_of(r.key);
      m.name = std::string_view(names_).substr(r.name_offset, r.name_size);
      m.terms = &terms_[r.terms].entry;
      m.texts = &terms_[r.terms].texts;
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace cdrd
