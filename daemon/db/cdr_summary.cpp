#include "daemon/db/cdr_summary.h"

#include <pqxx/pqxx>

namespace cdrd {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200;

// Legs, not calls: every leg is one attempt on a trunk or a device, and each
// carries its own billing_status and billed seconds. Loopback halves are
// internal to FreeSWITCH and would count a call through loopback/ twice.
constexpr const char* kCounters =
    "count(*), "
    "count(*) FILTER (WHERE billing_status = 'answered'), "
    "count(*) FILTER (WHERE billing_status = 'busy'), "
    "count(*) FILTER (WHERE billing_status = 'noanswer'), "
    "count(*) FILTER (WHERE billing_status = 'failed'), "
    "count(*) FILTER (WHERE billing_status = 'failed' AND hangup_cause = 'CALL_REJECTED'), "
    "COALESCE(sum(billing_seconds), 0)::bigint";

// The same predicate as the list, so the (account_id, ts, id) index and the
// monthly partitions narrow the scan to the account's window.
constexpr const char* kWindow =
    " FROM cdrs WHERE account_id = $1 AND ts >= to_timestamp($2) AND ts <= to_timestamp($3) AND NOT is_loopback";

std::string ungrouped_sql() { return std::string("SELECT true, NULL::bigint, ") + kCounters + kWindow; }

// GROUPING SETS gives the totals (the () set, one row even for an empty
// window) and the buckets in one pass. Buckets are UTC hours / days whatever
// the session's TimeZone.
std::string grouped_sql() {
  return std::string("SELECT GROUPING(bucket) = 1 AS is_total, extract(epoch FROM bucket)::bigint, ") + kCounters +
         " FROM (SELECT date_trunc($4, ts AT TIME ZONE 'UTC') AS bucket, billing_status, hangup_cause, "
         "billing_seconds" +
         kWindow + ") r GROUP BY GROUPING SETS ((), (bucket)) ORDER BY is_total DESC, bucket";
}

SummaryCounters counters_of(const pqxx::row& row) {
  SummaryCounters c;
  c.attempts = row[2].as<int64_t>();
  c.answered = row[3].as<int64_t>();
  c.busy = row[4].as<int64_t>();
  c.noanswer = row[5].as<int64_t>();
  c.failed = row[6].as<int64_t>();
  c.rejected = row[7].as<int64_t>();
  c.billed_seconds = row[8].as<int64_t>();
  return c;
}

}  // namespace

const std::string& summary_sql(SummaryGrouping group_by) {
  static const std::string ungrouped = ungrouped_sql();
  static const std::string grouped = grouped_sql();
  return group_by == SummaryGrouping::kNone ? ungrouped : grouped;
}

const char* summary_unit(SummaryGrouping group_by) {
  switch (group_by) {
    case SummaryGrouping::kHour:
      return "hour";
    case SummaryGrouping::kDay:
      return "day";
    case SummaryGrouping::kNone:
      break;
  }
  return "";
}

CdrSummary summarize_cdrs(pqxx::connection& conn, const CdrSummaryQuery& q) {
  pqxx::read_transaction tx(conn);
  const int64_t from = q.from_gregorian - kGregorianUnixOffset;
  const int64_t to = q.to_gregorian - kGregorianUnixOffset;
  CdrSummary summary;
  pqxx::result rows;
  try {
    rows = q.group_by == SummaryGrouping::kNone
               ? tx.exec_params(summary_sql(q.group_by), q.account_id, from, to)
               : tx.exec_params(summary_sql(q.group_by), q.account_id, from, to, summary_unit(q.group_by));
  } catch (const pqxx::sql_error& e) {
    // An account id that is not UTF-8 (PostgreSQL refuses the parameter,
    // 22021) names no stored row: the summary of nothing.
    if (e.sqlstate() == "22021") return summary;
    throw;
  }
  for (const auto& row : rows) {
    if (row[0].as<bool>()) {
      summary.totals = counters_of(row);
    } else {
      summary.buckets.push_back(SummaryBucket{row[1].as<int64_t>() + kGregorianUnixOffset, counters_of(row)});
    }
  }
  return summary;
}

}  // namespace cdrd
