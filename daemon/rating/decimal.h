// Exact decimal money for rating. A Decimal is a GMP rational (mpq_class):
// rates such as 0.012 per minute divided by 60 seconds are not decimal
// fractions any more (0.0002 per second is, 0.01/60 is not), so a fixed
// number of places would round inside the formula. The value stays exact
// through every step and is rounded once, when it is written as text.
// Nothing here ever goes through binary floating point.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdrd {

// How a value is cut to a number of decimal places when written.
//   kNone:   the exact value; one that needs more than kMaxDecimalPlaces
//            places (e.g. 0.01/3) is rounded half up at the last of them.
//   kUp:     toward +infinity (ceiling).
//   kDown:   toward -infinity (floor).
//   kHalfUp: to the nearest, a tie away from zero.
enum class PriceRounding { kNone, kUp, kDown, kHalfUp };

// The most decimal places a Decimal is parsed with or written with.
inline constexpr int kMaxDecimalPlaces = 12;

class Decimal {
 public:
  Decimal() = default;  // zero
  explicit Decimal(mpq_class value) : value_(std::move(value)) { value_.canonicalize(); }
  // Moves swap (GMP never allocates for that) and are noexcept, so a
  // vector of rates grows by moving them instead of copying every number.
  Decimal(const Decimal&) = default;
  Decimal& operator=(const Decimal&) = default;
  Decimal(Decimal&& other) noexcept { value_.swap(other.value_); }
  Decimal& operator=(Decimal&& other) noexcept {
    value_.swap(other.value_);
    return *this;
  }
  ~Decimal() = default;
  static Decimal from_integer(int64_t n);

  // Strict decimal text: an optional '-', at least one digit, optionally a
  // '.' followed by at least one digit, at most kMaxDecimalPlaces of them and
  // at most 18 before the point. No '+', no exponent, no spaces, no ','.
  // nullopt when `text` is anything else.
  static std::optional<Decimal> parse(std::string_view text);

  const mpq_class& value() const { return value_; }
  bool is_negative() const { return sgn(value_) < 0; }
  bool is_zero() const { return sgn(value_) == 0; }

  // The shortest decimal text of the value cut to `decimals` places (0 to
  // kMaxDecimalPlaces) by `rounding`: no trailing zeros and no trailing '.',
  // "0" for zero, "-0.5" style for negatives. With kNone `decimals` is not
  // used (see PriceRounding).
  std::string to_string(int decimals, PriceRounding rounding) const;
  // The exact value as text (kNone).
  std::string to_string() const { return to_string(0, PriceRounding::kNone); }

  Decimal& operator+=(const Decimal& other) {
    value_ += other.value_;
    return *this;
  }
  friend Decimal operator+(const Decimal& a, const Decimal& b) { return Decimal(mpq_class(a.value_ + b.value_)); }
  friend Decimal operator-(const Decimal& a, const Decimal& b) { return Decimal(mpq_class(a.value_ - b.value_)); }
  friend Decimal operator*(const Decimal& a, const Decimal& b) { return Decimal(mpq_class(a.value_ * b.value_)); }
  friend bool operator==(const Decimal& a, const Decimal& b) { return a.value_ == b.value_; }
  friend bool operator!=(const Decimal& a, const Decimal& b) { return a.value_ != b.value_; }
  friend bool operator<(const Decimal& a, const Decimal& b) { return a.value_ < b.value_; }

 private:
  mpq_class value_;
};

// `x` rounded to an integer.
enum class RoundMode { kCeiling, kFloor, kHalfAwayFromZero, kTowardZero };
mpz_class round_to_integer(const mpq_class& x, RoundMode mode);

// The names used on the command line and in the database.
std::string_view price_rounding_name(PriceRounding rounding);
std::optional<PriceRounding> parse_price_rounding(std::string_view name);

}  // namespace cdrd
