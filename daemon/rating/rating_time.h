// Instants of the rating engine: microseconds since the Unix epoch (int64),
// the unit of a CDR's uepoch fields, read from and written as ISO-8601 UTC.
// Pure arithmetic (days from civil dates), no time zone database and no libc
// time functions, so the results do not depend on the host's TZ.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace cdrd {

// An open end of a validity window: valid since always / until forever.
inline constexpr int64_t kNoStartUs = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kNoEndUs = std::numeric_limits<int64_t>::max();

// "2024-01-31" (midnight UTC), "2024-01-31T10:20:30", with ' ' instead of
// 'T' too, optionally ".f" (1 to 6 digits) and a zone "Z", "+HH:MM", "-HH:MM"
// or "+HH" (none = UTC). Years 1000 to 9999. nullopt for anything else,
// including impossible dates (2023-02-29) and times (24:00:00).
std::optional<int64_t> parse_iso_time_us(std::string_view text);

// "2024-01-31T10:20:30Z", with ".123456" only when the microseconds are not 0.
std::string format_iso_time_us(int64_t us);

// The UTC calendar date and time of a second since the Unix epoch
// (proleptic Gregorian, any year); weekday 0 = Sunday.
struct CivilTime {
  int64_t year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int weekday = 4;
};
CivilTime civil_time(int64_t unix_seconds);

}  // namespace cdrd
