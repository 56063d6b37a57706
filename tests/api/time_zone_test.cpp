// The read API's time zones against hand-worked instants (Unix seconds from
// 2026-01-01T00:00:00Z = 1767225600, + 86400 per day):
//   2026-03-29 (Sunday, day 87)  00:00Z = 1774742400: Europe/Berlin goes from
//       +01:00 to +02:00 at 01:00Z, Asia/Beirut from +02:00 to +03:00 at
//       22:00Z on the 28th (its midnight is skipped).
//   2026-10-25 (Sunday, day 297) 00:00Z = 1792886400: Berlin back to +01:00
//       at 01:00Z.
//   2026-03-08 (Sunday, day 66)  00:00Z = 1772928000: America/New_York from
//       -05:00 to -04:00 at 07:00Z.
//   2026-11-01 (Sunday, day 304) 00:00Z = 1793491200: New York back to
//       -05:00 at 06:00Z.
#include "daemon/api/time_zone.h"

#include <gtest/gtest.h>

#include <date/tz.h>

#include <map>
#include <string>

namespace cdrd {
namespace {

constexpr int64_t kMarch29 = 1774742400;
constexpr int64_t kOctober25 = 1792886400;
constexpr int64_t kMarch8 = 1772928000;
constexpr int64_t kNovember1 = 1793491200;
constexpr int64_t kUs = 1000000;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

ZoneChoice parsed(const std::map<std::string, std::string>& params) {
  ZoneChoice zone;
  std::string error;
  EXPECT_TRUE(parse_zone_params(params, &zone, &error)) << error;
  return zone;
}

ZoneChoice tz(const std::string& name) { return parsed({{"tz", name}}); }
ZoneChoice offset(const std::string& seconds) { return parsed({{"utc_offset", seconds}}); }

std::string refused(const std::map<std::string, std::string>& params) {
  ZoneChoice zone;
  std::string error;
  EXPECT_FALSE(parse_zone_params(params, &zone, &error));
  return error;
}

TEST(TimeZoneParams, NeitherParameterIsUtc) {
  const ZoneChoice zone = parsed({{"created_from", "63000000000"}, {"page_size", "10"}});
  EXPECT_EQ(zone.kind, ZoneChoice::Kind::kUtc);
}

TEST(TimeZoneParams, TzNamesAZoneOfTheDatabase) {
  const ZoneChoice zone = tz("Europe/Berlin");
  ASSERT_EQ(zone.kind, ZoneChoice::Kind::kZone);
  EXPECT_EQ(zone.zone->name(), "Europe/Berlin");
  EXPECT_EQ(tz("UTC").kind, ZoneChoice::Kind::kZone);
}

TEST(TimeZoneParams, UnknownZonesAreRefusedByName) {
  for (const char* name : {"Europe/Nowhere", "", "europe/berlin", "Berlin", "../../etc/passwd", "+02:00"}) {
    const std::string error = refused({{"tz", name}});
    EXPECT_EQ(error.rfind("tz: unknown time zone '" + std::string(name) + "'", 0), 0u) << error;
  }
}

TEST(TimeZoneParams, UtcOffsetIsAnIntegerOfSecondsEastWithinADay) {
  for (const auto& [text, seconds] : std::map<std::string, int32_t>{
           {"-18000", -18000}, {"+3600", 3600}, {"3600", 3600}, {"0", 0}, {"86400", 86400}, {"-86400", -86400}}) {
    const ZoneChoice zone = offset(text);
    EXPECT_EQ(zone.kind, ZoneChoice::Kind::kFixedOffset) << text;
    EXPECT_EQ(zone.offset_seconds, seconds) << text;
  }
  for (const char* text : {"86401", "-86401", "", "-", "+", "abc", "1.5", "-18000.0", "+-5", "--5", " 5", "5 ", "0x10",
                           "99999999999999999999999"}) {
    const std::string error = refused({{"utc_offset", text}});
    EXPECT_EQ(error.rfind("utc_offset: expected an integer", 0), 0u) << text << ": " << error;
    EXPECT_NE(error.find("'" + std::string(text) + "'"), std::string::npos) << error;
  }
}

TEST(TimeZoneParams, BothAtOnceAreRefused) {
  const std::string error = refused({{"tz", "Europe/Berlin"}, {"utc_offset", "3600"}});
  EXPECT_EQ(error, "tz: give either tz or utc_offset, not both");
}

TEST(TimeZoneFormat, DefaultStaysUtcWithZ) {
  const ZoneChoice utc;
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs + 123456, utc, kFractionWhenNotZero),
            "2026-03-29T01:00:00.123456Z");
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs, utc, kFractionWhenNotZero), "2026-03-29T01:00:00Z");
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs + 123456, utc, 0), "2026-03-29T01:00:00Z");
  // Cut, never rounded up into the next second.
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs + 999999, utc, 3), "2026-03-29T01:00:00.999Z");
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs + 5, utc, 6), "2026-03-29T01:00:00.000005Z");
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs + 5, utc, 9), "2026-03-29T01:00:00.000005Z");
  // Before the epoch: the microseconds count forward from the second below.
  EXPECT_EQ(format_local_iso(-1, utc, 6), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeZoneFormat, AnAskedUtcWritesItsOffset) {
  EXPECT_EQ(format_local_iso(kMarch29 * kUs, tz("UTC"), 0), "2026-03-29T00:00:00+00:00");
  EXPECT_EQ(format_local_iso(kMarch29 * kUs, offset("0"), 0), "2026-03-29T00:00:00+00:00");
  // Europe/London is at +00:00 in winter: an offset, not Z.
  EXPECT_EQ(format_local_iso(kMarch29 * kUs, tz("Europe/London"), 0), "2026-03-29T00:00:00+00:00");
}

