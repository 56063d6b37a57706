#include "adapters/freeswitch/channel_data.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "adapters/freeswitch/byte_scan.h"

namespace cdrd {
namespace {

using byte_scan::load_word;

constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ULL;

// The first eight bytes of `text` as a little-endian word, zero-padded.
uint64_t head_word(std::string_view text) {
  if (text.size() >= 8) return load_word(text.data());
  uint64_t word = 0;
  for (size_t i = 0; i < text.size(); ++i) word |= uint64_t{static_cast<unsigned char>(text[i])} << (8 * i);
  return word;
}

// A hash of a name from its first, middle and last eight bytes and its
// length (variable names are short ASCII words; two that agree in all of
// these only share a probe sequence). A few instructions instead of a pass
// over every byte (std::hash), which was most of the cost of the index.
size_t name_hash(std::string_view name, uint64_t head) {
  uint64_t h = (head ^ name.size()) * kMultiplier;
  if (name.size() > 8) h = (h ^ load_word(name.data() + name.size() - 8)) * kMultiplier;
  if (name.size() > 16) h = (h ^ load_word(name.data() + name.size() / 2 - 4)) * kMultiplier;
  return static_cast<size_t>(h ^ (h >> 32));
}

// Whether the entry of `name` with head word `name_head` is `other` (head word `other_head`).
bool same_name(std::string_view name, uint64_t name_head, std::string_view other, uint64_t other_head) {
  if (name_head != other_head || name.size() != other.size()) return false;
  if (name.size() <= 8) return true;
  // Most names are at most 16 bytes: their last eight, without a call to memcmp.
  if (name.size() <= 16) return load_word(name.data() + name.size() - 8) == load_word(other.data() + other.size() - 8);
  return std::memcmp(name.data() + 8, other.data() + 8, name.size() - 8) == 0;
}

bool name_less(const ChannelVariables::Entry& a, const ChannelVariables::Entry& b) { return a.first < b.first; }

}  // namespace

void ChannelVariables::seal() {
  // At most half full, so that probes stay short.
  size_t capacity = 16;
  while (capacity < entries_.size() * 2) capacity *= 2;
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
  heads_.resize(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    const std::string_view name = entries_[i].first;
    const uint64_t head = head_word(name);
    heads_[i] = head;
    for (size_t slot = name_hash(name, head) & mask_;; slot = (slot + 1) & mask_) {
      const size_t other = slots_[slot];
      if (other == 0) {
        slots_[slot] = i + 1;
        break;
      }
      if (same_name(name, head, entries_[other - 1].first, heads_[other - 1])) break;  // the first one added stays
    }
  }
}

std::string_view ChannelVariables::get(std::string_view name) const {
  if (slots_.empty()) return {};
  const uint64_t head = head_word(name);
  for (size_t slot = name_hash(name, head) & mask_; slots_[slot] != 0; slot = (slot + 1) & mask_) {
    const size_t index = slots_[slot] - 1;
    if (same_name(name, head, entries_[index].first, heads_[index])) return entries_[index].second;
  }
  return {};
}

std::vector<ChannelVariables::Entry> ChannelVariables::with_prefix(std::string_view prefix) const {
  std::vector<Entry> found;
  const size_t head_size = std::min<size_t>(prefix.size(), 8);
  const uint64_t mask = head_size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * head_size)) - 1;
  const uint64_t head = head_word(prefix) & mask;
  for (size_t i = 0; i < heads_.size(); ++i) {
    if ((heads_[i] & mask) != head) continue;
    const std::string_view name = entries_[i].first;
    if (name.size() >= prefix.size() &&
        name.compare(head_size, prefix.size() - head_size, prefix.substr(head_size)) == 0) {
      found.push_back(entries_[i]);
    }
  }
  // Stable: of a name given twice, the first one added stays.
  std::stable_sort(found.begin(), found.end(), name_less);
  found.erase(
      std::unique(found.begin(), found.end(), [](const Entry& a, const Entry& b) { return a.first == b.first; }),
      found.end());
  return found;
}

int64_t decimal_or_zero(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

}  // namespace cdrd
