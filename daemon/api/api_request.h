// The parts of a read-API request that every route shares: the parsed query
// parameters, the error it may end in, the time window, the success
// envelope, and the job a route hands to the read pool.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdrd {

class CdrStore;

constexpr int64_t kGregorianUnixOffset = 62167219200;  // Gregorian seconds at 1970-01-01T00:00:00Z

using ApiParams = std::map<std::string, std::string>;

// An error reply: HTTP status, the contract's "code" and "message".
struct ApiError {
  int status = 0;
  std::string code;
  std::string message;
};

// What a read-pool thread computes for a plain (not streamed) reply: the
// status and the JSON body.
using ApiReply = std::pair<int, std::string>;
using ApiQuery = std::function<ApiReply(CdrStore& store)>;

// A whole reply: status, content type, body and extra headers.
struct RouteReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// [from, to], both inclusive, in Gregorian seconds.
struct TimeWindow {
  int64_t from_gregorian = 0;
  int64_t to_gregorian = 0;
};

// Read-pool thread: the API error for a database failure: 504 timeout
// (statement_timeout), 503 database_unavailable (broken connection), else 500
// internal_error, logged with the request id.
ApiError database_error(const std::exception& e, const std::string& request_id);

// The segments of a request path, each percent-decoded
// ("/api/cdrs/a%2Fb" -> api, cdrs, a/b); empty segments are skipped.
std::vector<std::string> path_segments(const std::string& path);

// A non-negative decimal integer of at most 19 digits, at most INT64_MAX.
bool parse_int64(const std::string& text, int64_t* out);

std::string iso8601_now();

// Ends a success envelope that `w` (a RapidJSON writer) has open:
// "request_id", "status": "success", "timestamp", then the closing brace.
template <class Writer>
void end_success_envelope(Writer& w, const std::string& request_id) {
  w.Key("request_id");
  w.String(request_id);
  w.Key("status");
  w.String("success");
  w.Key("timestamp");
  w.String(iso8601_now());
  w.EndObject();
}

// {"data": <data_json>, "request_id": ..., "status": "success", "timestamp": ...}.
// `data_json` must be one JSON value.
std::string data_envelope(std::string_view data_json, const std::string& request_id);

// The summary route (summary_route.cpp): checks the parameters on the loop
// thread; false with *err when they are bad, else *query runs on a read-pool
// thread.
bool plan_summary(const ApiParams& params, const std::string& account_id, const std::string& request_id,
                  ApiQuery* query, ApiError* err);

}  // namespace cdrd