TEST(TimeZoneFormat, BerlinAcrossBothDstChanges) {
  const ZoneChoice berlin = tz("Europe/Berlin");
  // Spring: 01:59:59 CET is followed by 03:00:00 CEST.
  EXPECT_EQ(format_local_iso((kMarch29 + 3599) * kUs, berlin, 0), "2026-03-29T01:59:59+01:00");
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs, berlin, 3), "2026-03-29T03:00:00.000+02:00");
  EXPECT_EQ(utc_offset_at(berlin, kMarch29 + 3599), 3600);
  EXPECT_EQ(utc_offset_at(berlin, kMarch29 + 3600), 7200);
  // Autumn: 02:59:59 CEST is followed by 02:00:00 CET.
  EXPECT_EQ(format_local_iso((kOctober25 + 3599) * kUs + 250000, berlin, 2), "2026-10-25T02:59:59.25+02:00");
  EXPECT_EQ(format_local_iso((kOctober25 + 3600) * kUs, berlin, 0), "2026-10-25T02:00:00+01:00");
  EXPECT_EQ(utc_offset_at(berlin, kOctober25 + 3600), 3600);
}

TEST(TimeZoneFormat, NewYorkAcrossBothDstChanges) {
  const ZoneChoice ny = tz("America/New_York");
  EXPECT_EQ(format_local_iso((kMarch8 + 7 * kHour - 1) * kUs, ny, 0), "2026-03-08T01:59:59-05:00");
  EXPECT_EQ(format_local_iso((kMarch8 + 7 * kHour) * kUs, ny, 0), "2026-03-08T03:00:00-04:00");
  // 01:30 happens twice on November 1st.
  EXPECT_EQ(format_local_iso((kNovember1 + 5 * kHour + 1800) * kUs, ny, 0), "2026-11-01T01:30:00-04:00");
  EXPECT_EQ(format_local_iso((kNovember1 + 6 * kHour + 1800) * kUs, ny, 0), "2026-11-01T01:30:00-05:00");
  EXPECT_EQ(utc_offset_at(ny, kNovember1 + 6 * kHour + 1800), -18000);
}

