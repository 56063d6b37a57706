#include "daemon/rating/kazoo_cost.h"

#include "daemon/rating/decimal.h"

namespace cdrd {
namespace {

mpq_class q(int64_t n) { return mpq_class(mpz_class(static_cast<long>(n))); }

int64_t to_int64(const mpz_class& z) { return static_cast<int64_t>(z.get_si()); }

bool whole_number(const std::optional<std::string>& text, const char* name, int64_t* out, std::string* error) {
  if (!text) return true;
  const std::string& s = *text;
  bool ok = !s.empty() && s.size() <= 12;
  int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    v = v * 10 + (c - '0');
  }
  if (!ok) {
    *error = std::string(name) + " '" + s + "' is not a whole number of 0 or more";
    return false;
  }
  *out = v;
  return true;
}

bool dollars(const std::optional<std::string>& text, const char* name, int64_t* units, std::string* error) {
  if (!text) return true;
  const std::optional<Decimal> d = Decimal::parse(*text);
  if (!d || d->is_negative()) {
    *error = std::string(name) + " '" + *text + "' is not an amount of dollars of 0 or more";
    return false;
  }
  // erlang:round/1 of Dollars * 10000: nearest, a tie away from zero.
  const mpq_class scaled = d->value() * kKazooUnitsPerDollar;
  const mpz_class n = round_to_integer(scaled, RoundMode::kHalfAwayFromZero);
  if (!n.fits_slong_p()) {
    *error = std::string(name) + " '" + *text + "' is too large";
    return false;
  }
  *units = to_int64(n);
  return true;
}

const std::string* lookup(const std::map<std::string, std::string>& vars, const char* kazoo, const char* normalized) {
  auto it = vars.find(kazoo);
  if (it == vars.end()) it = vars.find(normalized);
  return it == vars.end() ? nullptr : &it->second;
}

std::optional<std::string> optional_of(const std::string* s) {
  if (s == nullptr) return std::nullopt;
  return *s;
}

}  // namespace

int64_t kazoo_cost_units(const KazooRate& rate, int64_t billing_seconds) {
  if (billing_seconds <= 0 || billing_seconds <= rate.nocharge_time_s) return 0;
  const int64_t increment = rate.increment_s <= 0 ? 60 : rate.increment_s;
  const int64_t minimum = rate.minimum_s;
  const mpq_class r = q(rate.rate_units);
  mpq_class cost = q(rate.surcharge_units) + q(minimum) / 60 * r;
  if (billing_seconds > minimum) {
    // ceiling((Secs - RM) / RI): both whole, so an integer ceiling division.
    const int64_t steps = (billing_seconds - minimum + increment - 1) / increment;
    cost += q(steps) * (q(increment) / 60 * r);
  }
  const mpz_class total = round_to_integer(cost, RoundMode::kTowardZero);
  const mpq_class discount_exact = q(rate.discount_percentage) / 100 * mpq_class(total);
  const mpz_class discount = round_to_integer(discount_exact, RoundMode::kTowardZero);
  return to_int64(total - discount);
}

KazooRateVars kazoo_rate_vars(const std::map<std::string, std::string>& channel_vars) {
  KazooRateVars v;
  v.rate = optional_of(lookup(channel_vars, "Rate", "rate"));
  v.rate_increment = optional_of(lookup(channel_vars, "Rate-Increment", "rate_increment"));
  v.rate_minimum = optional_of(lookup(channel_vars, "Rate-Minimum", "rate_minimum"));
  v.surcharge = optional_of(lookup(channel_vars, "Surcharge", "surcharge"));
  v.rate_nocharge_time = optional_of(lookup(channel_vars, "Rate-NoCharge-Time", "rate_nocharge_time"));
  v.discount_percentage = optional_of(lookup(channel_vars, "Discount-Percentage", "discount_percentage"));
  return v;
}

bool kazoo_rate_from_vars(const KazooRateVars& vars, KazooRate* rate, std::string* error) {
  KazooRate r;
  if (!dollars(vars.rate, "Rate", &r.rate_units, error) ||
      !whole_number(vars.rate_increment, "Rate-Increment", &r.increment_s, error) ||
      !whole_number(vars.rate_minimum, "Rate-Minimum", &r.minimum_s, error) ||
      !dollars(vars.surcharge, "Surcharge", &r.surcharge_units, error) ||
      !whole_number(vars.rate_nocharge_time, "Rate-NoCharge-Time", &r.nocharge_time_s, error) ||
      !whole_number(vars.discount_percentage, "Discount-Percentage", &r.discount_percentage, error)) {
    return false;
  }
  *rate = r;
  return true;
}

std::optional<int64_t> kazoo_cost_units(const KazooRateVars& vars, int64_t billing_seconds, std::string* error) {
  KazooRate rate;
  if (!kazoo_rate_from_vars(vars, &rate, error)) return std::nullopt;
  return kazoo_cost_units(rate, billing_seconds);
}

std::string kazoo_units_to_dollars(int64_t units) {
  const mpq_class dollars_value = q(units) / kKazooUnitsPerDollar;
  return Decimal(dollars_value).to_string();
}

}  // namespace cdrd
