#include "daemon/db/cdr_summary.h"

#include <pqxx/pqxx>
#include <stdexcept>

namespace cdrd {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200;

struct GroupingInfo {
  SummaryGrouping grouping;
  const char* name;    // the group_by value
  const char* column;  // value groupings: the column of cdrs (fixed text, never from the request)
};

const GroupingInfo kGroupings[] = {
    {SummaryGrouping::kHour, "hour", nullptr},
    {SummaryGrouping::kDay, "day", nullptr},
    {SummaryGrouping::kTrunk, "trunk", "trunk"},
    {SummaryGrouping::kDestinationCountry, "destination_country", "destination_country"},
    {SummaryGrouping::kDirectionClass, "direction_class", "direction_class"},
    {SummaryGrouping::kMediaServer, "media_server", "media_server"},
    {SummaryGrouping::kAccount, "account", "account_id"},
};

const GroupingInfo* info_of(SummaryGrouping g) {
  for (const GroupingInfo& info : kGroupings) {
    if (info.grouping == g) return &info;
  }
  return nullptr;
}

// The legs the summary covers, on alias c: the same account and window
// predicate as the list, so the (account_id, ts) summary index and the
// monthly partitions narrow the scan to the account's window. Loopback
// halves are internal to FreeSWITCH and would count a call through
// loopback/ twice. The filters' conditions follow (append_filter_sql).
constexpr const char* kWindow =
    " FROM cdrs c WHERE c.account_id = $1 AND c.ts >= to_timestamp($2) AND c.ts <= to_timestamp($3) AND NOT "
    "c.is_loopback";

// The bucket of a leg, as column k of the innermost select. A time bucket is
// the instant (timestamptz) its hour / day starts at in the query's zone
// ($5), whatever the session's TimeZone. date_trunc's zone argument does
// `ts AT TIME ZONE zone`, truncates, and turns the local start back into an
// instant: with the offset of that local start for a day (so 23 / 25-hour
// days), with the leg's own offset for an hour (so the hour repeated in
// autumn is two buckets; a plain AT TIME ZONE round trip would merge them).
std::string key_expr(SummaryGrouping g) {
  if (is_time_grouping(g)) return "date_trunc($4, c.ts, $5)";
  return std::string("c.") + info_of(g)->column;
}

// The bucket as the statements return it: Unix seconds for a time bucket,
// the text value (or NULL) for a value bucket.
std::string key_out(SummaryGrouping g, const std::string& alias) {
  if (is_time_grouping(g)) return "extract(epoch FROM " + alias + ".k)::bigint";
  return alias + ".k";
}

// Value buckets in byte order whatever the database's collation; NULL last
// (the default for ascending order).
std::string key_order(SummaryGrouping g, const std::string& alias) {
  return is_time_grouping(g) ? alias + ".k" : alias + ".k COLLATE \"C\"";
}

// The selected legs with the columns `columns`, plus k when grouped; the
// parameters start with the account, the window, the unit and the zone,
// then the filters'.
std::string selected_legs(const CdrSummaryQuery& q, const std::string& columns, std::vector<std::string>* params) {
  *params = {q.account_id, std::to_string(q.from_gregorian - kGregorianUnixOffset),
             std::to_string(q.to_gregorian - kGregorianUnixOffset)};
  if (is_time_grouping(q.group_by)) {
    params->emplace_back(summary_grouping_name(q.group_by));
    params->push_back(q.time_zone);
  }
  std::string sql = "SELECT ";
  if (q.group_by != SummaryGrouping::kNone) sql += key_expr(q.group_by) + " AS k, ";
  sql += columns;
  sql += kWindow;
  append_filter_sql(q.filters, "c", &sql, params);
  return sql;
}

// Leg counters of the rows of alias r.
constexpr const char* kLegCounters =
    "count(*) AS legs, "
    "count(*) FILTER (WHERE r.billing_status = 'answered') AS answered, "
    "count(*) FILTER (WHERE r.billing_status = 'busy') AS busy, "
    "count(*) FILTER (WHERE r.billing_status = 'noanswer') AS noanswer, "
    "count(*) FILTER (WHERE r.billing_status = 'failed') AS failed, "
    "count(*) FILTER (WHERE r.billing_status = 'failed' AND r.hangup_cause = 'CALL_REJECTED') AS rejected, "
    "COALESCE(sum(r.billing_seconds), 0) AS billed, "
    "count(*) FILTER (WHERE r.billing_status = 'answered') > 0 AS call_answered, "
    "max(r.billing_seconds) FILTER (WHERE r.billing_status = 'answered') AS call_billed";

// The per-call rows' sums: the leg counters, then the call counters.
constexpr const char* kSums =
    "COALESCE(sum(p.legs), 0)::bigint, COALESCE(sum(p.answered), 0)::bigint, COALESCE(sum(p.busy), 0)::bigint, "
    "COALESCE(sum(p.noanswer), 0)::bigint, COALESCE(sum(p.failed), 0)::bigint, COALESCE(sum(p.rejected), 0)::bigint, "
    "COALESCE(sum(p.billed), 0)::bigint, "
    "count(*), count(*) FILTER (WHERE p.call_answered), "
    "COALESCE(sum(p.call_billed) FILTER (WHERE p.call_answered), 0)::bigint";

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

CallCounters calls_of(const pqxx::row& row) {
  CallCounters c;
  c.attempts = row[9].as<int64_t>();
  c.answered = row[10].as<int64_t>();
  c.billed_seconds = row[11].as<int64_t>();
  return c;
}

std::optional<std::string> text_of(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

}  // namespace

const char* summary_grouping_name(SummaryGrouping group_by) {
  const GroupingInfo* info = info_of(group_by);
  return info ? info->name : "";
}

bool parse_summary_grouping(std::string_view name, SummaryGrouping* out) {
  for (const GroupingInfo& info : kGroupings) {
    if (name == info.name) {
      *out = info.grouping;
      return true;
    }
  }
  return false;
}

bool is_time_grouping(SummaryGrouping group_by) {
  return group_by == SummaryGrouping::kHour || group_by == SummaryGrouping::kDay;
}

const std::vector<SummaryGrouping>& summary_groupings() {
  static const std::vector<SummaryGrouping> all = [] {
    std::vector<SummaryGrouping> v;
    for (const GroupingInfo& info : kGroupings) v.push_back(info.grouping);
    return v;
  }();
  return all;
}

// Two levels. The inner one groups the selected legs by call: the
// interaction_id, or, for a leg without one (a call alone), a number of its
// own (row_number() over the scan: the leg's id is not in the summary index,
// so this keeps the scan index-only). GROUPING SETS gives, in the same pass,
// one row per call (for the totals) and one per (bucket, call). Each holds the
// call's leg counters, whether one of its legs was answered, and its longest
// answered leg. The outer level sums the leg counters and counts the calls
// per bucket and for the totals. Without grouping the outer level has no
// GROUP BY and so always returns one row; grouped, an empty window returns
// none (the totals stay zero).
SummaryStatement summary_counters_statement(const CdrSummaryQuery& q) {
  SummaryStatement st;
  const bool grouped = q.group_by != SummaryGrouping::kNone;
  const std::string legs = selected_legs(q,
                                         "c.interaction_id, CASE WHEN c.interaction_id IS NULL THEN row_number() "
                                         "OVER () END AS solo, c.billing_status, c.hangup_cause, c.billing_seconds",
                                         &st.params);
  std::string per_call = "SELECT ";
  if (grouped) per_call += "GROUPING(r.k) = 1 AS total, r.k, ";
  per_call += kLegCounters;
  per_call += " FROM (" + legs + ") r GROUP BY ";
  per_call += grouped ? "GROUPING SETS ((r.interaction_id, r.solo), (r.k, r.interaction_id, r.solo))"
                      : "r.interaction_id, r.solo";
  st.sql = "SELECT ";
  st.sql += grouped ? "p.total, " + key_out(q.group_by, "p") : std::string("true, NULL::text");
  st.sql += ", ";
  st.sql += kSums;
  st.sql += " FROM (" + per_call + ") p";
  if (grouped) st.sql += " GROUP BY p.total, p.k ORDER BY p.total DESC, " + key_order(q.group_by, "p");
  return st;
}

// The charged legs are first summed per (bucket, customer_currency,
// vendor_currency): a hashed aggregate of a few groups whatever the number of
// legs. Each such sum then gives two (side, currency, amount) rows through a
// LATERAL VALUES list, so the outer GROUP BY sums the customer side per
// customer_currency and the vendor side per vendor_currency, even when a
// leg's two currencies differ. numeric sums are exact; they leave PostgreSQL
// as text, never as a double.
SummaryStatement summary_charges_statement(const CdrSummaryQuery& q) {
  SummaryStatement st;
  const bool grouped = q.group_by != SummaryGrouping::kNone;
  const std::string legs =
      selected_legs(q, "c.customer_charge, c.customer_currency, c.vendor_charge, c.vendor_currency", &st.params);
  const std::string k = grouped ? "r.k, " : "";
  const std::string per_pair = "SELECT " + k +
                               "r.customer_currency, r.vendor_currency, sum(r.customer_charge) AS customer, "
                               "sum(r.vendor_charge) AS vendor FROM (" +
                               legs +
                               ") r WHERE r.customer_charge IS NOT NULL OR r.vendor_charge IS NOT NULL GROUP BY " + k +
                               "r.customer_currency, r.vendor_currency";
  st.sql = "SELECT ";
  st.sql += grouped ? "GROUPING(g.k) = 1, " + key_out(q.group_by, "g") : std::string("true, NULL::text");
  st.sql +=
      ", m.currency, COALESCE(sum(m.amount) FILTER (WHERE NOT m.vendor), 0)::text, "
      "COALESCE(sum(m.amount) FILTER (WHERE m.vendor), 0)::text FROM (" +
      per_pair +
      ") g CROSS JOIN LATERAL (VALUES (false, COALESCE(g.customer_currency, ''), g.customer), "
      "(true, COALESCE(g.vendor_currency, ''), g.vendor)) m(vendor, currency, amount) "
      "WHERE m.amount IS NOT NULL GROUP BY ";
  st.sql += grouped ? "GROUPING SETS ((m.currency), (g.k, m.currency)) ORDER BY 1 DESC, " + key_order(q.group_by, "g") +
                          ", m.currency COLLATE \"C\""
                    : std::string("m.currency ORDER BY m.currency COLLATE \"C\"");
  return st;
}

CdrSummary summarize_cdrs(pqxx::connection& conn, const CdrSummaryQuery& q) {
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  const SummaryStatement counters = summary_counters_statement(q);
  const SummaryStatement charges = summary_charges_statement(q);
  CdrSummary summary;
  pqxx::result counter_rows;
  pqxx::result charge_rows;
  try {
    counter_rows = tx.exec_params(counters.sql, pqxx::prepare::make_dynamic_params(counters.params));
    charge_rows = tx.exec_params(charges.sql, pqxx::prepare::make_dynamic_params(charges.params));
  } catch (const pqxx::sql_error& e) {
    // An account id or a filter value that is not UTF-8 (PostgreSQL refuses
    // the parameter, 22021) names no stored row: the summary of nothing.
    if (e.sqlstate() == "22021") return summary;
    throw;
  }
  // The buckets by the statements' text of their key (column 1).
  std::map<std::optional<std::string>, size_t> bucket_of;
  for (const auto& row : counter_rows) {
    if (row[0].as<bool>()) {
      summary.totals = counters_of(row);
      summary.calls = calls_of(row);
      continue;
    }
    SummaryBucket bucket;
    if (is_time_grouping(q.group_by)) {
      bucket.start_gregorian = row[1].as<int64_t>() + kGregorianUnixOffset;
    } else {
      bucket.key = text_of(row[1]);
    }
    bucket.counters = counters_of(row);
    bucket.calls = calls_of(row);
    bucket_of.emplace(text_of(row[1]), summary.buckets.size());
    summary.buckets.push_back(std::move(bucket));
  }
  for (const auto& row : charge_rows) {
    SummaryCharges* charges_of = &summary.charges;
    if (!row[0].as<bool>()) {
      const auto it = bucket_of.find(text_of(row[1]));
      // Both statements read one snapshot of the same legs, so every bucket
      // with a charge has counters.
      if (it == bucket_of.end()) throw std::logic_error("summary: a charge in a bucket without legs");
      charges_of = &summary.buckets[it->second].charges;
    }
    (*charges_of)[row[2].as<std::string>()] = ChargeSums{row[3].as<std::string>(), row[4].as<std::string>()};
  }
  return summary;
}

}  // namespace cdrd