TEST(TimeZoneFormat, FixedOffsets) {
  // 2026-03-29T01:00:00Z at -05:00 is 20:00 on the 28th.
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs, offset("-18000"), 0), "2026-03-28T20:00:00-05:00");
  EXPECT_EQ(utc_offset_at(offset("-18000"), kMarch29), -18000);
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs, offset("19800"), 0), "2026-03-29T06:30:00+05:30");
  // An offset with seconds writes them.
  EXPECT_EQ(format_local_iso(kMarch29 * kUs, offset("-3661"), 0), "2026-03-28T22:58:59-01:01:01");
  // A whole day either way.
  EXPECT_EQ(format_local_iso(kMarch29 * kUs, offset("86400"), 0), "2026-03-30T00:00:00+24:00");
}

TEST(TimeZoneFormat, IanaZonesWithHalfHoursAndLocalMeanTime) {
  EXPECT_EQ(format_local_iso((kMarch29 + 3600) * kUs, tz("Asia/Kolkata"), 0), "2026-03-29T06:30:00+05:30");
  // 1890-01-01T00:00:00Z (80 years and 19 leap days before 1970: -29219 days):
  // Berlin kept its local mean time, +00:53:28, until 1893.
  EXPECT_EQ(format_local_iso(-29219 * kDay * kUs, tz("Europe/Berlin"), 0), "1890-01-01T00:53:28+00:53:28");
}

TEST(TimeZoneDays, BerlinSpringDayHas23Hours) {
  const ZoneChoice berlin = tz("Europe/Berlin");
  // From 2026-03-28T23:00Z (00:00 CET) to 2026-03-29T22:00Z (00:00 CEST on the 30th).
  const LocalDay day = local_day_of(berlin, kMarch29 + 3600);
  EXPECT_EQ(day.date, date::year_month_day(date::year{2026}, date::month{3}, date::day{29}));
  EXPECT_EQ(day.start_unix, kMarch29 - 3600);
  EXPECT_EQ(day.end_unix, kMarch29 + 22 * kHour);
  EXPECT_EQ(day.end_unix - day.start_unix, 23 * kHour);
  // The last second of the 28th, local.
  EXPECT_EQ(local_day_of(berlin, kMarch29 - 3601).date,
            date::year_month_day(date::year{2026}, date::month{3}, date::day{28}));
  EXPECT_EQ(local_day_of(berlin, kMarch29 - 3600).date, day.date);
}

TEST(TimeZoneDays, BerlinAutumnDayHas25Hours) {
  const ZoneChoice berlin = tz("Europe/Berlin");
  // From 2026-10-24T22:00Z (00:00 CEST) to 2026-10-25T23:00Z (00:00 CET on the 26th).
  const LocalDay day = local_day_of(berlin, kOctober25 + 3600);
  EXPECT_EQ(day.date, date::year_month_day(date::year{2026}, date::month{10}, date::day{25}));
  EXPECT_EQ(day.start_unix, kOctober25 - 7200);
  EXPECT_EQ(day.end_unix, kOctober25 + 23 * kHour);
  EXPECT_EQ(day.end_unix - day.start_unix, 25 * kHour);
  EXPECT_EQ(local_day_start(berlin, date::year_month_day(date::year{2026}, date::month{10}, date::day{26})),
            kOctober25 + 23 * kHour);
}

TEST(TimeZoneDays, NewYorkAutumnDayHas25Hours) {
  const ZoneChoice ny = tz("America/New_York");
  // From 2026-11-01T04:00Z (00:00 EDT) to 2026-11-02T05:00Z (00:00 EST).
  const LocalDay day = local_day_of(ny, kNovember1 + 6 * kHour + 1800);
  EXPECT_EQ(day.date, date::year_month_day(date::year{2026}, date::month{11}, date::day{1}));
  EXPECT_EQ(day.start_unix, kNovember1 + 4 * kHour);
  EXPECT_EQ(day.end_unix, kNovember1 + 86400 + 5 * kHour);
}

