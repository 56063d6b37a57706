#include "daemon/rating/decimal.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace cdrd {
namespace {

constexpr size_t kMaxIntegerDigits = 18;

constexpr std::array<unsigned long, kMaxDecimalPlaces + 1> kPow10 = {
    1UL,        10UL,        100UL,        1000UL,        10000UL,        100000UL,       1000000UL,
    10000000UL, 100000000UL, 1000000000UL, 10000000000UL, 100000000000UL, 1000000000000UL};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// num / den rounded to an integer (den > 0).
mpz_class divide(const mpz_class& num, const mpz_class& den, RoundMode mode) {
  mpz_class q;
  switch (mode) {
    case RoundMode::kCeiling:
      mpz_cdiv_q(q.get_mpz_t(), num.get_mpz_t(), den.get_mpz_t());
      break;
    case RoundMode::kFloor:
      mpz_fdiv_q(q.get_mpz_t(), num.get_mpz_t(), den.get_mpz_t());
      break;
    case RoundMode::kTowardZero:
      mpz_tdiv_q(q.get_mpz_t(), num.get_mpz_t(), den.get_mpz_t());
      break;
    case RoundMode::kHalfAwayFromZero: {
      // floor((2|n| + d) / 2d) with the sign put back: a tie goes away from zero.
      const mpz_class twice_abs = 2 * abs(num);
      const mpz_class twice_den = 2 * den;
      mpz_class adjusted = twice_abs + den;
      mpz_fdiv_q(q.get_mpz_t(), adjusted.get_mpz_t(), twice_den.get_mpz_t());
      if (sgn(num) < 0) q = -q;
      break;
    }
  }
  return q;
}

}  // namespace

Decimal Decimal::from_integer(int64_t n) {
  mpz_class z;
  // mpz has no int64 constructor of its own on every platform; long is 64
  // bits on the LP64 targets cdrd builds for.
  static_assert(sizeof(long) == sizeof(int64_t), "LP64 expected");
  z = static_cast<long>(n);
  return Decimal(mpq_class(z));
}

std::optional<Decimal> Decimal::parse(std::string_view text) {
  size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) i = 1;
  const size_t int_begin = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  const size_t int_digits = i - int_begin;
  if (int_digits == 0 || int_digits > kMaxIntegerDigits) return std::nullopt;
  size_t frac_digits = 0;
  if (i < text.size()) {
    if (text[i] != '.') return std::nullopt;
    const size_t frac_begin = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    frac_digits = i - frac_begin;
    if (i != text.size() || frac_digits == 0 || frac_digits > static_cast<size_t>(kMaxDecimalPlaces)) {
      return std::nullopt;
    }
  }
  // The digits without the point, as one integer over 10^frac_digits. Up to
  // 19 digits fit an unsigned long, which avoids GMP's string parser.
  mpz_class num;
  if (int_digits + frac_digits <= 19) {
    unsigned long n = 0;
    for (size_t k = int_begin; k < text.size(); ++k) {
      if (text[k] != '.') n = n * 10 + static_cast<unsigned long>(text[k] - '0');
    }
    num = n;
  } else {
    std::string digits(text.substr(int_begin, int_digits));
    if (frac_digits > 0) digits.append(text.substr(int_begin + int_digits + 1));
    num.set_str(digits, 10);
  }
  if (negative) num = -num;
  mpq_class q(num, mpz_class(kPow10[frac_digits]));
  return Decimal(std::move(q));
}

std::string Decimal::to_string(int decimals, PriceRounding rounding) const {
  int places = kMaxDecimalPlaces;
  RoundMode mode = RoundMode::kHalfAwayFromZero;
  switch (rounding) {
    case PriceRounding::kNone:
      break;
    case PriceRounding::kUp:
      mode = RoundMode::kCeiling;
      break;
    case PriceRounding::kDown:
      mode = RoundMode::kFloor;
      break;
    case PriceRounding::kHalfUp:
      mode = RoundMode::kHalfAwayFromZero;
      break;
  }
  if (rounding != PriceRounding::kNone) places = std::clamp(decimals, 0, kMaxDecimalPlaces);

  // The value times 10^places, rounded: an integer whose last `places`
  // digits are the fraction. Money is nearly always a fraction of two
  // machine words, and then 128-bit integers do the division exactly at a
  // fraction of GMP's cost; anything larger goes through GMP.
  bool negative = false;
  std::string digits;
  const mpz_class& num = value_.get_num();
  const mpz_class& den = value_.get_den();
  if (num.fits_slong_p() && den.fits_slong_p()) {
    const long n = num.get_si();
    negative = n < 0;
    const unsigned __int128 scaled =
        static_cast<unsigned __int128>(negative ? -static_cast<__int128>(n) : n) * kPow10[places];
    const auto d = static_cast<unsigned __int128>(den.get_si());
    unsigned __int128 q = scaled / d;
    const unsigned __int128 r = scaled % d;
    // Rounding of the magnitude: toward +infinity is away from zero for a
    // positive value and toward zero for a negative one, and so on.
    const bool away = r != 0 && (mode == RoundMode::kHalfAwayFromZero ? 2 * r >= d
                                 : mode == RoundMode::kCeiling        ? !negative
                                 : mode == RoundMode::kFloor          ? negative
                                                                      : false);
    if (away) ++q;
    if (q == 0) negative = false;
    char buf[48];
    size_t len = 0;
    do {
      buf[len++] = static_cast<char>('0' + static_cast<int>(q % 10));
      q /= 10;
    } while (q != 0);
    digits.assign(std::make_reverse_iterator(buf + len), std::make_reverse_iterator(buf));
  } else {
    const mpz_class scaled_num = num * kPow10[places];
    const mpz_class n = divide(scaled_num, den, mode);
    negative = sgn(n) < 0;
    digits = mpz_class(abs(n)).get_str();
  }

  if (digits.size() <= static_cast<size_t>(places)) digits.insert(0, places + 1 - digits.size(), '0');
  std::string out;
  out.reserve(digits.size() + 2);
  if (negative) out.push_back('-');
  const size_t point = digits.size() - places;
  out.append(digits, 0, point);
  size_t frac_end = digits.size();
  while (frac_end > point && digits[frac_end - 1] == '0') --frac_end;
  if (frac_end > point) {
    out.push_back('.');
    out.append(digits, point, frac_end - point);
  }
  return out;
}

mpz_class round_to_integer(const mpq_class& x, RoundMode mode) { return divide(x.get_num(), x.get_den(), mode); }

std::string_view price_rounding_name(PriceRounding rounding) {
  switch (rounding) {
    case PriceRounding::kNone:
      return "none";
    case PriceRounding::kUp:
      return "up";
    case PriceRounding::kDown:
      return "down";
    case PriceRounding::kHalfUp:
      return "half_up";
  }
  return "none";
}

std::optional<PriceRounding> parse_price_rounding(std::string_view name) {
  if (name == "none") return PriceRounding::kNone;
  if (name == "up") return PriceRounding::kUp;
  if (name == "down") return PriceRounding::kDown;
  if (name == "half_up") return PriceRounding::kHalfUp;
  return std::nullopt;
}

}  // namespace cdrd
