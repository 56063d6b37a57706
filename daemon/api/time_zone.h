// Time zones of the read API (issue 13, section 6). A request may ask for
// its times in an IANA zone (`tz=Europe/Berlin`) or at a fixed offset
// (Kazoo's `utc_offset=-18000`: seconds east of UTC, no DST). The times a
// list or a CSV export writes then carry that zone's offset, and the
// summary's hour / day buckets are that zone's local hours / days, cut by
// PostgreSQL (sql_zone()); a local day across a DST change is 23 or 25 hours.
// Without either parameter everything stays UTC, written with "Z" as before.
//
// The zone rules are Howard Hinnant's date library (Debian's libdate-tz,
// built with USE_OS_TZDB): it reads the system's /usr/share/zoneinfo, the
// files Debian's PostgreSQL reads too (--with-system-tzdata), so the list's
// offsets and the summary's days agree, and a tzdata update needs no
// rebuild. Every function here is pure and thread-safe (the tz database is
// loaded once, on first use, behind the library's own locks).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <date/date.h>

namespace date {
class time_zone;
}  // namespace date

namespace cdrd {

// utc_offset's bounds, in seconds. Kazoo adds any integer to its timestamps;
// cdrd takes at most a day either way (real offsets are -12:00..+14:00), so a
// typo in milliseconds or minutes is a 400 instead of a shifted export.
inline constexpr int32_t kMaxUtcOffsetSeconds = 86400;

struct ZoneChoice {
  enum class Kind {
    kUtc,          // neither parameter: UTC, written "Z" (the output before issue 13)
    kZone,         // tz: a zone of the tz database
    kFixedOffset,  // utc_offset
  };
  Kind kind = Kind::kUtc;
  // kZone: owned by the library's tz database, valid for the whole process.
  const date::time_zone* zone = nullptr;
  // kFixedOffset: seconds east of UTC, within +-kMaxUtcOffsetSeconds.
  int32_t offset_seconds = 0;
};

// Reads `tz` (an IANA name, exact case, e.g. Europe/Berlin or UTC) and
// `utc_offset` (a decimal integer of seconds east of UTC, optional sign,
// -86400..86400) from the query parameters; other parameters are ignored
// (the route refuses unknown ones). Neither: *out = UTC (Kind::kUtc). False
// with *error naming the parameter ("tz: ...", "utc_offset: ...") for an
// unknown zone, an offset that is no integer or out of range, or both given.
bool parse_zone_params(const std::map<std::string, std::string>& params, ZoneChoice* out, std::string* error);

// The offset from UTC, in seconds east, in force at `unix_seconds`.
int64_t utc_offset_at(const ZoneChoice& zone, int64_t unix_seconds);

// fraction_digits for format_local_iso(): six digits when the microseconds
// are not 0, none otherwise (format_iso_time_us()'s style, rating_time.h).
inline constexpr int kFractionWhenNotZero = -1;

// The instant `unix_micros` (microseconds since the Unix epoch) as local
// ISO-8601 time in `zone`: "2026-03-29T03:00:00.000+02:00". fraction_digits
// 0..6 digits of the second (cut, not rounded; 0: no '.'; above 6 is 6), or
// kFractionWhenNotZero. The offset is "+HH:MM", "+HH:MM:SS" when it has
// seconds (a zone's local mean time before 1900); Kind::kUtc writes "Z"
// instead, while an asked UTC (tz=UTC, utc_offset=0) writes "+00:00".
std::string format_local_iso(int64_t unix_micros, const ZoneChoice& zone, int fraction_digits);

// A local calendar day: [start_unix, end_unix) is its span in Unix seconds,
// 86400 s but on a DST change (23 h in spring, 25 h in autumn).
struct LocalDay {
  date::year_month_day date;
  int64_t start_unix = 0;
  int64_t end_unix = 0;
};

// The first instant of the local day `day`: its midnight; the end of the DST
// gap when the clocks skip midnight (Asia/Beirut in spring: 01:00); the
// first of the two when midnight happens twice (Atlantic/Azores in autumn
// goes from 00:59:59 back to 00:00). The same instant as the summary's day
// bucket start (PostgreSQL's date_trunc('day', ts, zone)) but in that last
// case, where PostgreSQL takes the second midnight: the same local date and
// wall clock, an hour later.
int64_t local_day_start(const ZoneChoice& zone, date::year_month_day day);

// The local day `unix_seconds` falls in, with its span.
LocalDay local_day_of(const ZoneChoice& zone, int64_t unix_seconds);

// The zone as PostgreSQL text for its time zone parameters (`AT TIME ZONE`,
// date_trunc(unit, timestamptz, zone), SET TimeZone), to be passed as a bind
// parameter, never spliced into SQL:
// - Kind::kUtc: "UTC".
// - kZone: the zone's name. Except CET, EET, MET and WET: PostgreSQL reads
//   these as its fixed-offset abbreviations (they win over zone names), so
//   they become the zones tzdata 2024b made them links to (Europe/Brussels,
//   Europe/Athens, Europe/Lisbon): the same offsets since 1996 (CET and MET
//   since 1970), so for any CDR.
// - kFixedOffset: a POSIX zone with the sign turned ("<+0530>-05:30" for
//   +05:30, "<-05>+05" for -18000): POSIX counts hours west, so a text such
//   as "+05:30" would be 05:30 west of UTC. An INTERVAL would keep the sign
//   but is refused by date_trunc()'s zone argument; the POSIX text works in
//   both. utc_offset=0 gives "UTC".
std::string sql_zone(const ZoneChoice& zone);

}  // namespace cdrd
