#include "daemon/rating/rate_deck.h"

#include <algorithm>
#include <numeric>

namespace cdrd {
namespace {

bool parse_seconds(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 9) return false;
  int64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string_view duration_rounding_name(DurationRounding rounding) {
  switch (rounding) {
    case DurationRounding::kUp:
      return "up";
    case DurationRounding::kNearest:
      return "nearest";
    case DurationRounding::kDown:
      return "down";
  }
  return "up";
}

std::optional<DurationRounding> parse_duration_rounding(std::string_view name) {
  if (name == "up") return DurationRounding::kUp;
  if (name == "nearest") return DurationRounding::kNearest;
  if (name == "down") return DurationRounding::kDown;
  return std::nullopt;
}

bool valid_deck_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

bool valid_currency(std::string_view currency) {
  return currency.size() == 3 &&
         std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool check_deck_settings(const DeckSettings& settings, std::string* error) {
  if (!valid_deck_name(settings.name)) {
    *error = "deck name '" + settings.name + "': use 1 to 64 of A-Z a-z 0-9 _ . -";
    return false;
  }
  if (!valid_currency(settings.currency)) {
    *error = "currency '" + settings.currency + "': an ISO 4217 code of three capital letters, e.g. USD";
    return false;
  }
  if (settings.decimals < 0 || settings.decimals > kMaxDecimalPlaces) {
    *error = "decimals " + std::to_string(settings.decimals) + ": 0 to " + std::to_string(kMaxDecimalPlaces);
    return false;
  }
  return true;
}

bool parse_tiers(std::string_view text, std::vector<RateTier>* tiers, std::string* error) {
  tiers->clear();
  if (text.empty()) {
    *error = "empty tier list";
    return false;
  }
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view tier = text.substr(pos, end - pos);
    const std::string number = std::to_string(tiers->size() + 1);
    const size_t c1 = tier.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : tier.find(':', c1 + 1);
    if (c2 == std::string_view::npos || tier.find(':', c2 + 1) != std::string_view::npos) {
      *error = "tier " + number + " '" + std::string(tier) + "' is not start_seconds:rate_per_minute:increment_seconds";
      return false;
    }
    RateTier t;
    const auto rate = Decimal::parse(tier.substr(c1 + 1, c2 - c1 - 1));
    if (!parse_seconds(tier.substr(0, c1), &t.start_seconds)) {
      *error = "tier " + number + ": start '" + std::string(tier.substr(0, c1)) + "' is not a whole number of seconds";
      return false;
    }
    if (!rate || rate->is_negative()) {
      *error = "tier " + number + ": rate '" + std::string(tier.substr(c1 + 1, c2 - c1 - 1)) +
               "' is not a decimal number of 0 or more";
      return false;
    }
    t.rate = *rate;
    if (!parse_seconds(tier.substr(c2 + 1), &t.increment) || t.increment < 1) {
      *error = "tier " + number + ": increment '" + std::string(tier.substr(c2 + 1)) +
               "' is not a whole number of seconds of 1 or more";
      return false;
    }
    if (tiers->empty() && t.start_seconds != 0) {
      *error = "tier 1 starts at " + std::to_string(t.start_seconds) + " s; the first tier starts at 0";
      return false;
    }
    if (!tiers->empty() && t.start_seconds <= tiers->back().start_seconds) {
      *error = "tier " + number + " starts at " + std::to_string(t.start_seconds) +
               " s, not after the tier before it (" + std::to_string(tiers->back().start_seconds) + " s)";
      return false;
    }
    tiers->push_back(std::move(t));
    pos = end + 1;
  }
  return true;
}

std::string format_tiers(const std::vector<RateTier>& tiers) {
  std::string out;
  for (const RateTier& t : tiers) {
    if (!out.empty()) out.push_back(';');
    out += std::to_string(t.start_seconds);
    out.push_back(':');
    out += t.rate.to_string();
    out.push_back(':');
    out += std::to_string(t.increment);
  }
  return out;
}

bool find_overlap(const std::vector<RateEntry>& entries, size_t* first, size_t* second) {
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const RateEntry& x = entries[a];
    const RateEntry& y = entries[b];
    if (x.prefix != y.prefix) return x.prefix < y.prefix;
    if (x.valid_from_us != y.valid_from_us) return x.valid_from_us < y.valid_from_us;
    return a < b;
  });
  // Sorted by start within a prefix, an overlap always shows between
  // neighbours: if A overlaps C and B starts between them, A overlaps B.
  for (size_t i = 1; i < order.size(); ++i) {
    const RateEntry& prev = entries[order[i - 1]];
    const RateEntry& cur = entries[order[i]];
    if (prev.prefix == cur.prefix && cur.valid_from_us < prev.valid_till_us) {
      *first = order[i - 1];
      *second = order[i];
      return true;
    }
  }
  return false;
}

}  // namespace cdrd
