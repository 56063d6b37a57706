// The summary route's parameters (kazoo_summary_route.cpp), as pure
// functions so that they are unit-tested and fuzzed on their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/api/api_request.h"
#include "daemon/api/time_zone.h"
#include "daemon/db/cdr_summary.h"

namespace cdrd {

struct SummaryRequest {
  CdrSummaryQuery query;             // query.time_zone is sql_zone(zone)
  ZoneChoice zone;                   // tz / utc_offset: the buckets' local hours and days
  bool kazoo_format = false;         // format=kazoo: Kazoo's summary document
  std::vector<std::string> ignored;  // parameters the route does not know
};

// The window (as the list's: api_query.h), group_by, format (cdrd, the
// default, or kazoo), tz / utc_offset and the filters. A parameter it does
// not know is ignored (listed in out->ignored); a bad value of a known one is
// a 400 naming it, as is group_by with format=kazoo.
bool parse_summary_request(const ApiParams& params, const std::string& account_id, int64_t now_gregorian,
                           int64_t max_window_s, SummaryRequest* out, ApiError* err);

// What a read-pool thread runs for `request`.
ApiQuery summary_query(const SummaryRequest& request, const std::string& request_id);

}  // namespace cdrd
