#include "daemon/api/portsip/portsip_api.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "daemon/api/portsip/portsip_item.h"
#include "daemon/api/record_view.h"
#include "daemon/rating/rating_time.h"

namespace cdrd {
namespace {

// The value of `column` on the leg write_portsip_item() takes the callee
// and trunk from: the leg call_row_source.cpp joins as the call's answered
// leg (the first that answered, else the last attempt by start; never a
// loopback half). The same choice here, so that a filter selects what the
// items show.
std::string leg_value(const char* column) {
  return std::string("(SELECT l.") + column +
         " FROM cdrs l WHERE l.account_id = c.account_id AND l.interaction_id = c.interaction_id AND NOT l.call_root"
         " AND NOT l.is_loopback ORDER BY l.answered_at IS NULL, l.answered_at, l.started_at DESC NULLS LAST, l.id"
         " LIMIT 1)";
}

struct TextFilter {
  const char* parameter;
  std::string column;  // SQL over alias c: the call's root leg
};

// The item's caller is the root's; its callee the leg's, else the root's;
// its trunk the root's, else the leg's.
const std::vector<TextFilter>& text_filters() {
  static const std::vector<TextFilter> filters = {
      {"caller", "c.caller_id_number"},
      {"callee", "COALESCE(" + leg_value("callee_id_number") + ", c.callee_id_number)"},
      {"trunk", "COALESCE(c.trunk, " + leg_value("trunk") + ")"},
  };
  return filters;
}

struct Direction {
  const char* portsip;
  const char* direction_class;
};
constexpr std::array<Direction, 4> kDirections = {{{"INBOUND_CALL", "inbound"},
                                                   {"OUTBOUND_CALL", "outbound"},
                                                   {"INTERNAL_CALL", "internal"},
                                                   {"TRANSIT_CALL", "transit"}}};

constexpr std::array<const char*, 8> kListParameters = {"start_time", "end_time", "skip",      "top",
                                                        "caller",     "callee",   "direction", "trunk"};

ApiError invalid(const std::string& message) { return {400, "invalid_parameter", message}; }

// A non-negative decimal integer (digits only) that fits int64.
std::optional<int64_t> whole_number(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Seconds since the Unix epoch of an ISO-8601 time (a fraction cut down).
bool read_time(const ApiParams& params, const char* name, int64_t* unix_s, bool* given, ApiError* err) {
  const auto it = params.find(name);
  *given = it != params.end();
  if (!*given) return true;
  const std::optional<int64_t> us = parse_iso_time_us(it->second);
  if (!us) {
    *err = invalid(std::string(name) + ": expected an ISO-8601 UTC time such as 2024-05-01T00:00:00Z, got '" +
                   it->second + "'");
    return false;
  }
  // Floor division: a time before 1970 with a fraction rounds down too.
  *unix_s = *us / 1000000 - (*us % 1000000 < 0 ? 1 : 0);
  return true;
}

bool read_text_filter(const ApiParams& params, const TextFilter& filter, std::vector<RowCondition>* out,
                      ApiError* err) {
  const auto it = params.find(filter.parameter);
  if (it == params.end()) return true;
  std::string value = it->second;
  RowCondition condition;
  condition.column = filter.column;
  condition.op = RowCondition::Op::kEq;
  if (!value.empty() && value.back() == '*') {
    value.pop_back();
    condition.op = RowCondition::Op::kPrefix;
  }
  if (value.empty()) {
    *err = invalid(std::string(filter.parameter) + ": expected a value (a trailing * makes it a prefix), got '" +
                   it->second + "'");
    return false;
  }
  condition.values.push_back(value);
  out->push_back(std::move(condition));
  return true;
}

std::string text_of(const rapidjson::StringBuffer& sb) { return {sb.GetString(), sb.GetSize()}; }

}  // namespace

bool is_portsip_side_parameter(const std::string& name) { return name == "account_id" || name == "auth_token"; }

bool parse_portsip_list(const ApiParams& params, int64_t now_unix, int64_t max_window_s, PortsipListRequest* out,
                        ApiError* err) {
  PortsipListRequest request;
  RowWindow& w = request.window;
  bool have_start = false;
  bool have_end = false;
  if (!read_time(params, "start_time", &w.from_unix, &have_start, err)) return false;
  if (!read_time(params, "end_time", &w.to_unix, &have_end, err)) return false;
  if (!have_end) w.to_unix = now_unix;
  if (!have_start) w.from_unix = w.to_unix - kPortsipDefaultWindowSeconds;
  if (w.from_unix > w.to_unix) {
    *err = invalid("start_time: must not be after end_time");
    return false;
  }
  if (w.to_unix - w.from_unix > max_window_s) {
    *err = invalid("start_time: the window from start_time to end_time is longer than " + std::to_string(max_window_s) +
                   " s (api.max_window_s)");
    return false;
  }

  w.offset = 0;
  w.limit = kPortsipDefaultTop;
  if (const auto it = params.find("skip"); it != params.end()) {
    const auto v = whole_number(it->second);
    if (!v || *v > kMaxCountedRows) {
      *err = invalid("skip: expected an integer from 0 to " + std::to_string(kMaxCountedRows) + ", got '" + it->second +
                     "'");
      return false;
    }
    w.offset = *v;
  }
  if (const auto it = params.find("top"); it != params.end()) {
    const auto v = whole_number(it->second);
    if (!v || *v < 1 || *v > kPortsipMaxTop) {
      *err = invalid("top: expected an integer from 1 to " + std::to_string(kPortsipMaxTop) + ", got '" + it->second +
                     "'");
      return false;
    }
    w.limit = *v;
  }

  for (const TextFilter& filter : text_filters()) {
    if (!read_text_filter(params, filter, &w.conditions, err)) return false;
  }
  if (const auto it = params.find("direction"); it != params.end()) {
    const auto d = std::find_if(kDirections.begin(), kDirections.end(),
                                [&](const Direction& x) { return it->second == x.portsip; });
    if (d == kDirections.end()) {
      *err = invalid("direction: expected INBOUND_CALL, OUTBOUND_CALL, INTERNAL_CALL or TRANSIT_CALL, got '" +
                     it->second + "'");
      return false;
    }
    w.conditions.push_back({"c.direction_class", RowCondition::Op::kEq, {d->direction_class}, ""});
  }
  w.order_by = "c.ts DESC, c.id DESC";

  for (const auto& [name, value] : params) {
    const bool known = std::find(kListParameters.begin(), kListParameters.end(), name) != kListParameters.end();
    if (!known && !is_portsip_side_parameter(name)) request.ignored.push_back(name);
  }
  *out = std::move(request);
  return true;
}

bool parse_portsip_login(const std::string& body, bool form, PortsipLogin* out, ApiError* err) {
  auto bad = [&](const std::string& message) {
    *err = {400, "invalid_body", message};
    return false;
  };
  ApiParams fields;
  if (form) {
    // A form's '+' is a space (a literal plus is sent as %2B); evhttp
    // decodes %XX only.
    std::string spaced;
    spaced.reserve(body.size());
    for (const char c : body) {
      if (c == '+') {
        spaced += "%20";
      } else {
        spaced.push_back(c);
      }
    }
    evkeyvalq kv;
    if (evhttp_parse_query_str(spaced.c_str(), &kv) != 0) {
      return bad("the body is not a form (application/x-www-form-urlencoded)");
    }
    for (evkeyval* p = kv.tqh_first; p != nullptr; p = p->next.tqe_next) fields.emplace(p->key, p->value);
    evhttp_clear_headers(&kv);
  } else {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return bad("the body is not a JSON object; expected {\"username\": \"...\", \"password\": \"...\"}");
    }
    for (const char* name : {"username", "password", "grant_type"}) {
      const auto it = doc.FindMember(name);
      if (it == doc.MemberEnd()) continue;
      if (!it->value.IsString()) return bad(std::string(name) + ": expected a string");
      fields.emplace(name, std::string(it->value.GetString(), it->value.GetStringLength()));
    }
  }
  if (const auto grant = fields.find("grant_type"); grant != fields.end() && grant->second != "password") {
    return bad(
        "grant_type: only \"password\" is supported (the refresh token is the access token: log in again), "
        "got '" +
        grant->second + "'");
  }
  const auto username = fields.find("username");
  if (username == fields.end() || username->second.empty()) return bad("username: missing or empty");
  const auto password = fields.find("password");
  if (password == fields.end() || password->second.empty()) return bad("password: missing or empty");
  out->username = username->second;
  out->password = password->second;
  return true;
}

std::string portsip_list_body(const CallPage& page) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("count");
  w.Int64(page.total);
  w.Key("items");
  w.StartArray();
  for (const CallRow& row : page.rows) write_portsip_item(w, row);
  w.EndArray();
  w.EndObject();
  return text_of(sb);
}

std::string portsip_single_body(const CallRow& row) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("items");
  w.StartArray();
  write_portsip_item(w, row);
  w.EndArray();
  w.EndObject();
  return text_of(sb);
}

std::string portsip_token_body(const std::string& token, int64_t expires_in) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("access_token");
  w.String(token);
  w.Key("expires_in");
  w.Int64(expires_in);
  w.Key("refresh_token");
  w.String(token);
  w.Key("token_type");
  w.String("Bearer");
  w.EndObject();
  return text_of(sb);
}

std::string portsip_error_body(const ApiError& error) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.Int(error.status);
  w.Key("message");
  w.String(error.message);
  w.EndObject();
  w.EndObject();
  return text_of(sb);
}

}  // namespace cdrd
