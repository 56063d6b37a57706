// sql_zone() against the real PostgreSQL: the text it gives means to the
// server what the ZoneChoice means to the date library. Hand-worked values
// first (instants as in time_zone_test.cpp), then every zone of the tz
// database and a range of fixed offsets compared with the library, so a
// zone the server reads differently (an abbreviation that shadows a zone
// name, a POSIX sign) cannot slip through.
#include <gtest/gtest.h>

#include <date/tz.h>

#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/api/time_zone.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

constexpr int64_t kMarch29 = 1774742400;    // 2026-03-29T00:00:00Z
constexpr int64_t kOctober25 = 1792886400;  // 2026-10-25T00:00:00Z
constexpr int64_t kJuly1 = 1782864000;      // 2026-07-01T00:00:00Z
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

ZoneChoice choice(const std::string& name, const std::string& value) {
  ZoneChoice zone;
  std::string error;
  EXPECT_TRUE(parse_zone_params({{name, value}}, &zone, &error)) << error;
  return zone;
}

class TimeZonePgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = std::make_unique<pqxx::connection>(create_database("time_zone"));
    // The session's own zone must not matter.
    pqxx::nontransaction(*conn_).exec("SET TimeZone = 'America/Los_Angeles'");
  }

  // The wall clock at `unix_seconds` in `zone`, by the server.
  std::string wall_clock(int64_t unix_seconds, const ZoneChoice& zone) {
    pqxx::nontransaction tx(*conn_);
    return tx
        .exec_params1("SELECT to_char(to_timestamp($1) AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI:SS')", unix_seconds,
                      sql_zone(zone))[0]
        .as<std::string>();
  }

  // The start of the local day of `unix_seconds`, by the server.
  int64_t day_start(int64_t unix_seconds, const ZoneChoice& zone) {
    pqxx::nontransaction tx(*conn_);
    return tx
        .exec_params1("SELECT extract(epoch FROM date_trunc('day', to_timestamp($1), $2))::bigint", unix_seconds,
                      sql_zone(zone))[0]
        .as<int64_t>();
  }

  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(TimeZonePgTest, HandWorkedWallClocksAndDays) {
  const ZoneChoice berlin = choice("tz", "Europe/Berlin");
  EXPECT_EQ(wall_clock(kMarch29 + 3599, berlin), "2026-03-29 01:59:59");
  EXPECT_EQ(wall_clock(kMarch29 + 3600, berlin), "2026-03-29 03:00:00");
  EXPECT_EQ(wall_clock(kOctober25 + 3600, berlin), "2026-10-25 02:00:00");
  // Berlin's 23-hour and 25-hour days begin at 23:00Z and 22:00Z the day before.
  EXPECT_EQ(day_start(kMarch29 + 12 * kHour, berlin), kMarch29 - 3600);
  EXPECT_EQ(day_start(kOctober25 + 12 * kHour, berlin), kOctober25 - 7200);
  // Beirut skips its midnight on 2026-03-29: the day starts at the gap's end, 22:00Z.
  EXPECT_EQ(day_start(kMarch29 + 3600, choice("tz", "Asia/Beirut")), kMarch29 - 7200);
  // The Azores' midnight happens twice on 2026-10-25 (00:00Z at +00:00, 01:00Z
  // at -01:00): the server's bucket starts at the second (local_day_start()
  // says the first).
  EXPECT_EQ(day_start(kOctober25 + 12 * kHour, choice("tz", "Atlantic/Azores")), kOctober25 + 3600);

  // Fixed offsets keep their sign (POSIX would count them west).
  EXPECT_EQ(wall_clock(kMarch29 + 3600, choice("utc_offset", "-18000")), "2026-03-28 20:00:00");
  EXPECT_EQ(day_start(kMarch29 + 3600, choice("utc_offset", "-18000")), kMarch29 - 86400 + 18000);
  EXPECT_EQ(wall_clock(kMarch29 + 3600, choice("utc_offset", "19800")), "2026-03-29 06:30:00");
  EXPECT_EQ(wall_clock(kMarch29, choice("utc_offset", "-3661")), "2026-03-28 22:58:59");
  EXPECT_EQ(wall_clock(kMarch29, choice("utc_offset", "86400")), "2026-03-30 00:00:00");
  EXPECT_EQ(wall_clock(kMarch29, choice("utc_offset", "-86400")), "2026-03-28 00:00:00");
  EXPECT_EQ(wall_clock(kMarch29, ZoneChoice{}), "2026-03-29 00:00:00");

  // CET is a zone with summer time (+02:00 in July), not PostgreSQL's +01:00 abbreviation.
  EXPECT_EQ(wall_clock(kJuly1 + 12 * kHour, choice("tz", "CET")), "2026-07-01 14:00:00");
  EXPECT_EQ(wall_clock(kJuly1 + 12 * kHour, choice("tz", "EET")), "2026-07-01 15:00:00");
  EXPECT_EQ(wall_clock(kJuly1 + 12 * kHour, choice("tz", "WET")), "2026-07-01 13:00:00");
}

