// The pure parts of PortSIP PBX's CDR routes (seed 001; the routes are
// portsip_dialect.h): the list's query parameters, the login body, and the
// documents (list, single item, token, error). No server, no database, so
// they are unit-tested on their own (tests/api_dialects/portsip_api_test.cpp).
//
// The list's parameters (unknown ones are ignored, a known one with a bad
// value is a 400 whose message starts with its name):
//   start_time, end_time  ISO-8601 (`2024-05-01T00:00:00Z`; a fraction and
//                         an offset are read, no zone = UTC); the calls whose
//                         root leg (the call's first leg) ended in
//                         [start_time, end_time], whole seconds. Defaults:
//                         end_time now, start_time 24 h before end_time. At
//                         most max_window_s apart (api.max_window_s: 31 days
//                         and an hour unless configured).
//   skip                  rows skipped, 0..kMaxCountedRows (default 0)
//   top                   page size, 1..100 (default 100)
//   caller                the root's caller_id_number (the item's `caller`)
//   callee                the item's `callee`: the answered (else last) leg's
//                         callee_id_number, else the root's
//   trunk                 the item's `trunk`: the root's trunk, else that leg's
//   direction             INBOUND_CALL, OUTBOUND_CALL, INTERNAL_CALL or
//                         TRANSIT_CALL (the call's direction_class)
// caller, callee and trunk match exactly, or as a prefix with a trailing `*`.
// Newest first (the root leg's end, then its id).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/api/api_request.h"
#include "daemon/api/call_row_source.h"

namespace cdrd {

inline constexpr int64_t kPortsipDefaultTop = 100;
inline constexpr int64_t kPortsipMaxTop = 100;
inline constexpr int64_t kPortsipDefaultWindowSeconds = 86400;

// The list's checked parameters, as the core's RowWindow (account_id left
// for the caller to set).
struct PortsipListRequest {
  RowWindow window;
  std::vector<std::string> ignored;  // parameters the list does not know
};

// Parameters the routes read besides the list's own: the account choice and
// the credential (request_credential()).
bool is_portsip_side_parameter(const std::string& name);

// `now_unix`: the current time (Unix seconds). False with *err (400
// invalid_parameter, the message starting with the parameter's name).
bool parse_portsip_list(const ApiParams& params, int64_t now_unix, int64_t max_window_s, PortsipListRequest* out,
                        ApiError* err);

// The login body: JSON {"username", "password"} or, as PortSIP's
// /api/login/oauth/token takes it, a form (grant_type=password&username=
// &password=...). grant_type, when given, must be "password"; other members
// (domain, scope, client_id) are ignored. False with *err (400) naming the
// field.
struct PortsipLogin {
  std::string username;
  std::string password;
};
bool parse_portsip_login(const std::string& body, bool form, PortsipLogin* out, ApiError* err);

// {"count": page.total, "items": [...]} and {"items": [row]}. Throw what
// write_portsip_item() throws.
std::string portsip_list_body(const CallPage& page);
std::string portsip_single_body(const CallRow& row);

// {"access_token", "expires_in", "refresh_token", "token_type": "Bearer"}:
// the refresh token is the access token itself (cdrd has no refresh grant:
// a client logs in again before expires_in runs out).
std::string portsip_token_body(const std::string& token, int64_t expires_in);

// {"error": {"code": <HTTP status>, "message": "..."}}.
std::string portsip_error_body(const ApiError& error);

}  // namespace cdrd
