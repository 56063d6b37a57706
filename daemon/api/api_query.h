// The read API's query string -> checked parameters, as pure functions (no
// server, no request): the list routes' parser lives here so that it can be
// unit-tested and fuzzed (fuzz/api_query_fuzzer.cpp) on its own.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/api/api_request.h"
#include "daemon/api/cdr_store.h"

namespace cdrd {

// The query string of a request URI (without the '?') -> *params. Values
// and names are percent-decoded (a name may be encoded too:
// filter_custom_channel_vars.owner%5Fid); a repeated name keeps its first
// value. False when libevent refuses the string as malformed.
bool parse_api_query_string(const char* query, ApiParams* params);

// Parses and checks the list parameters; unknown parameters are refused by
// name. *stream: the whole window is to be streamed (paginate=false, or a CSV
// export), where page_size has no meaning and is refused. `now_gregorian` is
// the default end of the window.
bool parse_list_query(const ApiParams& params, const std::string& account_id, bool csv, int64_t now_gregorian,
                      CdrListQuery* q, bool* stream, ApiError* err);

}  // namespace cdrd
