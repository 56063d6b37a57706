#include "daemon/api/wavix/wavix_query.h"

#include <date/date.h>

#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

namespace cdrd {

// The leg of root c's call that CallRow::answered holds (call_row_source.cpp's
// kAnsweredLeg: the first to answer, else the last attempt by start).
#define WAVIX_LEG_FIELD(field)                                                                                 \
  "(SELECT l." field                                                                                           \
  " FROM cdrs l WHERE l.account_id = c.account_id AND l.interaction_id = c.interaction_id AND NOT l.call_root" \
  " AND NOT l.is_loopback ORDER BY l.answered_at IS NULL, l.answered_at, l.started_at DESC NULLS LAST, l.id"   \
  " LIMIT 1)"

#define WAVIX_LEG_STATUS WAVIX_LEG_FIELD("billing_status")
const char* const kWavixDispositionSql =
    "(CASE WHEN c.billing_status = 'answered' OR " WAVIX_LEG_STATUS
    " = 'answered' THEN 'answered' ELSE coalesce(" WAVIX_LEG_STATUS ", c.billing_status) END)";
const char* const kWavixTrunkSql = "coalesce(c.trunk, " WAVIX_LEG_FIELD("trunk") ")";
const char* const kWavixFromSql = "regexp_replace(coalesce(c.caller_e164, c.caller_id_number), '[^0-9]', '', 'g')";
const char* const kWavixToSql = "regexp_replace(coalesce(c.callee_e164, c.callee_id_number), '[^0-9]', '', 'g')";
const char* const kWavixOwnerSql = "(c.record->'custom_channel_vars'->>'owner_id')";

#undef WAVIX_LEG_STATUS
#undef WAVIX_LEG_FIELD

namespace {

constexpr int64_t kDay = 86400;
constexpr size_t kMaxSearchDigits = 32;

bool all_digits(std::string_view text) {
  for (const char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return !text.empty();
}

bool to_int(std::string_view text, int64_t* out) {
  if (!all_digits(text) || text.size() > 9) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

const std::string* find(const ApiParams& params, const char* name) {
  const auto it = params.find(name);
  return it == params.end() ? nullptr : &it->second;
}

bool read_day(const ApiParams& params, const char* name, int64_t* unix_day, std::string* message) {
  const std::string* value = find(params, name);
  if (value == nullptr) {
    *message = std::string(name) + ": required, a date YYYY-MM-DD (UTC)";
    return false;
  }
  if (!parse_wavix_date(*value, unix_day)) {
    *message = std::string(name) + ": expected a date YYYY-MM-DD, got '" + *value + "'";
    return false;
  }
  return true;
}

// An integer parameter in [min, max]; `fallback` when absent.
bool read_bounded(const ApiParams& params, const char* name, int64_t min, int64_t max, int64_t fallback, int64_t* out,
                  std::string* message) {
  const std::string* value = find(params, name);
  if (value == nullptr) {
    *out = fallback;
    return true;
  }
  if (!to_int(*value, out) || *out < min || *out > max) {
    *message = std::string(name) + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
               ", got '" + *value + "'";
    return false;
  }
  return true;
}

// The digits of a number search ('+', spaces and separators dropped).
bool read_search(const ApiParams& params, const char* name, const char* column, RowWindow* window,
                 std::string* message) {
  const std::string* value = find(params, name);
  if (value == nullptr) return true;
  std::string digits;
  for (const char c : *value) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digits.push_back(c);
    } else if (c != '+' && c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      *message = std::string(name) + ": expected digits of a phone number, got '" + *value + "'";
      return false;
    }
  }
  if (digits.empty() || digits.size() > kMaxSearchDigits) {
    *message =
        std::string(name) + ": expected 1 to " + std::to_string(kMaxSearchDigits) + " digits, got '" + *value + "'";
    return false;
  }
  window->conditions.push_back({column, RowCondition::Op::kContains, {digits}, ""});
  return true;
}

}  // namespace

bool parse_wavix_date(const std::string& text, int64_t* unix_day) {
  // Exactly YYYY-MM-DD: date::parse would take a shorter year or a sign.
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int64_t y = 0;
  int64_t m = 0;
  int64_t d = 0;
  if (!to_int(std::string_view(text).substr(0, 4), &y) || !to_int(std::string_view(text).substr(5, 2), &m) ||
      !to_int(std::string_view(text).substr(8, 2), &d)) {
    return false;
  }
  const date::year_month_day ymd{date::year{static_cast<int>(y)}, date::month{static_cast<unsigned>(m)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  *unix_day = static_cast<int64_t>(date::sys_days(ymd).time_since_epoch().count()) * kDay;
  return true;
}

bool parse_wavix_list_query(const ApiParams& params, WavixListQuery* out, std::string* message) {
  WavixListQuery q;
  int64_t from_day = 0;
  int64_t to_day = 0;
  if (!read_day(params, "from", &from_day, message) || !read_day(params, "to", &to_day, message)) return false;
  if (from_day > to_day) {
    *message = "from: " + *find(params, "from") + " is after to (" + *find(params, "to") + ")";
    return false;
  }
  if ((to_day - from_day) / kDay + 1 > kWavixMaxDays) {
    *message = "to: the window from " + *find(params, "from") + " to " + *find(params, "to") + " is longer than " +
               std::to_string(kWavixMaxDays) + " days";
    return false;
  }
  q.window.from_unix = from_day;
  q.window.to_unix = to_day + kDay - 1;

  const std::string* type = find(params, "type");
  if (type == nullptr) {
    *message = "type: required, placed or received";
    return false;
  }
  if (*type == "placed") {
    q.window.conditions.push_back({"c.direction_class", RowCondition::Op::kIn, {"outbound", "transit"}, ""});
  } else if (*type == "received") {
    q.window.conditions.push_back({"c.direction_class", RowCondition::Op::kIn, {"inbound", "internal"}, ""});
  } else {
    *message = "type: expected placed or received, got '" + *type + "'";
    return false;
  }

  const std::string* disposition = find(params, "disposition");
  const std::string wanted = disposition == nullptr ? "answered" : *disposition;
  if (wanted == "answered" || wanted == "noanswer" || wanted == "busy" || wanted == "failed") {
    q.window.conditions.push_back({kWavixDispositionSql, RowCondition::Op::kEq, {wanted}, ""});
  } else if (wanted != "all") {
    *message = "disposition: expected answered, noanswer, busy, failed or all, got '" + wanted + "'";
    return false;
  }

  if (!read_search(params, "from_search", kWavixFromSql, &q.window, message) ||
      !read_search(params, "to_search", kWavixToSql, &q.window, message)) {
    return false;
  }
  if (const std::string* trunk = find(params, "sip_trunk")) {
    if (trunk->empty()) {
      *message = "sip_trunk: must not be empty";
      return false;
    }
    q.window.conditions.push_back({kWavixTrunkSql, RowCondition::Op::kEq, {*trunk}, ""});
  }

  if (!read_bounded(params, "per_page", 1, kWavixMaxPerPage, kWavixDefaultPerPage, &q.per_page, message)) return false;
  // Pages reach as far as the total is counted (call_row_source.h); the
  // export (/v1/cdr/all) has no such bound.
  const int64_t max_page = (kMaxCountedRows + q.per_page - 1) / q.per_page;
  if (!read_bounded(params, "page", 1, max_page, 1, &q.page, message)) return false;
  q.window.order_by = "c.ts DESC, c.id DESC";
  q.window.offset = (q.page - 1) * q.per_page;
  q.window.limit = q.per_page;
  *out = std::move(q);
  return true;
}

}  // namespace cdrd
