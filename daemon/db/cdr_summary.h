// The billing summary of one account over a window (issue 4, item 3; issue
// 12, section 5): leg counts by billing_status and billed seconds, call
// counts (ASR / ACD per call), charge sums per currency, optionally per
// hour, per day or per value of one billing column. Two parameterized
// statements over `cdrs` in one snapshot; the JSON shape is built by the
// route (daemon/http/summary_route.cpp).
//
// What is counted (README "Summary"):
// - The legs of the account whose timestamp (the end of the leg) is in the
//   window and that pass the filters (the list's filter_* parameters,
//   cdr_filter.h); loopback halves are always left out.
// - Leg counters: every such leg is one attempt.
// - Call counters: the selected legs grouped by interaction_id (a leg with no
//   interaction_id is a call alone). A call is answered when one of its legs
//   is; its billed seconds are the longest billing_seconds among its answered
//   legs (the A-leg and the B-leg of a bridged call overlap in time, so a sum
//   would count the talk time twice).
// - In a bucket, a call is made of its legs in that bucket only: a call
//   whose legs went over two trunks (or ended in two hours) counts in both
//   buckets, answered in a bucket only if one of that bucket's legs was
//   answered. The totals count it once. Bucket call counts can therefore add
//   up to more than the totals; leg counts and charges always add up.
// - Charges: exact sums (numeric) of customer_charge per customer_currency
//   and of vendor_charge per vendor_currency, whatever the leg's status.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>

#include "daemon/api/cdr_filter.h"

namespace cdrd {

enum class SummaryGrouping {
  kNone,
  // Time buckets: hour / day of the leg's end in CdrSummaryQuery::time_zone
  // (UTC by default).
  kHour,
  kDay,
  // Value buckets: one per distinct value of a column of `cdrs` (NULL is a
  // bucket of its own).
  kTrunk,
  kDestinationCountry,
  kDirectionClass,
  kMediaServer,
  kAccount,
};

// The group_by parameter's spelling ("hour", "trunk", ...); "" for kNone.
const char* summary_grouping_name(SummaryGrouping group_by);
// The inverse of summary_grouping_name(); false for anything else (kNone has
// no name).
bool parse_summary_grouping(std::string_view name, SummaryGrouping* out);
bool is_time_grouping(SummaryGrouping group_by);
// Every grouping but kNone, in the order the API documents them.
const std::vector<SummaryGrouping>& summary_groupings();

struct CdrSummaryQuery {
  std::string account_id;
  int64_t from_gregorian = 0;  // inclusive, compared with the record's timestamp (the end of the leg)
  int64_t to_gregorian = 0;    // inclusive
  SummaryGrouping group_by = SummaryGrouping::kNone;
  // The zone of the time buckets, as PostgreSQL text: sql_zone() of the
  // request's tz / utc_offset (daemon/api/time_zone.h). The buckets are cut
  // by date_trunc(unit, ts, zone), PostgreSQL's AT TIME ZONE round trip that
  // keeps the instants: a day bucket is the zone's local day (23 or 25 hours
  // across a DST change), an hour bucket a local hour (the two 02:00 hours
  // of an autumn change stay two buckets). Unused without a time grouping.
  // Any other text may be refused by PostgreSQL (22023: a 500 to the client).
  std::string time_zone = "UTC";
  // ANDed with the account and the window, as in the list (cdr_filter.h).
  std::vector<CdrFilter> filters;
};

// Counts of legs (loopback halves left out).
struct SummaryCounters {
  int64_t attempts = 0;  // every leg
  int64_t answered = 0;  // billing_status answered
  int64_t busy = 0;      // billing_status busy
  int64_t noanswer = 0;  // billing_status noanswer
  int64_t failed = 0;    // billing_status failed (rejected included)
  int64_t rejected = 0;  // failed with hangup_cause CALL_REJECTED: the callee refused
  int64_t billed_seconds = 0;
};

// Counts of calls (interactions), as billing and carriers count them.
struct CallCounters {
  int64_t attempts = 0;        // distinct calls
  int64_t answered = 0;        // calls with an answered leg
  int64_t billed_seconds = 0;  // sum over answered calls of their longest answered leg
};

// Exact decimal sums, as PostgreSQL prints a numeric ("0.3", "1.2500"): the
// scale is the largest scale of the summed values. "0" for a side with no
// charge in that currency.
struct ChargeSums {
  std::string customer = "0";
  std::string vendor = "0";
};
// By currency (customer_currency for the customer side, vendor_currency for
// the vendor side); "" holds charges stored without a currency.
using SummaryCharges = std::map<std::string, ChargeSums>;

struct SummaryBucket {
  int64_t start_gregorian = 0;     // time groupings: the instant the bucket's hour or day starts at, Gregorian seconds
  std::optional<std::string> key;  // value groupings: the column's value; nullopt for NULL
  SummaryCounters counters;
  CallCounters calls;
  SummaryCharges charges;
};

struct CdrSummary {
  SummaryCounters totals;
  CallCounters calls;
  SummaryCharges charges;
  // Only buckets with rows; empty when not grouped. Time buckets by start;
  // value buckets by key in byte order, the NULL bucket last.
  std::vector<SummaryBucket> buckets;
};

// A statement summarize_cdrs() runs and its parameters: $1 account_id, $2 /
// $3 the window in Unix seconds, for a time grouping $4 the date_trunc unit
// and $5 the time zone, then the filters' values. Exposed so a test can
// EXPLAIN it.
struct SummaryStatement {
  std::string sql;
  std::vector<std::string> params;
};
// Leg and call counters: one row for the totals, one per bucket.
SummaryStatement summary_counters_statement(const CdrSummaryQuery& query);
// Charge sums: one row per currency of the totals and per (bucket, currency).
SummaryStatement summary_charges_statement(const CdrSummaryQuery& query);

// Runs both statements on `conn` in one read-only REPEATABLE READ
// transaction (one snapshot: the charges' buckets are the counters'). Throws
// pqxx exceptions on database errors (a statement_timeout is pqxx::sql_error
// 57014).
CdrSummary summarize_cdrs(pqxx::connection& conn, const CdrSummaryQuery& query);

}  // namespace cdrd
