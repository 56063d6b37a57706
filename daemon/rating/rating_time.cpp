#include "daemon/rating/rating_time.h"

#include <cstdio>

namespace cdrd {
namespace {

constexpr int64_t kUsPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t days_in_month(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at *pos.
bool digits(std::string_view s, size_t* pos, size_t n, int64_t* out) {
  if (*pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

std::optional<int64_t> parse_iso_time_us(std::string_view s) {
  size_t pos = 0;
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  if (!digits(s, &pos, 4, &year) || !expect(s, &pos, '-') || !digits(s, &pos, 2, &month) || !expect(s, &pos, '-') ||
      !digits(s, &pos, 2, &day)) {
    return std::nullopt;
  }
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t micros = 0;
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!digits(s, &pos, 2, &hour) || !expect(s, &pos, ':') || !digits(s, &pos, 2, &minute) || !expect(s, &pos, ':') ||
        !digits(s, &pos, 2, &second)) {
      return std::nullopt;
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t n = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && n < 7) {
        micros = micros * 10 + (s[pos] - '0');
        ++pos;
        ++n;
      }
      if (n == 0 || n > 6) return std::nullopt;
      for (; n < 6; ++n) micros *= 10;
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        const int64_t sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int64_t oh = 0;
        int64_t om = 0;
        if (!digits(s, &pos, 2, &oh)) return std::nullopt;
        if (pos < s.size() && (!expect(s, &pos, ':') || !digits(s, &pos, 2, &om))) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset_s = sign * (oh * 3600 + om * 60);
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  const int64_t seconds =
      days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_s;
  return seconds * kUsPerSecond + micros;
}

CivilTime civil_time(int64_t unix_seconds) {
  int64_t days = unix_seconds / kSecondsPerDay;
  int64_t in_day = unix_seconds % kSecondsPerDay;
  if (in_day < 0) {
    in_day += kSecondsPerDay;
    --days;
  }
  int64_t y = 0;
  int64_t m = 0;
  int64_t d = 0;
  civil_from_days(days, &y, &m, &d);
  CivilTime t;
  t.year = y;
  t.month = static_cast<int>(m);
  t.day = static_cast<int>(d);
  t.hour = static_cast<int>(in_day / 3600);
  t.minute = static_cast<int>(in_day / 60 % 60);
  t.second = static_cast<int>(in_day % 60);
  // 1970-01-01 was a Thursday (4).
  t.weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);
  return t;
}

std::string format_iso_time_us(int64_t us) {
  int64_t seconds = us / kUsPerSecond;
  int64_t micros = us % kUsPerSecond;
  if (micros < 0) {
    micros += kUsPerSecond;
    --seconds;
  }
  const CivilTime t = civil_time(seconds);
  char buf[48];
  const int n = std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(t.year),
                              t.month, t.day, t.hour, t.minute, t.second);
  std::string out(buf, static_cast<size_t>(n));
  if (micros != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(micros));
    out += buf;
  }
  out.push_back('Z');
  return out;
}

}  // namespace cdrd
