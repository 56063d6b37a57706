#include "daemon/api/yeti/yeti_api.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <sstream>

#include "daemon/api/api_settings.h"
#include "daemon/api/yeti/yeti_incoming_cdr.h"
#include "daemon/auth/token_signer.h"
#include "daemon/rating/rating_time.h"

namespace cdrd {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;

enum class Kind { kNumber, kTime, kString, kBoolean };

// One filterable attribute: its underscored name (as jsonapi-resources
// unformats the key), its type, and the SQL over the attempt leg (alias c)
// and its call's root (alias r; NULL when the attempt is its own root) that
// gives the value the document shows.
struct Attribute {
  const char* name;
  Kind kind;
  std::string column;
  const char* cast;
};

// The root's field, the attempt's own when the attempt is the root.
std::string root_field(const std::string& field) {
  return "(CASE WHEN r.row_seq IS NULL THEN c." + field + " ELSE r." + field + " END)";
}

std::string digits(const std::string& expression) {
  return "NULLIF(regexp_replace(" + expression + ", '[^0-9]', '', 'g'), '')";
}

// number_digits() of yeti_incoming_cdr: the root's e164 without '+', else
// the digits of its number.
std::string routing_digits(const std::string& party) {
  return "COALESCE(" + digits(root_field(party + "_e164")) + ", " + digits(root_field(party + "_id_number")) + ")";
}

const std::vector<Attribute>& attributes() {
  static const std::vector<Attribute> table = {
      {"id", Kind::kNumber, "c.row_seq", "bigint"},
      {"time_start", Kind::kTime, "c.started_at", "timestamptz"},
      {"time_connect", Kind::kTime, "c.answered_at", "timestamptz"},
      // The document's time-end is ended_at (ms); cdrs.ts has whole seconds.
      {"time_end", Kind::kTime, "(c.record->>'ended_at')::timestamptz", "timestamptz"},
      {"duration", Kind::kNumber, "c.billing_seconds", "bigint"},
      {"success", Kind::kBoolean, "(c.billing_status IS NOT DISTINCT FROM 'answered')", "boolean"},
      {"src_name_out", Kind::kString, "(c.record->>'caller_id_name')", ""},
      {"src_prefix_out", Kind::kString, "c.caller_id_number", ""},
      {"dst_prefix_out", Kind::kString, "c.callee_id_number", ""},
      {"src_prefix_routing", Kind::kString, routing_digits("caller"), ""},
      {"dst_prefix_routing", Kind::kString, routing_digits("callee"), ""},
      {"legb_disconnect_code", Kind::kNumber,
       "(CASE WHEN c.record->>'sip_term_status' ~ '^[0-9]{1,9}$' THEN (c.record->>'sip_term_status')::bigint END)",
       "bigint"},
      {"sign_term_ip", Kind::kString, "(c.record->>'sip_network_ip')", ""},
      {"term_call_id", Kind::kString, "c.sip_call_id", ""},
      {"legb_user_agent", Kind::kString, "(c.record->>'user_agent')", ""},
  };
  return table;
}

const Attribute* find_attribute(const std::string& name) {
  for (const Attribute& a : attributes()) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

// yeti's RansackFilterBuilder suffixes, those the read core has.
bool predicate_op(Kind kind, const std::string& predicate, RowCondition::Op* op) {
  static const std::vector<std::pair<std::string, RowCondition::Op>> ordered = {
      {"eq", RowCondition::Op::kEq},        {"gt", RowCondition::Op::kGt},        {"gteq", RowCondition::Op::kGte},
      {"lt", RowCondition::Op::kLt},        {"lteq", RowCondition::Op::kLte},     {"in", RowCondition::Op::kIn},
      {"start", RowCondition::Op::kPrefix}, {"cont", RowCondition::Op::kContains}};
  for (const auto& [name, value] : ordered) {
    if (name != predicate) continue;
    const bool text_only = value == RowCondition::Op::kPrefix || value == RowCondition::Op::kContains;
    const bool ordering = value == RowCondition::Op::kGt || value == RowCondition::Op::kGte ||
                          value == RowCondition::Op::kLt || value == RowCondition::Op::kLte;
    if (kind == Kind::kBoolean && value != RowCondition::Op::kEq) return false;
    if (kind == Kind::kString && ordering) return false;
    if (kind != Kind::kString && text_only) return false;
    *op = value;
    return true;
  }
  return false;
}

std::string dashed(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t i = 0;
  while (true) {
    const size_t j = text.find(',', i);
    out.push_back(text.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

YetiError bad(const std::string& code, const std::string& title, const std::string& detail) {
  return {400, code, title, detail};
}

YetiError bad_filter_value(const std::string& param, const std::string& value, const std::string& why = "") {
  return bad("107", "Invalid filter value",
             value + " is not a valid value for " + param + "." + (why.empty() ? "" : " " + why));
}

std::string iso_micros(int64_t unix_us) { return format_iso_time_us(unix_us); }

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// Rails' CGI.escape, which Hash#to_query uses: alphanumerics and "_.-~"
// stay, a space is '+', every other byte %XX.
std::string cgi_escape(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '_' || c == '.' || c == '-' || c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

const char* status_title(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Authorization failed";
    case 403:
      return "Forbidden";
    case 404:
      return "Record not found";
    case 405:
      return "Method Not Allowed";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Internal Server Error";
  }
}

// The bounds the time-start filters put on the window, and which filter set each.
struct StartBounds {
  std::optional<int64_t> lo_us;
  std::string lo_param;
  std::optional<int64_t> hi_us;
  std::string hi_param;

  void raise_lo(int64_t us, const std::string& param) {
    if (!lo_us || us > *lo_us) {
      lo_us = us;
      lo_param = param;
    }
  }
  void lower_hi(int64_t us, const std::string& param) {
    if (!hi_us || us < *hi_us) {
      hi_us = us;
      hi_param = param;
    }
  }
};

// One filter[...] parameter -> a condition on *out (and the start bounds).
bool parse_filter(const std::string& param, const std::string& key, const std::string& value, RowWindow* out,
                  StartBounds* bounds, YetiError* err) {
  std::string name = key;
  std::replace(name.begin(), name.end(), '-', '_');
  const size_t cut = name.rfind('_');
  const Attribute* attribute = cut == std::string::npos ? nullptr : find_attribute(name.substr(0, cut));
  RowCondition::Op op = RowCondition::Op::kEq;
  if (attribute == nullptr || !predicate_op(attribute->kind, name.substr(cut + 1), &op)) {
    *err = bad("102", "Filter not allowed",
               param + " is not allowed. cdrd filters incoming-cdrs on " + std::string(kYetiFilters) +
                   " (filter[<attribute>_<predicate>]; numbers and times: eq, gt, gteq, lt, lteq, in; text: eq, in, "
                   "start, cont; success: eq).");
    return false;
  }
  std::vector<std::string> values = split_commas(value);
  if (values.empty() || (op != RowCondition::Op::kIn && values.size() != 1)) {
    *err = bad_filter_value(param, value.empty() ? "an empty value" : value,
                            op == RowCondition::Op::kIn ? "" : "Give one value (a list only with _in).");
    return false;
  }
  RowCondition condition;
  condition.column = attribute->column;
  condition.op = op;
  condition.cast = attribute->cast;
  const bool start = std::string(attribute->name) == "time_start";
  std::vector<int64_t> times;
  for (std::string& v : values) {
    switch (attribute->kind) {
      case Kind::kNumber: {
        int64_t n = 0;
        if (!parse_int64(v, &n)) {
          *err = bad_filter_value(param, v, "Expected a non-negative integer.");
          return false;
        }
        v = std::to_string(n);
        break;
      }
      case Kind::kTime: {
        int64_t us = 0;
        if (!parse_yeti_time(v, &us)) {
          *err = bad_filter_value(param, v, "Expected an ISO 8601 time (2026-02-27T16:55:53Z) or 2026-02-27 16:55:53.");
          return false;
        }
        times.push_back(us);
        v = iso_micros(us);
        break;
      }
      case Kind::kBoolean: {
        const std::string b = lower_ascii(v);
        if (b == "true" || b == "t" || b == "1") {
          v = "true";
        } else if (b == "false" || b == "f" || b == "0") {
          v = "false";
        } else {
          *err = bad_filter_value(param, v, "Expected true or false.");
          return false;
        }
        break;
      }
      case Kind::kString:
        // ransack's start and cont are ILIKE: any case.
        if (op == RowCondition::Op::kPrefix || op == RowCondition::Op::kContains) v = lower_ascii(v);
        break;
    }
  }
  if (start) {
    // The window spans the values (a list: its smallest and largest).
    const auto [lo, hi] = std::minmax_element(times.begin(), times.end());
    if (op != RowCondition::Op::kLt && op != RowCondition::Op::kLte) bounds->raise_lo(*lo, param);
    if (op != RowCondition::Op::kGt && op != RowCondition::Op::kGte) bounds->lower_hi(*hi, param);
  }
  if (op == RowCondition::Op::kPrefix || op == RowCondition::Op::kContains) {
    condition.column = "lower(" + condition.column + ")";
  }
  condition.values = std::move(values);
  out->conditions.push_back(std::move(condition));
  return true;
}

// sort -> ORDER BY, ties by id in the first key's direction.
bool parse_sort(const std::string& text, std::string* order_by, YetiError* err) {
  static const std::vector<std::pair<std::string, std::string>> columns = {
      {"time-start", "c.started_at"},
      {"time-end", "(c.record->>'ended_at')::timestamptz"},
      {"duration", "c.billing_seconds"},
      {"id", "c.row_seq"}};
  std::string sql;
  bool by_id = false;
  bool first_desc = true;
  for (const std::string& field : split_commas(text)) {
    const bool desc = !field.empty() && field[0] == '-';
    const std::string name = dashed(desc ? field.substr(1) : field);
    const auto it = std::find_if(columns.begin(), columns.end(), [&](const auto& c) { return c.first == name; });
    if (it == columns.end()) {
      *err = bad("114", "Invalid sort criteria",
                 (field.empty() ? std::string("an empty field") : field) +
                     " is not a valid sort criteria for incoming-cdrs (sort: time-start, time-end, duration, id; "
                     "'-' for descending).");
      return false;
    }
    if (sql.empty()) first_desc = desc;
    by_id = by_id || name == "id";
    sql += (sql.empty() ? "" : ", ") + it->second + (desc ? " DESC" : " ASC");
  }
  if (!by_id) sql += std::string(", c.row_seq") + (first_desc ? " DESC" : " ASC");
  *order_by = sql;
  return true;
}

bool parse_page_value(const std::string& param, const std::string& text, int64_t max, int64_t* out, YetiError* err) {
  int64_t v = 0;
  if (!parse_int64(text, &v) || v < 1) {
    *err = bad("118", "Invalid page value",
               (text.empty() ? std::string("an empty value") : text) + " is not a valid value for " + param +
                   " (an integer from 1).");
    return false;
  }
  if (v > max) {
    *err =
        bad("118", "Invalid page value", param + "=" + text + " exceeds the maximum of " + std::to_string(max) + ".");
    return false;
  }
  *out = v;
  return true;
}

bool is_account_filter(const std::string& key) { return key == "account_id_eq" || key == "account-id_eq"; }

std::string write_document(const std::function<void(JsonWriter&)>& body) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  body(w);
  return {sb.GetString(), sb.GetSize()};
}

}  // namespace

const std::vector<std::string>& yeti_attempt_classes() {
  static const std::vector<std::string> classes = {"inbound", "internal"};
  return classes;
}

YetiError yeti_error_of(const ApiError& error) {
  return {error.status, std::to_string(error.status), status_title(error.status), error.message};
}

std::string yeti_error_body(const YetiError& error) {
  return write_document([&](JsonWriter& w) {
    w.StartObject();
    w.Key("errors");
    w.StartArray();
    w.StartObject();
    w.Key("title");
    w.String(error.title);
    w.Key("detail");
    w.String(error.detail);
    w.Key("code");
    w.String(error.code);
    w.Key("status");
    w.String(std::to_string(error.status));
    w.EndObject();
    w.EndArray();
    w.EndObject();
  });
}

YetiError yeti_not_found(const std::string& id) {
  return {404, "404", "Record not found", "The record identified by " + id + " could not be found."};
}

bool parse_yeti_time(const std::string& text, int64_t* unix_us) {
  // rating_time's reader: ISO 8601 with 'T' or ' ' (yeti's "%F %T"), a
  // fraction, a zone or none (UTC, as yeti's Rails reads a time without
  // one), or a date alone.
  std::optional<int64_t> us = parse_iso_time_us(text);
  // "+02:00" unescaped in a query string arrives as " 02:00".
  const size_t space = text.rfind(' ');
  if (!us && space != std::string::npos && space > 10) {
    std::string plus = text;
    plus[space] = '+';
    us = parse_iso_time_us(plus);
  }
  if (!us) return false;
  *unix_us = *us;
  return true;
}

bool parse_yeti_list(const ApiParams& params, int64_t now_unix, int64_t max_window_s, YetiListRequest* out,
                     YetiError* err) {
  YetiListRequest list;
  StartBounds bounds;
  std::string sort = "-time-start";
  for (const auto& [name, value] : params) {
    if (name == "sort") {
      // An empty sort is no sort (jsonapi-resources: `present?`).
      if (!value.empty()) sort = value;
      list.kept.emplace_back(name, value);
    } else if (name == "account_id") {
      list.kept.emplace_back(name, value);
    } else if (name == "page" || name == "page[number]") {
      if (!parse_page_value(name, value, kYetiMaxPageNumber, &list.page_number, err)) return false;
    } else if (name == "page[size]") {
      if (!parse_page_value(name, value, kYetiMaxPageSize, &list.page_size, err)) return false;
    } else if (name.rfind("page[", 0) == 0) {
      *err = bad("105", "Page parameter not allowed",
                 name + " is not an allowed page parameter (page[number], page[size]).");
      return false;
    } else if (name == "include" || name.rfind("fields", 0) == 0) {
      *err = bad("105", "Param not allowed",
                 name +
                     " is not allowed: cdrd sends every attribute and no included "
                     "resources.");
      return false;
    } else if (name.rfind("filter", 0) == 0) {
      if (name.size() < 9 || name.compare(0, 7, "filter[") != 0 || name.back() != ']') {
        *err = bad("120", "Invalid filters syntax",
                   name + " is not a valid syntax for filtering; use filter[<attribute>_<predicate>]=value.");
        return false;
      }
      const std::string key = name.substr(7, name.size() - 8);
      list.kept.emplace_back(name, value);
      if (is_account_filter(key)) continue;  // the account choice (yeti_dialect)
      if (!parse_filter(name, key, value, &list.window, &bounds, err)) return false;
    } else if (name != "auth_token") {
      list.ignored.push_back(name);
    }
  }
  if (!parse_sort(sort, &list.window.order_by, err)) return false;

  const bool default_lo = !bounds.lo_us;
  const int64_t default_s = std::min(kYetiDefaultWindowSeconds, max_window_s);
  const int64_t lo_us = default_lo ? (now_unix - default_s) * kMicrosPerSecond : *bounds.lo_us;
  const int64_t hi_us = bounds.hi_us ? *bounds.hi_us : now_unix * kMicrosPerSecond;
  if (default_lo) {
    // yeti's default filter time_start_gteq: 24 hours ago.
    list.window.conditions.push_back(
        RowCondition{"c.started_at", RowCondition::Op::kGte, {iso_micros(lo_us)}, "timestamptz"});
  }
  if (hi_us - lo_us > max_window_s * kMicrosPerSecond) {
    const std::string& param = default_lo ? bounds.hi_param : bounds.lo_param;
    const auto given = params.find(param);
    *err = bad_filter_value(param, given == params.end() ? "" : given->second,
                            "The time-start range " + iso_micros(lo_us) + " .. " + iso_micros(hi_us) +
                                " is longer than the longest window of " + std::to_string(max_window_s) +
                                " s (api.max_window_s); narrow it with filter[time-start_gteq] and "
                                "filter[time-start_lteq].");
    return false;
  }
  // A leg ends after it starts: its end (cdrs.ts, whole seconds) is in
  // [lo, hi + a day].
  list.window.from_unix = floor_div(lo_us, kMicrosPerSecond);
  list.window.to_unix = floor_div(hi_us + kMicrosPerSecond - 1, kMicrosPerSecond) + kYetiMaxLegSeconds;
  list.window.offset = (list.page_number - 1) * list.page_size;
  list.window.limit = list.page_size;
  *out = std::move(list);
  return true;
}

bool parse_yeti_id(const std::string& text, int64_t* seq, YetiError* err) {
  if (!parse_int64(text, seq)) {
    *err =
        bad("103", "Invalid field value", text + " is not a valid value for id (an incoming-cdrs id is an integer).");
    return false;
  }
  return true;
}

std::string yeti_page_link(const std::string& collection_url, const YetiListRequest& request, int64_t number) {
  std::vector<std::string> pairs;
  for (const auto& [name, value] : request.kept) pairs.push_back(cgi_escape(name) + "=" + cgi_escape(value));
  pairs.push_back(cgi_escape("page[number]") + "=" + std::to_string(number));
  pairs.push_back(cgi_escape("page[size]") + "=" + std::to_string(request.page_size));
  std::sort(pairs.begin(), pairs.end());
  std::string url = collection_url + "?";
  for (size_t i = 0; i < pairs.size(); ++i) url += (i == 0 ? "" : "&") + pairs[i];
  return url;
}

std::string yeti_list_body(const AttemptPage& page, const YetiListRequest& request, const std::string& collection_url) {
  const int64_t page_count = (page.total + request.page_size - 1) / request.page_size;
  return write_document([&](JsonWriter& w) {
    w.StartObject();
    w.Key("data");
    w.StartArray();
    for (const AttemptRow& row : page.rows) write_yeti_incoming_cdr(w, row, collection_url);
    w.EndArray();
    w.Key("meta");
    w.StartObject();
    w.Key("total-count");
    w.Int64(page.total);
    w.EndObject();
    // jsonapi-resources' PagedPaginator#links_page_params.
    w.Key("links");
    w.StartObject();
    w.Key("first");
    w.String(yeti_page_link(collection_url, request, 1));
    if (request.page_number > 1) {
      w.Key("prev");
      w.String(yeti_page_link(collection_url, request, request.page_number - 1));
    }
    if (request.page_number < page_count) {
      w.Key("next");
      w.String(yeti_page_link(collection_url, request, request.page_number + 1));
    }
    w.Key("last");
    w.String(yeti_page_link(collection_url, request, page_count == 0 ? 1 : page_count));
    w.EndObject();
    w.EndObject();
  });
}

std::string yeti_single_body(const AttemptRow& row, const std::string& collection_url) {
  return write_document([&](JsonWriter& w) {
    w.StartObject();
    w.Key("data");
    write_yeti_incoming_cdr(w, row, collection_url);
    w.EndObject();
  });
}

bool parse_yeti_login(const std::string& body, YetiLogin* out, YetiError* err) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    *err = bad("400", "Bad Request",
               "the body is not a JSON object; expected {\"auth\": {\"login\": \"...\", \"password\": \"...\"}}");
    return false;
  }
  const auto auth = doc.FindMember("auth");
  if (auth == doc.MemberEnd() || !auth->value.IsObject()) {
    *err = bad("106", "Missing Parameter",
               "The required parameter, auth, is missing (or not an object): {\"auth\": {\"login\", \"password\"}}.");
    return false;
  }
  for (const auto& [member, target] : {std::pair<const char*, std::string*>{"login", &out->login},
                                       std::pair<const char*, std::string*>{"password", &out->password}}) {
    const auto it = auth->value.FindMember(member);
    if (it == auth->value.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0) {
      *err = bad("106", "Missing Parameter",
                 std::string("The required parameter, auth.") + member + ", is missing (a non-empty string).");
      return false;
    }
    target->assign(it->value.GetString(), it->value.GetStringLength());
  }
  return true;
}

std::string yeti_token_body(const std::string& token) {
  return write_document([&](JsonWriter& w) {
    w.StartObject();
    w.Key("jwt");
    w.String(token);
    w.EndObject();
  });
}

YetiError yeti_login_failed() { return {401, "401", "Authentication failed", "Incorrect login or password."}; }

std::string yeti_authorization_token(const std::string& header) {
  std::istringstream words(header);
  std::string word;
  std::string last;
  while (words >> word) last = word;
  return last;
}

}  // namespace cdrd
