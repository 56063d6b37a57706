#include "adapters/freeswitch/channel_data.h"

#include <algorithm>
#include <charconv>

namespace cdrd {
namespace {

bool name_less(const ChannelVariables::Entry& a, const ChannelVariables::Entry& b) { return a.first < b.first; }

}  // namespace

void ChannelVariables::seal() {
  std::stable_sort(entries_.begin(), entries_.end(), name_less);
  entries_.erase(
      std::unique(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.first == b.first; }),
      entries_.end());
}

std::string_view ChannelVariables::get(std::string_view name) const {
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), Entry{name, {}}, name_less);
  if (it == entries_.end() || it->first != name) return {};
  return it->second;
}

std::pair<ChannelVariables::Iterator, ChannelVariables::Iterator> ChannelVariables::with_prefix(
    std::string_view prefix) const {
  const auto first = std::lower_bound(entries_.begin(), entries_.end(), Entry{prefix, {}}, name_less);
  auto last = first;
  while (last != entries_.end() && last->first.substr(0, prefix.size()) == prefix) ++last;
  return {first, last};
}

int64_t decimal_or_zero(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

}  // namespace cdrd
