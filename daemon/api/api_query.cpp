#include "daemon/api/api_query.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <cstdlib>
#include <optional>
#include <utility>

#include "daemon/api/cdr_filter.h"

namespace cdrd {
namespace {

// true|1 -> true, false|0 -> false; anything else refused.
bool parse_flag(const std::string& value, bool* out) {
  if (value == "true" || value == "1") {
    *out = true;
    return true;
  }
  if (value == "false" || value == "0") {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace

bool parse_api_query_string(const char* query, ApiParams* params) {
  evkeyvalq kv;
  if (evhttp_parse_query_str(query, &kv) != 0) return false;
  // evhttp decodes the values only; a name may be percent-encoded too
  // (filter_custom_channel_vars.owner%5Fid).
  for (evkeyval* p = kv.tqh_first; p; p = p->next.tqe_next) {
    size_t n = 0;
    char* name = evhttp_uridecode(p->key, 1, &n);
    params->emplace(name ? std::string(name, n) : std::string(p->key), p->value);
    free(name);
  }
  evhttp_clear_headers(&kv);
  return true;
}

bool parse_list_window(const ApiParams& params, int64_t now_gregorian, int64_t max_window_s, TimeWindow* window,
                       ApiError* err) {
  auto bad = [&](const std::string& message) {
    *err = {400, "invalid_parameter", message};
    return false;
  };
  window->to_gregorian = now_gregorian;
  bool have_from = false;
  for (const char* name : {"created_from", "created_to"}) {
    const auto it = params.find(name);
    if (it == params.end()) continue;
    int64_t v = 0;
    if (!parse_int64(it->second, &v) || v < kGregorianUnixOffset) {
      return bad(std::string(name) + ": expected Gregorian seconds (an integer >= " +
                 std::to_string(kGregorianUnixOffset) + "), got '" + it->second + "'");
    }
    if (it->first == "created_from") {
      window->from_gregorian = v;
      have_from = true;
    } else {
      window->to_gregorian = v;
    }
  }
  if (!have_from) window->from_gregorian = window->to_gregorian - max_window_s;
  if (window->from_gregorian > window->to_gregorian) {
    return bad("created_from: created_to " + std::to_string(window->to_gregorian) + " is prior to created_from " +
               std::to_string(window->from_gregorian));
  }
  if (window->to_gregorian - window->from_gregorian > max_window_s) {
    return bad("created_from: created_to " + std::to_string(window->to_gregorian) + " is more than " +
               std::to_string(max_window_s) + " seconds from created_from " + std::to_string(window->from_gregorian));
  }
  return true;
}

bool is_known_list_side_parameter(const std::string& name) {
  return name == "auth_token" || name == "accept" || name == "file_name" || name == "tz" || name == "utc_offset";
}

bool parse_list_request(const ApiParams& params, const std::string& account_id, const ListOptions& options,
                        ListRequest* out, ApiError* err) {
  auto bad = [&](const std::string& message) {
    *err = {400, "invalid_parameter", message};
    return false;
  };
  CdrListQuery& q = out->query;
  q.account_id = account_id;
  TimeWindow window;
  if (!parse_list_window(params, options.now_gregorian, options.max_window_s, &window, err)) return false;
  q.from_gregorian = window.from_gregorian;
  q.to_gregorian = window.to_gregorian;
  bool paginate = options.paginate;
  // crossbar_view:direction/2: newest first unless asked otherwise.
  std::optional<bool> ascending;
  std::optional<bool> descending;
  for (const auto& [name, value] : params) {
    if (name == "created_from" || name == "created_to" || is_known_list_side_parameter(name)) {
      // the window, read above; the others are read by the route
    } else if (name == "page_size") {
      int64_t v = 0;
      if (!parse_int64(value, &v) || v < 1 || v > static_cast<int64_t>(kMaxPageSize)) {
        return bad("page_size: expected an integer from 1 to " + std::to_string(kMaxPageSize) + ", got '" + value +
                   "'");
      }
      q.page_size = static_cast<size_t>(v);
    } else if (name == "start_key") {
      CdrCursor cursor;
      if (!decode_cursor(value, &cursor)) return bad("start_key: not a key returned as next_start_key");
      q.after = cursor;
      out->start_key = value;
    } else if (name == "ascending" || name == "descending") {
      bool v = false;
      if (!parse_flag(value, &v)) return bad(name + ": expected true, false, 1 or 0, got '" + value + "'");
      (name == "ascending" ? ascending : descending) = v;
    } else if (name == "paginate") {
      bool v = true;
      if (!parse_flag(value, &v)) return bad("paginate: expected true, false, 1 or 0, got '" + value + "'");
      paginate = paginate && v;
    } else if (name == "detail") {
      if (value != "full" && value != "kazoo") return bad("detail: expected full or kazoo, got '" + value + "'");
      out->full = value == "full";
    } else if (is_cdr_filter_parameter(name)) {
      CdrFilter filter;
      std::string message;
      if (!parse_cdr_filter(name, value, &filter, &message)) return bad(message);
      q.filters.push_back(std::move(filter));
    } else {
      out->ignored.push_back(name);
    }
  }
  // descending=true wins over ascending (crossbar_view); descending=false
  // alone is ascending.
  q.ascending = descending == true ? false : ascending.value_or(descending == false);
  out->stream = options.csv || !paginate;
  if (q.page_size == 0) q.page_size = kDefaultPageSize;
  return true;
}

bool parse_list_query(const ApiParams& params, const std::string& account_id, bool csv, int64_t now_gregorian,
                      CdrListQuery* q, bool* stream, ApiError* err) {
  ListOptions options;
  options.csv = csv;
  options.now_gregorian = now_gregorian;
  ListRequest request;
  if (!parse_list_request(params, account_id, options, &request, err)) return false;
  *q = std::move(request.query);
  *stream = request.stream;
  return true;
}

}  // namespace cdrd
