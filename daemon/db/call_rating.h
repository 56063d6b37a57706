// Which charges a leg gets, in the shape call assembly stores
// (daemon/db/call_store.h): the vendor charge on a leg with a trunk, the
// customer charge on the leg that stands for the call, Kazoo's own cost when
// the CDR carries Kazoo's rating variables. The prices themselves come from
// the rating engine (daemon/rating/), from decks cached in a RatingSnapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cdrd {

class RatingSnapshot;

struct RatingLeg {
  std::string account_id, trunk, direction_class;
  std::string callee_e164;                          // "+33170363950"; empty when the callee is not an E.164 number
  int64_t start_us = 0, answer_us = 0, end_us = 0;  // answer_us 0: unanswered
  int64_t billing_seconds = 0;                      // when the times are missing (an import without them)
};

struct RateResult {
  bool rated = false;
  std::string json;                    // the stored object: the rate and the charge, or status "unrated" and why
  std::string charge, currency, name;  // when rated: money as exact decimal text, the rate's name
};

struct LegRatings {
  std::optional<RateResult> customer;  // only on the root leg
  std::optional<RateResult> vendor;    // only on a leg with a trunk
  std::optional<int64_t> kazoo_cost;   // units of 1/10000, from Kazoo's channel variables
  bool empty() const { return !customer && !vendor && !kazoo_cost; }
  // {"customer":{...},"vendor":{...},"kazoo_cost":420}
  std::string json() const;
  // The matched rate's name: the customer's, else the vendor's; empty when none matched.
  std::string destination_name() const;
};

// Without a snapshot (no deck loaded yet) the customer and vendor sides are
// absent; Kazoo's cost needs none.
// Kazoo's cost is of leg.billing_seconds.
LegRatings rate_leg(const RatingSnapshot* snapshot, const RatingLeg& leg, bool root,
                    const std::vector<std::pair<std::string, std::string>>& kazoo_vars, const std::string& rated_at);
std::optional<RateResult> rate_customer(const RatingSnapshot* snapshot, const RatingLeg& leg,
                                        const std::string& rated_at);

}  // namespace cdrd