TEST(TimeZoneDays, AMidnightInTheDstGapStartsTheDayAtTheGapsEnd) {
  // Asia/Beirut skips 00:00..00:59 on 2026-03-29: the day starts at 01:00
  // EEST = 2026-03-28T22:00Z and ends at 00:00 EEST = 2026-03-29T21:00Z.
  const ZoneChoice beirut = tz("Asia/Beirut");
  const LocalDay day = local_day_of(beirut, kMarch29 - 7200);
  EXPECT_EQ(day.date, date::year_month_day(date::year{2026}, date::month{3}, date::day{29}));
  EXPECT_EQ(day.start_unix, kMarch29 - 7200);
  EXPECT_EQ(day.end_unix, kMarch29 + 21 * kHour);
  EXPECT_EQ(local_day_of(beirut, kMarch29 - 7201).date,
            date::year_month_day(date::year{2026}, date::month{3}, date::day{28}));
}

TEST(TimeZoneDays, AMidnightThatHappensTwiceStartsTheDayAtTheFirst) {
  // Atlantic/Azores goes from 00:59:59 +00:00 back to 00:00:00 -01:00 at
  // 2026-10-25T01:00Z: the 25th runs from 00:00Z to 01:00Z on the 26th.
  const ZoneChoice azores = tz("Atlantic/Azores");
  EXPECT_EQ(format_local_iso((kOctober25 + 1800) * kUs, azores, 0), "2026-10-25T00:30:00+00:00");
  EXPECT_EQ(format_local_iso((kOctober25 + 5400) * kUs, azores, 0), "2026-10-25T00:30:00-01:00");
  const LocalDay day = local_day_of(azores, kOctober25 + 5400);
  EXPECT_EQ(day.date, date::year_month_day(date::year{2026}, date::month{10}, date::day{25}));
  EXPECT_EQ(day.start_unix, kOctober25);
  EXPECT_EQ(day.end_unix, kOctober25 + 25 * kHour);
}

TEST(TimeZoneDays, FixedOffsetAndUtcDays) {
  // 2026-03-29T01:00Z at -05:00 is on the 28th, from 05:00Z to 05:00Z.
  const LocalDay day = local_day_of(offset("-18000"), kMarch29 + 3600);
  EXPECT_EQ(day.date, date::year_month_day(date::year{2026}, date::month{3}, date::day{28}));
  EXPECT_EQ(day.start_unix, kMarch29 - 86400 + 18000);
  EXPECT_EQ(day.end_unix, kMarch29 + 18000);
  const LocalDay utc = local_day_of(ZoneChoice{}, kMarch29 + 3600);
  EXPECT_EQ(utc.start_unix, kMarch29);
  EXPECT_EQ(utc.end_unix, kMarch29 + 86400);
}

TEST(TimeZoneSql, NamesAndPosixOffsets) {
  EXPECT_EQ(sql_zone(ZoneChoice{}), "UTC");
  EXPECT_EQ(sql_zone(tz("Europe/Berlin")), "Europe/Berlin");
  EXPECT_EQ(sql_zone(tz("UTC")), "UTC");
  // PostgreSQL would read these as fixed-offset abbreviations.
  EXPECT_EQ(sql_zone(tz("CET")), "Europe/Brussels");
  EXPECT_EQ(sql_zone(tz("MET")), "Europe/Brussels");
  EXPECT_EQ(sql_zone(tz("EET")), "Europe/Athens");
  EXPECT_EQ(sql_zone(tz("WET")), "Europe/Lisbon");
  // POSIX counts west: -05:00 is "+05".
  EXPECT_EQ(sql_zone(offset("-18000")), "<-05>+05");
  EXPECT_EQ(sql_zone(offset("19800")), "<+0530>-05:30");
  EXPECT_EQ(sql_zone(offset("-3661")), "<-010101>+01:01:01");
  EXPECT_EQ(sql_zone(offset("86400")), "<+24>-24");
  EXPECT_EQ(sql_zone(offset("0")), "UTC");
}

}  // namespace
}  // namespace cdrd
