// GET .../accounts/{account_id}/cdrs/summary (issue 4, item 3; issue 12,
// section 5; issue 13): counts, billed minutes, ASR, ACD and NER of the
// account's legs over a window, the same per call, and the charges per
// currency; optionally per local hour or day (tz / utc_offset) or per value
// of one billing column (group_by), over the legs the list's filter
// parameters select. README.md "Summary" defines each number;
// daemon/db/cdr_summary.h what a call is in a bucket.
//
// format=kazoo answers Kazoo 4.3's own summary instead (cb_cdrs
// load_cdr_summary/1: the modb view cdrs/summarize_cdrs reduced by its list
// format_summary): billable seconds by direction, then the far end's domain,
// then a classifier of the dialed number, in total and per rate_name.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <ctime>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <utility>

#include "daemon/api/api_access.h"
#include "daemon/api/api_query.h"
#include "daemon/api/api_request.h"
#include "daemon/api/api_service.h"
#include "daemon/api/api_settings.h"
#include "daemon/api/cdr_filter.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/kazoo/kazoo_dialect.h"
#include "daemon/api/kazoo/kazoo_summary.h"
#include "daemon/db/cdr_summary.h"
#include "daemon/rating/decimal.h"

namespace cdrd {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

double round_to(double value, double scale) { return std::round(value * scale) / scale; }

// A ratio rounded to 4 decimals; null when the divisor is 0 (no attempt, or
// nothing answered), since 0 would claim a measured value.
void put_ratio(JsonWriter& w, const char* name, int64_t numerator, int64_t divisor) {
  w.Key(name);
  if (divisor == 0) {
    w.Null();
  } else {
    w.Double(round_to(static_cast<double>(numerator) / static_cast<double>(divisor), 1e4));
  }
}

void put_counters(JsonWriter& w, const SummaryCounters& c) {
  w.Key("attempts");
  w.Int64(c.attempts);
  w.Key("answered");
  w.Int64(c.answered);
  w.Key("busy");
  w.Int64(c.busy);
  w.Key("noanswer");
  w.Int64(c.noanswer);
  w.Key("failed");
  w.Int64(c.failed);
  w.Key("rejected");
  w.Int64(c.rejected);
  w.Key("billed_seconds");
  w.Int64(c.billed_seconds);
  w.Key("billed_minutes");
  w.Double(round_to(static_cast<double>(c.billed_seconds) / 60.0, 100.0));
  put_ratio(w, "asr", c.answered, c.attempts);
  put_ratio(w, "acd", c.billed_seconds, c.answered);
  put_ratio(w, "ner", c.answered + c.busy + c.noanswer + c.rejected, c.attempts);
}

// numerator / divisor (both >= 0, divisor > 0) rounded half up to 4
// decimals, as text with all 4 ("0.6667", "60.5000"): exact, through the
// rating library's Decimal (GMP rationals).
std::string decimal_ratio(int64_t numerator, int64_t divisor) {
  std::string text = Decimal(mpq_class(mpz_class(numerator), mpz_class(divisor))).to_string(4, PriceRounding::kHalfUp);
  // Decimal drops trailing zeros; a call ratio always shows its 4 places.
  const size_t point = text.find('.');
  const size_t places = point == std::string::npos ? 0 : text.size() - point - 1;
  if (point == std::string::npos) text += '.';
  return text.append(4 - places, '0');
}

// A call ratio: a decimal string, null when the divisor is 0.
void put_decimal_ratio(JsonWriter& w, const char* name, int64_t numerator, int64_t divisor) {
  w.Key(name);
  if (divisor == 0) {
    w.Null();
  } else {
    w.String(decimal_ratio(numerator, divisor));
  }
}

void put_calls(JsonWriter& w, const CallCounters& c) {
  w.Key("calls");
  w.StartObject();
  w.Key("attempts");
  w.Int64(c.attempts);
  w.Key("answered");
  w.Int64(c.answered);
  w.Key("billed_seconds");
  w.Int64(c.billed_seconds);
  put_decimal_ratio(w, "asr", c.answered, c.attempts);
  put_decimal_ratio(w, "acd", c.billed_seconds, c.answered);
  w.EndObject();
}

// {"USD": {"customer": "1.25", "vendor": "0.9"}, ...}: PostgreSQL's numeric
// text, passed through as a string (never a double).
void put_charges(JsonWriter& w, const SummaryCharges& charges) {
  w.Key("charges");
  w.StartObject();
  for (const auto& [currency, sums] : charges) {
    w.Key(currency.data(), static_cast<rapidjson::SizeType>(currency.size()));
    w.StartObject();
    w.Key("customer");
    w.String(sums.customer);
    w.Key("vendor");
    w.String(sums.vendor);
    w.EndObject();
  }
  w.EndObject();
}

std::string summary_data(const CdrSummaryQuery& q, const ZoneChoice& zone, const CdrSummary& summary) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("account_id");
  w.String(q.account_id);
  w.Key("created_from");
  w.Int64(q.from_gregorian);
  w.Key("created_to");
  w.Int64(q.to_gregorian);
  if (q.group_by != SummaryGrouping::kNone) {
    w.Key("group_by");
    w.String(summary_grouping_name(q.group_by));
  }
  w.Key("totals");
  w.StartObject();
  put_counters(w, summary.totals);
  put_calls(w, summary.calls);
  put_charges(w, summary.charges);
  w.EndObject();
  w.Key("buckets");
  w.StartArray();
  for (const SummaryBucket& bucket : summary.buckets) {
    w.StartObject();
    if (is_time_grouping(q.group_by)) {
      w.Key("start");
      w.String(format_local_iso((bucket.start_gregorian - kGregorianUnixOffset) * 1000000, zone, 0));
      w.Key("start_gregorian");
      w.Int64(bucket.start_gregorian);
    } else {
      // The column's value; null for the legs without one.
      w.Key("key");
      if (bucket.key) {
        w.String(*bucket.key);
      } else {
        w.Null();
      }
    }
    put_counters(w, bucket.counters);
    put_calls(w, bucket.calls);
    put_charges(w, bucket.charges);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

// Kazoo's classifier of the dialed number (the view's regular expressions,
// as PostgreSQL AREs), of the user part of `to` ("" without an '@', as
// JavaScript's substr(0, -1)).
constexpr const char* kKazooSummarySql = R"SQL(SELECT s.direction, s.domain, s.classifier, s.rate_name,
 sum(s.billable)::bigint FROM (SELECT c.call_direction AS direction,
 CASE WHEN c.call_direction = 'inbound' THEN substr(c.record->>'from', strpos(c.record->>'from', '@') + 1)
 ELSE substr(c.record->>'to', strpos(c.record->>'to', '@') + 1) END AS domain,
 CASE WHEN n.number ~ '^\+1((?:800|888|877|866|855)\d{7})$' THEN 'tollfree_us'
 WHEN n.number ~ '^\+1(900\d{7})$' THEN 'toll_us'
 WHEN n.number ~ '^(911|933|988)$' THEN 'emergency'
 WHEN n.number ~ '^\+?1((?:684|264|268|242|246|441|284|345|767|809|829|849|473|671|876|664|670|787|939|869|758|784|721|868|649|340)\d{7})$' THEN 'caribbean'
 WHEN n.number ~ '^\+?1?([2-9][0-9]{2}[2-9][0-9]{6})$' THEN 'did_us'
 WHEN n.number ~ '^\+[2-9]\d{7,}$' THEN 'international'
 ELSE 'unknown' END AS classifier,
 c.record->'custom_channel_vars'->>'rate_name' AS rate_name, c.billing_seconds AS billable
 FROM cdrs c CROSS JOIN LATERAL (SELECT CASE WHEN strpos(c.record->>'to', '@') > 0
 THEN substr(c.record->>'to', 1, strpos(c.record->>'to', '@') - 1) ELSE '' END AS number) n
 WHERE c.account_id = $1 AND c.ts >= to_timestamp($2) AND c.ts <= to_timestamp($3) AND NOT c.is_loopback
 AND c.call_direction IN ('inbound', 'outbound') AND jsonb_typeof(c.record->'custom_channel_vars') = 'object'
 AND c.record ? 'to' AND (c.call_direction = 'outbound' OR c.record ? 'from')
 AND NOT (c.call_direction = 'inbound' AND c.record->'custom_channel_vars' ? 'authorizing_id')
 AND NOT (c.call_direction = 'outbound' AND NOT c.record->'custom_channel_vars' ? 'resource_id'))SQL";

// direction -> domain -> classifier -> ("total" | rate name) -> seconds.
using KazooSummary =
    std::map<std::string, std::map<std::string, std::map<std::string, std::map<std::string, int64_t>>>>;

KazooSummary kazoo_summary(pqxx::connection& conn, const CdrSummaryQuery& q) {
  std::vector<std::string> params = {q.account_id, std::to_string(q.from_gregorian - kGregorianUnixOffset),
                                     std::to_string(q.to_gregorian - kGregorianUnixOffset)};
  std::string sql = kKazooSummarySql;
  append_filter_sql(q.filters, "c", &sql, &params);
  sql += ") s GROUP BY 1, 2, 3, 4";
  pqxx::read_transaction tx(conn);
  const pqxx::result rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
  KazooSummary out;
  out["inbound"];
  out["outbound"];
  for (const auto& row : rows) {
    auto& seconds = out[row[0].as<std::string>()][row[1].as<std::string>()][row[2].as<std::string>()];
    const int64_t billable = row[4].as<int64_t>();
    // The list function adds to "total", then to the rate's own key.
    seconds["total"] += billable;
    if (!row[3].is_null() && !row[3].as<std::string>().empty()) seconds[row[3].as<std::string>()] += billable;
  }
  return out;
}

std::string kazoo_summary_data(const KazooSummary& summary) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  for (const auto& [direction, domains] : summary) {
    w.Key(direction.data(), static_cast<rapidjson::SizeType>(direction.size()));
    w.StartObject();
    for (const auto& [domain, classifiers] : domains) {
      w.Key(domain.data(), static_cast<rapidjson::SizeType>(domain.size()));
      w.StartObject();
      for (const auto& [classifier, seconds] : classifiers) {
        w.Key(classifier.data(), static_cast<rapidjson::SizeType>(classifier.size()));
        w.StartObject();
        w.Key("total");
        w.Int64(seconds.at("total"));
        for (const auto& [name, value] : seconds) {
          if (name == "total") continue;
          w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
          w.Int64(value);
        }
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

bool parse_summary_request(const ApiParams& params, const std::string& account_id, int64_t now_gregorian,
                           int64_t max_window_s, SummaryRequest* out, ApiError* err) {
  auto bad = [&](const std::string& message) {
    *err = {400, "invalid_parameter", message};
    return false;
  };
  CdrSummaryQuery& q = out->query;
  q.account_id = account_id;
  TimeWindow window;
  if (!parse_list_window(params, now_gregorian, max_window_s, &window, err)) return false;
  q.from_gregorian = window.from_gregorian;
  q.to_gregorian = window.to_gregorian;
  std::string message;
  if (!parse_zone_params(params, &out->zone, &message)) return bad(message);
  q.time_zone = sql_zone(out->zone);
  for (const auto& [name, value] : params) {
    if (name == "created_from" || name == "created_to" || name == "auth_token" || name == "tz" ||
        name == "utc_offset") {
      // the window and the zone, read above; the credential, read by authorize_account()
    } else if (name == "group_by") {
      if (!parse_summary_grouping(value, &q.group_by)) {
        std::string expected;
        for (SummaryGrouping g : summary_groupings()) {
          expected += (expected.empty() ? "" : ", ") + std::string(summary_grouping_name(g));
        }
        return bad("group_by: expected one of " + expected + ", got '" + value + "'");
      }
    } else if (name == "format") {
      if (value != "kazoo" && value != "cdrd") return bad("format: expected cdrd or kazoo, got '" + value + "'");
      out->kazoo_format = value == "kazoo";
    } else if (is_cdr_filter_parameter(name)) {
      // The list's filters, checked and turned into SQL by the same code
      // (cdr_filter.h), so both routes accept and refuse the same ones.
      CdrFilter filter;
      if (!parse_cdr_filter(name, value, &filter, &message)) return bad(message);
      q.filters.push_back(std::move(filter));
    } else {
      out->ignored.push_back(name);
    }
  }
  if (out->kazoo_format && q.group_by != SummaryGrouping::kNone) {
    return bad("group_by: Kazoo's summary (format=kazoo) has no buckets; leave group_by out");
  }
  return true;
}

ApiQuery summary_query(const SummaryRequest& request, const std::string& request_id) {
  if (request.kazoo_format) {
    return [q = request.query, request_id](CdrStore& store) {
      const KazooSummary summary = store.run([&q](pqxx::connection& conn) { return kazoo_summary(conn, q); });
      return ApiReply{200, data_envelope(kazoo_summary_data(summary), request_id)};
    };
  }
  return [q = request.query, zone = request.zone, request_id](CdrStore& store) {
    const CdrSummary summary = store.run([&q](pqxx::connection& conn) { return summarize_cdrs(conn, q); });
    return ApiReply{200, data_envelope(summary_data(q, zone, summary), request_id)};
  };
}

bool plan_summary(const ApiParams& params, const std::string& account_id, const std::string& request_id,
                  ApiQuery* query, ApiError* err) {
  SummaryRequest request;
  const int64_t now = static_cast<int64_t>(std::time(nullptr)) + kGregorianUnixOffset;
  if (!parse_summary_request(params, account_id, now, kDefaultMaxWindowSeconds, &request, err)) return false;
  *query = summary_query(request, request_id);
  return true;
}

void KazooDialect::handle_summary(ApiService& service, const Call& call, const std::string& account_id,
                                  const ApiParams& params, const ApiGrant& grant) const {
  SummaryRequest request;
  ApiError err;
  const int64_t now = static_cast<int64_t>(std::time(nullptr)) + kGregorianUnixOffset;
  if (!parse_summary_request(params, account_id, now, service.settings()->max_window_s, &request, &err)) {
    fail(service, call, err);
    return;
  }
  for (const std::string& name : request.ignored) {
    spdlog::debug("read api request {}: ignoring unknown query parameter '{}'", call.api.request_id, name);
  }
  if (!grant.owner_id().empty()) request.query.filters.push_back(owner_filter(grant.owner_id()));
  ApiQuery summary = summary_query(request, call.api.request_id);
  submit(service, call, grant, [summary = std::move(summary)](CdrStore& store) {
    ApiReply reply = summary(store);
    RouteReply out;
    out.status = reply.first;
    out.body = std::move(reply.second);
    return out;
  });
}

}  // namespace cdrd
