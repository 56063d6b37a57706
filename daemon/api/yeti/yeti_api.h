// The pure parts of Yeti's customer API routes (seed 004; yeti-web's
// Api::Rest::Customer::V1 over jsonapi-resources 0.9, paginator :paged; the
// routes are yeti_dialect.h): the list's query parameters, the login body,
// the credential's header, and the JSON:API documents. No server, no
// database, so they are unit-tested on their own
// (tests/api_dialects/yeti_api_test.cpp).
//
// The list (GET /api/rest/customer/v1/incoming-cdrs), as jsonapi-resources
// reads it; unknown top-level parameters are ignored:
//   page[number]   >= 1 (default 1); page[size] 1..1000 (default 50: yeti's
//                  config.default_page_size / maximum_page_size)
//   sort           comma-separated, '-' = descending: time-start, time-end,
//                  duration, id (default -time-start); ties by id, newest first
//   filter[<attribute>_<predicate>]  one value, a comma-separated list for
//                  `in`; attribute names dashed or underscored (time-start_gteq
//                  = time_start_gteq, as jsonapi-resources unformats keys).
//                  Predicates per type (yeti's RansackFilterBuilder, those
//                  cdrd has): number, datetime eq gt gteq lt lteq in; string
//                  eq in start cont (start/cont ignore case, as ransack's
//                  ILIKE); boolean eq. Attributes: kYetiFilters below.
//   account_id / filter[account_id_eq]  the account, when the credential
//                  allows several (yeti-web's association filter)
// Times are ISO 8601 ("2026-02-27T16:55:53.518Z", an offset, or none = UTC)
// or yeti's "2026-02-27 16:55:53"; a date alone is its midnight UTC. An
// offset's '+' sent unescaped (a space once the query is decoded) is read.
//
// The window: the rows whose attempt started in [lo, hi]: lo from
// time-start_gt/gteq/eq/in, else 24 hours ago (yeti's default filter
// time_start_gteq); hi from time-start_lt/lteq/eq/in, else now. At most
// max_window_s apart (api.max_window_s, 31 days and an hour). The rows are
// found through the leg's end (cdrs.ts, the indexed column), read from lo to
// hi + kYetiMaxLegSeconds: an attempt leg longer than a day is not listed.
//
// Errors are jsonapi-resources' documents: {"errors": [{"title", "detail",
// "code", "status"}]}, code and status strings (its error codes: 102 filter
// not allowed, 103 invalid field value, 105 param not allowed, 106 param
// missing, 107 invalid filter value, 114 invalid sort criteria, 118 invalid
// page value; else the HTTP status), the detail naming the parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/api/api_request.h"
#include "daemon/api/call_row_source.h"

namespace cdrd {

struct ApiSettings;

inline constexpr const char* kYetiMediaType = "application/vnd.api+json";
inline constexpr const char* kYetiPrefix = "/api/rest/customer/v1";
inline constexpr int64_t kYetiDefaultPageSize = 50;
inline constexpr int64_t kYetiMaxPageSize = 1000;
inline constexpr int64_t kYetiMaxPageNumber = 1000000000;
inline constexpr int64_t kYetiDefaultWindowSeconds = 86400;
inline constexpr int64_t kYetiMaxLegSeconds = 86400;

// The attributes the list filters on, dashed, in the order the errors name them.
inline constexpr const char* kYetiFilters =
    "id, time-start, time-connect, time-end, duration, success, src-name-out, src-prefix-out, dst-prefix-out, "
    "src-prefix-routing, dst-prefix-routing, legb-disconnect-code, sign-term-ip, term-call-id, legb-user-agent";

// The direction classes whose attempts are incoming CDRs: calls that came in
// from a trunk, and internal calls (the legs the account received).
const std::vector<std::string>& yeti_attempt_classes();

// One JSON:API error object.
struct YetiError {
  int status = 400;
  std::string code;  // jsonapi-resources' code ("102") or the HTTP status
  std::string title;
  std::string detail;
};

// The core's error (api_access, database, queue) as a JSON:API error: the
// title of its status, code = status, detail = its message.
YetiError yeti_error_of(const ApiError& error);
// {"errors": [{"title", "detail", "code", "status"}]}.
std::string yeti_error_body(const YetiError& error);
// jsonapi-resources' RecordNotFound for the id as requested.
YetiError yeti_not_found(const std::string& id);

struct YetiListRequest {
  RowWindow window;  // account_id left for the caller to set
  int64_t page_number = 1;
  int64_t page_size = kYetiDefaultPageSize;
  // The parameters the pagination links keep, as given (filter[...], sort,
  // account_id): jsonapi-resources keeps filter, sort, include and fields.
  std::vector<std::pair<std::string, std::string>> kept;
  std::vector<std::string> ignored;  // parameters the list does not know
};

// `now_unix`: the current time (Unix seconds). False with *err (400) naming
// the parameter.
bool parse_yeti_list(const ApiParams& params, int64_t now_unix, int64_t max_window_s, YetiListRequest* out,
                     YetiError* err);

// The {id} of GET .../incoming-cdrs/{id}: a row number (key_type :integer).
// False with *err (400, code 103).
bool parse_yeti_id(const std::string& text, int64_t* seq, YetiError* err);

// A time as the filters take it -> microseconds since the Unix epoch.
bool parse_yeti_time(const std::string& text, int64_t* unix_us);

// {"data": [...], "meta": {"total-count": N}, "links": {first, prev, next,
// last}} (jsonapi-resources' key formatter dasherizes meta's total_count;
// prev only past page 1, next only before the last page). The links are
// `collection_url` with the kept parameters and page[number], page[size],
// as Rails' Hash#to_query writes them (sorted, CGI-escaped).
// `page.total` is at most kMaxCountedRows. Throws what
// write_yeti_incoming_cdr() throws.
std::string yeti_list_body(const AttemptPage& page, const YetiListRequest& request, const std::string& collection_url);
// {"data": {...}}: exactly the seed's document.
std::string yeti_single_body(const AttemptRow& row, const std::string& collection_url);
// "<collection_url>?<query>" for one page (the links' form).
std::string yeti_page_link(const std::string& collection_url, const YetiListRequest& request, int64_t number);

// POST /api/rest/customer/v1/auth: {"auth": {"login", "password"}}. False
// with *err (400) naming the member.
struct YetiLogin {
  std::string login;
  std::string password;
};
bool parse_yeti_login(const std::string& body, YetiLogin* out, YetiError* err);
// {"jwt": TOKEN} (yeti-web's AuthController#create).
std::string yeti_token_body(const std::string& token);
// jsonapi-resources' AuthenticationFailed (the login's 401).
YetiError yeti_login_failed();

// The token of an Authorization header as yeti-web reads it
// (`headers['Authorization'].split.last`): "<jwt>" and "Bearer <jwt>" alike;
// "" for an empty header.
std::string yeti_authorization_token(const std::string& header);

}  // namespace cdrd