// For every zone the library knows: the server's offset and local day start
// at a winter noon, a summer noon and Berlin's two DST changes (the EU's:
// 01:00Z) equal the library's.
TEST_F(TimeZonePgTest, EveryZoneOfTheDatabaseMeansTheSameToTheServer) {
  const std::vector<int64_t> instants = {kMarch29 - 73 * kDay + 12 * kHour, kJuly1 + 12 * kHour, kMarch29 + 3600,
                                         kOctober25 + 3600};
  std::map<std::string, ZoneChoice> zones;
  for (const date::time_zone& z : date::get_tzdb().zones) {
    const ZoneChoice zone = choice("tz", z.name());
    zones.emplace(sql_zone(zone), zone);  // CET and MET are both Europe/Brussels: the first stays
  }
  // Zone names are letters, digits and "/_+-": no array quoting beyond the double quotes.
  std::string names = "{";
  for (const auto& [sql, zone] : zones) names += (names.size() > 1 ? ",\"" : "\"") + sql + '"';
  names += '}';
  std::string times = "{";
  for (int64_t t : instants) times += (times.size() > 1 ? "," : "") + std::to_string(t);
  times += '}';
  ASSERT_GT(zones.size(), 300u);

  pqxx::nontransaction tx(*conn_);
  const pqxx::result rows = tx.exec_params(
      "SELECT z, t, extract(epoch FROM (to_timestamp(t) AT TIME ZONE z) - (to_timestamp(t) AT TIME ZONE 'UTC'))"
      "::bigint, extract(epoch FROM date_trunc('day', to_timestamp(t), z))::bigint "
      "FROM unnest($1::text[]) z, unnest($2::bigint[]) t",
      names, times);
  ASSERT_EQ(rows.size(), zones.size() * instants.size());
  for (const auto& row : rows) {
    const std::string z = row[0].as<std::string>();
    const int64_t t = row[1].as<int64_t>();
    const ZoneChoice& zone = zones.at(z);
    EXPECT_EQ(row[2].as<int64_t>(), utc_offset_at(zone, t)) << z << " at " << t;
    // The same instant; where midnight happens twice (Atlantic/Azores on
    // 2026-10-25) the server takes the second: the same local wall clock.
    const int64_t start = local_day_of(zone, t).start_unix;
    const int64_t server_start = row[3].as<int64_t>();
    if (server_start != start) {
      EXPECT_EQ(format_local_iso(server_start * 1000000, zone, 0).substr(0, 19),
                format_local_iso(start * 1000000, zone, 0).substr(0, 19))
          << z << " at " << t;
      EXPECT_GT(server_start, start) << z << " at " << t;
    }
  }
}

// Every quarter hour from -24:00 to +24:00, and offsets with seconds.
TEST_F(TimeZonePgTest, FixedOffsetsMeanTheSameToTheServer) {
  std::vector<int32_t> offsets;
  for (int32_t s = -kMaxUtcOffsetSeconds; s <= kMaxUtcOffsetSeconds; s += 900) offsets.push_back(s);
  for (int32_t s : {1, -1, 59, -3661, 20711, -86399}) offsets.push_back(s);
  pqxx::nontransaction tx(*conn_);
  for (int32_t s : offsets) {
    const ZoneChoice zone = choice("utc_offset", std::to_string(s));
    const pqxx::row row = tx.exec_params1(
        "SELECT extract(epoch FROM (to_timestamp($1) AT TIME ZONE $2) - (to_timestamp($1) AT TIME ZONE 'UTC'))"
        "::bigint, extract(epoch FROM date_trunc('day', to_timestamp($1), $2))::bigint",
        kMarch29 + 3600, sql_zone(zone));
    EXPECT_EQ(row[0].as<int64_t>(), s) << sql_zone(zone);
    EXPECT_EQ(row[1].as<int64_t>(), local_day_of(zone, kMarch29 + 3600).start_unix) << sql_zone(zone);
  }
}

}  // namespace
}  // namespace cdrd::test
