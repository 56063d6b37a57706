// Kazoo's own cost of a call, from the rating channel variables its
// hotornot/ecallmgr put on the channel (Rate, Rate-Increment, Rate-Minimum,
// Surcharge, Rate-NoCharge-Time, Discount-Percentage), in Kazoo's money
// unit: 1/10000 of a dollar. The formula is wht_util.erl's
// (calculate_call/5 and call_cost/1), computed exactly (GMP rationals) where
// Erlang uses floats:
//   secs <= 0 or secs <= no_charge_time    -> 0
//   increment 0                            -> 60
//   secs <= minimum: cost = trunc(surcharge + minimum/60 * rate)
//   else             cost = trunc(surcharge + minimum/60 * rate
//                                 + ceil((secs - minimum)/increment) * (increment/60 * rate))
//   discount = trunc(discount_percentage/100 * cost)
//   result   = cost - discount
// (Kazoo truncates the discount on its own before subtracting it.)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cdrd {

// Kazoo's money unit per dollar (wht_util's ?DOLLAR_TO_UNIT).
inline constexpr int64_t kKazooUnitsPerDollar = 10000;

// The rating variables in units and seconds; the defaults are Kazoo's for a
// missing variable.
struct KazooRate {
  int64_t rate_units = 0;    // per minute
  int64_t increment_s = 60;  // 0 is taken as 60
  int64_t minimum_s = 0;
  int64_t surcharge_units = 0;  // once per call
  int64_t nocharge_time_s = 0;
  int64_t discount_percentage = 0;
};

// The cost in units of a call of `billing_seconds`.
int64_t kazoo_cost_units(const KazooRate& rate, int64_t billing_seconds);

// The variables as the channel carries them: Rate and Surcharge in dollars
// as decimal text ("0.02" = 200 units, converted like wht_util's
// dollars_to_units: rounded to the nearest unit), the others whole numbers.
// nullopt = not on the channel (Kazoo's default).
struct KazooRateVars {
  std::optional<std::string> rate;
  std::optional<std::string> rate_increment;
  std::optional<std::string> rate_minimum;
  std::optional<std::string> surcharge;
  std::optional<std::string> rate_nocharge_time;
  std::optional<std::string> discount_percentage;

  bool any() const {
    return rate || rate_increment || rate_minimum || surcharge || rate_nocharge_time || discount_percentage;
  }
};

// The variables found in a record's channel variables, under Kazoo's names
// ("Rate-Increment") or their normalized form ("rate_increment"), the way
// wht_util looks both up.
KazooRateVars kazoo_rate_vars(const std::map<std::string, std::string>& channel_vars);

// False with *error naming the variable when one is not a number (or is
// negative).
bool kazoo_rate_from_vars(const KazooRateVars& vars, KazooRate* rate, std::string* error);

// kazoo_rate_from_vars + kazoo_cost_units; nullopt with *error.
std::optional<int64_t> kazoo_cost_units(const KazooRateVars& vars, int64_t billing_seconds, std::string* error);

// Units as dollars text: 420 -> "0.042".
std::string kazoo_units_to_dollars(int64_t units);

}  // namespace cdrd
