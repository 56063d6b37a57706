// The read API's query string -> checked parameters, as pure functions (no
// server, no request): the list routes' parser lives here so that it can be
// unit-tested and fuzzed (fuzz/api_query_fuzzer.cpp) on its own.
//
// The rules are Kazoo crossbar's (crossbar_view, cb_context): a parameter
// the route does not know is ignored (the caller logs it at debug level);
// a known one with a bad value is a 400 whose message starts with its name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/api/api_request.h"
#include "daemon/api/cdr_store.h"

namespace cdrd {

// Kazoo's crossbar.maximum_range: 31 days and an hour, the default and the
// largest window of a list (api.max_window_s).
inline constexpr int64_t kDefaultMaxWindowSeconds = int64_t{31} * 86400 + 3600;
inline constexpr size_t kDefaultPageSize = 50;
inline constexpr size_t kMaxPageSize = 1000;

// The query string of a request URI (without the '?') -> *params. Values
// and names are percent-decoded (a name may be encoded too:
// filter_custom_channel_vars.owner%5Fid); a repeated name keeps its first
// value. False when libevent refuses the string as malformed.
bool parse_api_query_string(const char* query, ApiParams* params);

// created_from / created_to (Gregorian seconds, both inclusive, compared with
// the record's timestamp). Defaults: to = now, from = to - max_window_s (as
// Kazoo's crossbar_view:time_range/3). Refuses a malformed value, from > to,
// and a range over max_window_s, naming the parameter.
bool parse_list_window(const ApiParams& params, int64_t now_gregorian, int64_t max_window_s, TimeWindow* window,
                       ApiError* err);

struct ListOptions {
  bool csv = false;      // a CSV export: the whole window is streamed
  bool paginate = true;  // false under /v1 (Kazoo v1 never paginates)
  int64_t now_gregorian = 0;
  int64_t max_window_s = kDefaultMaxWindowSeconds;
};

struct ListRequest {
  CdrListQuery query;
  bool stream = false;  // the whole window (from start_key) in one streamed reply
  bool full = false;    // detail=full: the stored records instead of Kazoo's rows
  std::string start_key;
  // Parameters the list does not know: ignored.
  std::vector<std::string> ignored;
};

// The parameters the list routes know besides those parse_list_request()
// reads itself: the credential, the CSV choice and name, the time zone.
bool is_known_list_side_parameter(const std::string& name);

// Parses and checks the list parameters: the window, page_size (1..1000,
// default 50), start_key, the order (newest first; ascending=true|1 or
// descending=false|0 turns it, descending=true wins), paginate, detail
// (full|kazoo) and the filters (cdr_filter.h). *out->stream when the whole
// window is sent: paginate=false, a CSV export, or options.paginate false;
// page_size is then read but not used.
bool parse_list_request(const ApiParams& params, const std::string& account_id, const ListOptions& options,
                        ListRequest* out, ApiError* err);

// parse_list_request() with the default options (a paginated JSON or CSV
// list under /v2) for `now_gregorian`.
bool parse_list_query(const ApiParams& params, const std::string& account_id, bool csv, int64_t now_gregorian,
                      CdrListQuery* q, bool* stream, ApiError* err);

}  // namespace cdrd
