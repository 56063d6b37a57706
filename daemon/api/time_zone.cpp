#include "daemon/api/time_zone.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <chrono>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace cdrd {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

// The zones PostgreSQL's default abbreviations shadow with a fixed offset
// although the zone has DST, and the zone each is a link to since tzdata
// 2024b (Debian 12's tzdata keeps them as zones of their own: same offsets
// since 1996 at the latest, zdump). EST, MST, HST, GMT, UTC, UCT and Zulu
// are shadowed too, but by their own constant offset.
struct ShadowedZone {
  std::string_view name;
  const char* sql_name;
};
constexpr std::array<ShadowedZone, 4> kShadowedZones = {{
    {"CET", "Europe/Brussels"},
    {"EET", "Europe/Athens"},
    {"MET", "Europe/Brussels"},
    {"WET", "Europe/Lisbon"},
}};

// utc_offset's value: [+-]digits, nothing else (Kazoo's binary_to_integer;
// its float fallback is not taken).
bool parse_offset(std::string_view text, int32_t* out) {
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == '-' || text.front() == '+') return false;
  int64_t magnitude = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, magnitude);
  if (ec != std::errc() || ptr != end || magnitude > kMaxUtcOffsetSeconds) return false;
  *out = static_cast<int32_t>(negative ? -magnitude : magnitude);
  return true;
}

// "+HH:MM", or "+HH:MM:SS" when the offset has seconds.
void append_offset(int64_t offset, std::string* out) {
  const char sign = offset < 0 ? '-' : '+';
  const int64_t magnitude = offset < 0 ? -offset : offset;
  fmt::format_to(std::back_inserter(*out), "{}{:02}:{:02}", sign, magnitude / 3600, magnitude / 60 % 60);
  if (magnitude % 60 != 0) fmt::format_to(std::back_inserter(*out), ":{:02}", magnitude % 60);
}

// The POSIX zone of a fixed offset east of UTC: the name in <> as tzdata
// writes such zones (<+05>, <+0530>, <-000001>), then the offset west.
std::string posix_fixed_zone(int64_t offset) {
  const int64_t magnitude = offset < 0 ? -offset : offset;
  const int64_t h = magnitude / 3600;
  const int64_t m = magnitude / 60 % 60;
  const int64_t s = magnitude % 60;
  const char east = offset < 0 ? '-' : '+';
  const char west = offset < 0 ? '+' : '-';
  if (s != 0) return fmt::format("<{}{:02}{:02}{:02}>{}{:02}:{:02}:{:02}", east, h, m, s, west, h, m, s);
  if (m != 0) return fmt::format("<{}{:02}{:02}>{}{:02}:{:02}", east, h, m, west, h, m);
  return fmt::format("<{}{:02}>{}{:02}", east, h, west, h);
}

}  // namespace

bool parse_zone_params(const std::map<std::string, std::string>& params, ZoneChoice* out, std::string* error) {
  const auto tz = params.find("tz");
  const auto offset = params.find("utc_offset");
  if (tz != params.end() && offset != params.end()) {
    *error = "tz: give either tz or utc_offset, not both";
    return false;
  }
  if (tz != params.end()) {
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(tz->second);
    } catch (const std::runtime_error&) {
      // The library's only way to say "no such zone".
    }
    if (zone == nullptr) {
      *error = "tz: unknown time zone '" + tz->second + "'; expected an IANA name such as Europe/Berlin";
      return false;
    }
    *out = ZoneChoice{ZoneChoice::Kind::kZone, zone, 0};
    return true;
  }
  if (offset != params.end()) {
    int32_t seconds_east = 0;
    if (!parse_offset(offset->second, &seconds_east)) {
      *error = "utc_offset: expected an integer of seconds east of UTC from -" + std::to_string(kMaxUtcOffsetSeconds) +
               " to " + std::to_string(kMaxUtcOffsetSeconds) + ", got '" + offset->second + "'";
      return false;
    }
    *out = ZoneChoice{ZoneChoice::Kind::kFixedOffset, nullptr, seconds_east};
    return true;
  }
  *out = ZoneChoice{};
  return true;
}

int64_t utc_offset_at(const ZoneChoice& zone, int64_t unix_seconds) {
  switch (zone.kind) {
    case ZoneChoice::Kind::kZone:
      return zone.zone->get_info(date::sys_seconds{seconds{unix_seconds}}).offset.count();
    case ZoneChoice::Kind::kFixedOffset:
      return zone.offset_seconds;
    case ZoneChoice::Kind::kUtc:
      break;
  }
  return 0;
}

std::string format_local_iso(int64_t unix_micros, const ZoneChoice& zone, int fraction_digits) {
  const date::sys_time<microseconds> instant{microseconds{unix_micros}};
  const int64_t offset = utc_offset_at(zone, date::floor<seconds>(instant).time_since_epoch().count());
  // The wall clock as a local_time: the library's calendar does the rest.
  const date::local_time<microseconds> local{instant.time_since_epoch() + seconds{offset}};
  const date::local_days day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<microseconds> tod{local - day};
  std::string out;
  out.reserve(40);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                 static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), tod.hours().count(),
                 tod.minutes().count(), tod.seconds().count());
  int digits = fraction_digits;
  const int64_t micros = tod.subseconds().count();
  if (digits == kFractionWhenNotZero) digits = micros == 0 ? 0 : 6;
  if (digits > 6) digits = 6;
  if (digits > 0) {
    // The first `digits` of the six: cut, not rounded (a time never moves
    // into the next second).
    const int64_t scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    fmt::format_to(std::back_inserter(out), ".{:0{}}", micros / scale[6 - digits], digits);
  }
  if (zone.kind == ZoneChoice::Kind::kUtc) {
    out += 'Z';
  } else {
    append_offset(offset, &out);
  }
  return out;
}

int64_t local_day_start(const ZoneChoice& zone, date::year_month_day day) {
  if (zone.kind == ZoneChoice::Kind::kZone) {
    // A midnight in a DST gap gives the end of the gap, as PostgreSQL does.
    return zone.zone->to_sys(date::local_days{day}, date::choose::earliest).time_since_epoch().count();
  }
  // A constant offset (0 for UTC).
  return date::sys_seconds{date::sys_days{day}}.time_since_epoch().count() - utc_offset_at(zone, 0);
}

LocalDay local_day_of(const ZoneChoice& zone, int64_t unix_seconds) {
  const int64_t offset = utc_offset_at(zone, unix_seconds);
  const date::local_seconds local{seconds{unix_seconds + offset}};
  LocalDay day;
  day.date = date::year_month_day{date::floor<date::days>(local)};
  day.start_unix = local_day_start(zone, day.date);
  day.end_unix = local_day_start(zone, date::year_month_day{date::sys_days{day.date} + date::days{1}});
  return day;
}

std::string sql_zone(const ZoneChoice& zone) {
  switch (zone.kind) {
    case ZoneChoice::Kind::kZone:
      for (const ShadowedZone& shadowed : kShadowedZones) {
        if (zone.zone->name() == shadowed.name) return shadowed.sql_name;
      }
      return zone.zone->name();
    case ZoneChoice::Kind::kFixedOffset:
      if (zone.offset_seconds != 0) return posix_fixed_zone(zone.offset_seconds);
      break;
    case ZoneChoice::Kind::kUtc:
      break;
  }
  return "UTC";
}

}  // namespace cdrd
