// GET .../accounts/{account_id}/cdrs/summary (issue 4, item 3; issue 12,
// section 5): counts, billed minutes, ASR, ACD and NER of the account's legs
// over a window, the same per call, and the charges per currency; optionally
// per UTC hour or day or per value of one billing column (group_by), over the
// legs the list's filter_* parameters select. README.md "Summary" defines
// each number; daemon/db/cdr_summary.h what a call is in a bucket.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <ctime>
#include <optional>
#include <utility>

#include "daemon/api/api_request.h"
#include "daemon/api/cdr_filter.h"
#include "daemon/api/cdr_store.h"
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

std::string iso8601_of_gregorian(int64_t gregorian) {
  const std::time_t unix_seconds = static_cast<std::time_t>(gregorian - kGregorianUnixOffset);
  std::tm tm{};
  gmtime_r(&unix_seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string summary_data(const CdrSummaryQuery& q, const CdrSummary& summary) {
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
      w.String(iso8601_of_gregorian(bucket.start_gregorian));
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

}  // namespace

bool plan_summary(const ApiParams& params, const std::string& account_id, const std::string& request_id,
                  ApiQuery* query, ApiError* err) {
  CdrSummaryQuery q;
  q.account_id = account_id;
  TimeWindow window;
  if (!parse_time_window(params, static_cast<int64_t>(std::time(nullptr)) + kGregorianUnixOffset, &window, err)) {
    return false;
  }
  q.from_gregorian = window.from_gregorian;
  q.to_gregorian = window.to_gregorian;
  for (const auto& [name, value] : params) {
    if (name == "created_from" || name == "created_to" || name == "auth_token") {
      // the window, read above; the credential, read by authorize_account()
    } else if (name == "group_by") {
      if (!parse_summary_grouping(value, &q.group_by)) {
        std::string expected;
        for (SummaryGrouping g : summary_groupings()) {
          expected += (expected.empty() ? "" : ", ") + std::string(summary_grouping_name(g));
        }
        *err = {400, "invalid_parameter", "group_by: expected one of " + expected + ", got '" + value + "'"};
        return false;
      }
    } else if (name.rfind("filter_", 0) == 0) {
      // The list's filters, checked and turned into SQL by the same code
      // (cdr_filter.h), so both routes accept and refuse the same ones.
      CdrFilter filter;
      std::string message;
      if (!parse_cdr_filter(name, value, &filter, &message)) {
        *err = {400, "invalid_parameter", message};
        return false;
      }
      q.filters.push_back(std::move(filter));
    } else {
      *err = {400, "invalid_parameter", "unknown query parameter '" + name + "'"};
      return false;
    }
  }
  *query = [q, request_id](CdrStore& store) {
    const CdrSummary summary = store.run([&q](pqxx::connection& conn) { return summarize_cdrs(conn, q); });
    return ApiReply{200, data_envelope(summary_data(q, summary), request_id)};
  };
  return true;
}

}  // namespace cdrd
