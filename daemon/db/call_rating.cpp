#include "daemon/db/call_rating.h"

#include <map>

#include "daemon/rating/kazoo_cost.h"
#include "daemon/rating/rating_snapshot.h"

namespace cdrd {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;

LegToRate engine_leg(const RatingLeg& leg) {
  LegToRate out;
  out.account_id = leg.account_id;
  out.trunk = leg.trunk;
  out.direction_class = leg.direction_class;
  out.callee_digits = !leg.callee_e164.empty() && leg.callee_e164[0] == '+' ? leg.callee_e164.substr(1) : "";
  out.start_us = leg.start_us;
  out.answer_us = leg.answer_us;
  out.end_us = leg.end_us;
  // An import may carry billing_seconds without the times they came from:
  // the answered span is then those seconds, ending at the end (or after the start).
  if (out.answer_us == 0 && leg.billing_seconds > 0) {
    if (out.end_us == 0) out.end_us = leg.start_us + leg.billing_seconds * kMicrosPerSecond;
    out.answer_us = out.end_us - leg.billing_seconds * kMicrosPerSecond;
  }
  return out;
}

RateResult result_of(const RatingOutcome& o) {
  RateResult r;
  r.rated = o.rated;
  r.json = o.json();
  if (o.rated) {
    r.charge = o.charge;
    r.currency = o.currency;
    r.name = o.name;
  }
  return r;
}

std::optional<int64_t> kazoo_cost(const std::vector<std::pair<std::string, std::string>>& vars,
                                  int64_t billing_seconds) {
  if (vars.empty()) return std::nullopt;
  const KazooRateVars rate = kazoo_rate_vars(std::map<std::string, std::string>(vars.begin(), vars.end()));
  // Without a Rate there is nothing Kazoo would charge for.
  if (!rate.rate) return std::nullopt;
  std::string error;
  return kazoo_cost_units(rate, billing_seconds, &error);
}

// No deck stored at all: rating is not in use, and a record gets no
// "unrated" for it. Once any deck exists, every leg that should be priced
// and is not says why.
bool rating_in_use(const RatingSnapshot* snapshot) { return snapshot != nullptr && snapshot->deck_count() > 0; }

}  // namespace

std::string LegRatings::json() const {
  std::string out = "{";
  auto member = [&out](const char* name, const std::string& value) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":";
    out += value;
  };
  if (customer) member("customer", customer->json);
  if (vendor) member("vendor", vendor->json);
  if (kazoo_cost) member("kazoo_cost", std::to_string(*kazoo_cost));
  out += '}';
  return out;
}

std::string LegRatings::destination_name() const {
  if (customer && customer->rated && !customer->name.empty()) return customer->name;
  if (vendor && vendor->rated && !vendor->name.empty()) return vendor->name;
  return {};
}

std::optional<RateResult> rate_customer(const RatingSnapshot* snapshot, const RatingLeg& leg,
                                        const std::string& rated_at) {
  if (!rating_in_use(snapshot)) return std::nullopt;
  return result_of(snapshot->customer(engine_leg(leg), rated_at));
}

LegRatings rate_leg(const RatingSnapshot* snapshot, const RatingLeg& leg, bool root,
                    const std::vector<std::pair<std::string, std::string>>& kazoo_vars, const std::string& rated_at) {
  LegRatings out;
  if (root) out.customer = rate_customer(snapshot, leg, rated_at);
  if (!leg.trunk.empty() && rating_in_use(snapshot)) {
    out.vendor = result_of(snapshot->vendor(engine_leg(leg), rated_at));
  }
  out.kazoo_cost = kazoo_cost(kazoo_vars, leg.billing_seconds);
  return out;
}

}  // namespace cdrd
