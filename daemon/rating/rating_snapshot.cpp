#include "daemon/rating/rating_snapshot.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "daemon/rating/charge.h"

namespace cdrd {
namespace {

void put(rapidjson::Writer<rapidjson::StringBuffer>* w, const char* key, const std::string& value) {
  w->Key(key);
  w->String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void put(rapidjson::Writer<rapidjson::StringBuffer>* w, const char* key, int64_t value) {
  w->Key(key);
  w->Int64(value);
}

RatingOutcome unrated(std::string reason) {
  RatingOutcome out;
  out.reason = std::move(reason);
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The assignment direction a call's direction class asks for first; `any`
// is always the fallback.
std::optional<RateDirection> specific_direction(std::string_view direction_class) {
  if (direction_class == "outbound" || direction_class == "transit") return RateDirection::kOutbound;
  if (direction_class == "inbound") return RateDirection::kInbound;
  return std::nullopt;
}

}  // namespace

std::string_view rate_side_name(RateSide side) { return side == RateSide::kVendor ? "vendor" : "customer"; }

std::optional<RateSide> parse_rate_side(std::string_view name) {
  if (name == "customer") return RateSide::kCustomer;
  if (name == "vendor") return RateSide::kVendor;
  return std::nullopt;
}

std::string_view rate_direction_name(RateDirection direction) {
  switch (direction) {
    case RateDirection::kAny:
      return "any";
    case RateDirection::kOutbound:
      return "outbound";
    case RateDirection::kInbound:
      return "inbound";
  }
  return "any";
}

std::optional<RateDirection> parse_rate_direction(std::string_view name) {
  if (name == "any") return RateDirection::kAny;
  if (name == "outbound") return RateDirection::kOutbound;
  if (name == "inbound") return RateDirection::kInbound;
  return std::nullopt;
}

std::string RatingOutcome::json() const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  if (!rated) {
    put(&w, "status", std::string("unrated"));
    put(&w, "reason", reason);
  } else {
    put(&w, "deck", deck);
    put(&w, "prefix", prefix);
    if (!name.empty()) put(&w, "name", name);
    if (tiers.empty()) {
      put(&w, "initial_interval", initial_interval);
      put(&w, "initial_rate", initial_rate);
      put(&w, "next_interval", next_interval);
      put(&w, "next_rate", next_rate);
    } else {
      put(&w, "tiers", tiers);
    }
    put(&w, "connect_fee", connect_fee);
    put(&w, "billed_seconds", billed_seconds);
    put(&w, "charge", charge);
    put(&w, "currency", currency);
    put(&w, "rated_at", rated_at);
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

namespace {

RatingOutcome outcome_of(const DeckSettings& settings, const RateMatch& match, const LegToRate& leg,
                         std::string_view rated_at_iso) {
  const RateEntry& terms = *match.terms;
  const RateTexts& texts = *match.texts;
  const bool answered = leg.answer_us != 0;
  const int64_t seconds =
      answered ? rounded_answered_seconds(leg.answer_us, leg.end_us, settings.duration_rounding) : 0;
  const Charge charge = charge_call(terms, answered, seconds);
  RatingOutcome out;
  out.rated = true;
  out.deck = settings.name;
  out.prefix = match.prefix;
  out.name = std::string(match.name);
  out.currency = settings.currency;
  if (!terms.tiered()) {
    out.initial_interval = terms.initial_interval;
    out.initial_rate = texts.initial_rate;
    out.next_interval = terms.next_interval;
    out.next_rate = texts.next_rate;
  }
  out.tiers = texts.tiers;
  out.connect_fee = texts.connect_fee;
  out.billed_seconds = charge.billed_seconds;
  out.charge = charge.amount.to_string(settings.decimals, settings.price_rounding);
  out.rated_at = std::string(rated_at_iso);
  return out;
}

std::vector<std::unique_ptr<DeckIndex>> index_decks(std::vector<RateDeck> decks) {
  std::vector<std::unique_ptr<DeckIndex>> out;
  out.reserve(decks.size());
  for (RateDeck& deck : decks) out.push_back(std::make_unique<DeckIndex>(std::move(deck)));
  return out;
}

}  // namespace

RatingOutcome rate_with(const DeckSettings& settings, const RateEntry& entry, const LegToRate& leg,
                        std::string_view rated_at_iso) {
  const RateTexts texts = RateTexts::of(entry);
  RateMatch match;
  match.prefix = entry.prefix;
  match.name = entry.name;
  match.terms = &entry;
  match.texts = &texts;
  return outcome_of(settings, match, leg, rated_at_iso);
}

RatingSnapshot::RatingSnapshot(uint64_t version, std::vector<RateDeck> decks,
                               const std::vector<RateAssignment>& assignments)
    : RatingSnapshot(version, index_decks(std::move(decks)), assignments) {}

RatingSnapshot::RatingSnapshot(uint64_t version, std::vector<std::unique_ptr<DeckIndex>> decks,
                               const std::vector<RateAssignment>& assignments)
    : version_(version), decks_(std::move(decks)) {
  for (const auto& deck : decks_) {
    const std::string& name = deck->settings().name;
    if (!by_name_.emplace(name, deck.get()).second) {
      throw std::invalid_argument("two rate decks named " + name);
    }
  }
  for (const RateAssignment& a : assignments) {
    const DeckIndex* deck = this->deck(a.deck);
    if (deck == nullptr) {
      throw std::invalid_argument("the " + std::string(rate_side_name(a.side)) + " assignment of " + a.subject +
                                  " names deck " + a.deck + ", which does not exist");
    }
    AssignmentMap& map = a.side == RateSide::kCustomer ? customers_ : vendors_;
    map[a.subject].push_back(Assigned{a.direction, a.valid_from_us, deck});
  }
  // Latest first: choose() takes the first one that has started.
  for (AssignmentMap* map : {&customers_, &vendors_}) {
    for (auto& [subject, list] : *map) {
      std::sort(list.begin(), list.end(),
                [](const Assigned& a, const Assigned& b) { return a.valid_from_us > b.valid_from_us; });
    }
  }
}

const DeckIndex* RatingSnapshot::deck(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

const DeckIndex* RatingSnapshot::choose(const AssignmentMap& map, const std::string& subject,
                                        std::string_view direction_class, int64_t start_us, bool* subject_known) const {
  const auto it = map.find(subject);
  *subject_known = it != map.end();
  if (it == map.end()) return nullptr;
  const std::optional<RateDirection> specific = specific_direction(direction_class);
  const DeckIndex* fallback = nullptr;
  for (const Assigned& a : it->second) {
    if (a.valid_from_us > start_us) continue;
    if (specific && a.direction == *specific) return a.deck;
    if (a.direction == RateDirection::kAny && fallback == nullptr) fallback = a.deck;
  }
  return fallback;
}

RatingOutcome RatingSnapshot::rate(const AssignmentMap& map, RateSide side, const std::string& subject,
                                   const LegToRate& leg, std::string_view rated_at_iso) const {
  const bool customer = side == RateSide::kCustomer;
  if (subject.empty()) return unrated(customer ? "no account_id on the leg" : "no trunk on the leg");
  bool known = false;
  const DeckIndex* deck = choose(map, subject, leg.direction_class, leg.start_us, &known);
  if (deck == nullptr) {
    std::string reason =
        customer ? "no customer deck assigned to account " + subject : "no vendor deck assigned to trunk " + subject;
    // The subject has decks, only none for this kind of call or this time.
    if (known) {
      reason += " for " + (leg.direction_class.empty() ? std::string("unclassified") : leg.direction_class) +
                " calls at " + format_iso_time_us(leg.start_us);
    }
    return unrated(std::move(reason));
  }
  if (!all_digits(leg.callee_digits)) return unrated("no callee number in E.164");
  const std::optional<RateMatch> match = deck->find(leg.callee_digits, leg.start_us);
  if (!match) return unrated("no prefix of " + leg.callee_digits + " in deck " + deck->settings().name);
  return outcome_of(deck->settings(), *match, leg, rated_at_iso);
}

RatingOutcome RatingSnapshot::customer(const LegToRate& leg, std::string_view rated_at_iso) const {
  return rate(customers_, RateSide::kCustomer, leg.account_id, leg, rated_at_iso);
}

RatingOutcome RatingSnapshot::vendor(const LegToRate& leg, std::string_view rated_at_iso) const {
  return rate(vendors_, RateSide::kVendor, leg.trunk, leg, rated_at_iso);
}

}  // namespace cdrd
