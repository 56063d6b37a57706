// The billing summary of one account over a window (issue 4, item 3): leg
// counts by billing_status, billed seconds, optionally per hour or per day.
// One parameterized statement over `cdrs`; the JSON shape is built by the
// route (daemon/http/summary_route.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace cdrd {

enum class SummaryGrouping { kNone, kHour, kDay };

struct CdrSummaryQuery {
  std::string account_id;
  int64_t from_gregorian = 0;  // inclusive, compared with the record's timestamp (the end of the leg)
  int64_t to_gregorian = 0;    // inclusive
  SummaryGrouping group_by = SummaryGrouping::kNone;
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

struct SummaryBucket {
  int64_t start_gregorian = 0;  // the UTC hour or day the bucket starts at, Gregorian seconds
  SummaryCounters counters;
};

struct CdrSummary {
  SummaryCounters totals;
  std::vector<SummaryBucket> buckets;  // only buckets with rows, by start; empty when not grouped
};

// The statement summarize_cdrs() runs, with its parameters $1 account_id,
// $2 / $3 the window in Unix seconds and, when grouped, $4 the date_trunc
// unit ('hour' / 'day'). Exposed so a test can EXPLAIN it.
const std::string& summary_sql(SummaryGrouping group_by);
const char* summary_unit(SummaryGrouping group_by);

// Runs the summary on `conn` in a read-only transaction. Throws pqxx
// exceptions on database errors (a statement_timeout is pqxx::sql_error
// 57014).
CdrSummary summarize_cdrs(pqxx::connection& conn, const CdrSummaryQuery& query);

}  // namespace cdrd
