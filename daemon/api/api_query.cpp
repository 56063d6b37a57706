#include "daemon/api/api_query.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <cstdlib>
#include <utility>

#include "daemon/api/cdr_filter.h"

namespace cdrd {
namespace {

constexpr size_t kDefaultPageSize = 50;
constexpr size_t kMaxPageSize = 1000;

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

bool parse_list_query(const ApiParams& params, const std::string& account_id, bool csv, int64_t now_gregorian,
                      CdrListQuery* q, bool* stream, ApiError* err) {
  auto bad = [&](const std::string& message) {
    *err = {400, "invalid_parameter", message};
    return false;
  };
  q->account_id = account_id;
  TimeWindow window;
  if (!parse_time_window(params, now_gregorian, &window, err)) {
    return false;
  }
  q->from_gregorian = window.from_gregorian;
  q->to_gregorian = window.to_gregorian;
  bool paginate = true;
  bool have_page_size = false;
  for (const auto& [name, value] : params) {
    if (name == "created_from" || name == "created_to" || name == "auth_token") {
      // the window, read above; the credential, read by authorize_account()
    } else if (name == "page_size") {
      int64_t v = 0;
      if (!parse_int64(value, &v) || v < 1 || v > static_cast<int64_t>(kMaxPageSize)) {
        return bad("page_size: expected an integer from 1 to " + std::to_string(kMaxPageSize) + ", got '" + value +
                   "'");
      }
      q->page_size = static_cast<size_t>(v);
      have_page_size = true;
    } else if (name == "start_key") {
      CdrCursor cursor;
      if (!decode_cursor(value, &cursor)) return bad("start_key: not a key returned as next_start_key");
      q->after = cursor;
    } else if (name == "ascending") {
      if (value != "true" && value != "false") return bad("ascending: expected true or false, got '" + value + "'");
      q->ascending = value == "true";
    } else if (name == "paginate") {
      if (value != "true" && value != "false") return bad("paginate: expected true or false, got '" + value + "'");
      paginate = value == "true";
    } else if (name.rfind("filter_", 0) == 0) {
      CdrFilter filter;
      std::string message;
      if (!parse_cdr_filter(name, value, &filter, &message)) return bad(message);
      q->filters.push_back(std::move(filter));
    } else {
      return bad("unknown query parameter '" + name + "'");
    }
  }
  *stream = csv || !paginate;
  if (have_page_size && !paginate) return bad("page_size: not allowed with paginate=false (the whole window is sent)");
  if (have_page_size && csv) {
    return bad("page_size: not allowed with a CSV export (the whole window from start_key is sent)");
  }
  if (q->page_size == 0) q->page_size = kDefaultPageSize;
  return true;
}

}  // namespace cdrd
