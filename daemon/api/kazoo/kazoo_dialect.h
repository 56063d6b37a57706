// Kazoo's CDR API (seeds 000 and 003; Kazoo 4.3's cb_cdrs, crossbar_view,
// crossbar_filter, api_util and cb_user_auth are the reference):
//
//   PUT  /v{1,2}/api_auth                                 key -> auth token
//   PUT  /v{1,2}/user_auth                                user credentials -> auth token
//   GET  /v{1,2}/accounts/{account}/cdrs                  list (Kazoo's rows)
//   GET  /v{1,2}/accounts/{account}/cdrs/interaction      one row per call
//   GET  /v{1,2}/accounts/{account}/cdrs/summary          counts and charges
//   GET  /v{1,2}/accounts/{account}/cdrs/legs/{id}        the legs of a call (interaction or CDR id)
//   GET  /v{1,2}/accounts/{account}/cdrs/{cdr_id}         one whole record
//   GET  /v{1,2}/accounts/{account}/users/{user}/cdrs     the list of one owner_id
//   GET  /v{1,2}/accounts/{account}/users/{user}/cdrs/interaction
//   OPTIONS on each of them: CORS preflight (api.cors_origins)
//
// Also served without a version prefix (as v2). /v1 lists are never
// paginated (Kazoo v1): the whole window is streamed. Parameters and their
// checks are in api_query.h, cdr_filter.h and time_zone.h; the rows are
// kazoo_row.h's, the records come from the core's CdrStore.
//
// Every error is Kazoo's envelope (api_util:create_resp_envelope/1) with
// cdrd's "code" kept: {"auth_token", "request_id", "node", "version",
// "timestamp", "status": "error", "message", "error": "<HTTP status>",
// "data": {"message"}, "code"}.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/api/api_dialect.h"
#include "daemon/api/user_logins.h"

namespace cdrd {

class ApiGrant;
class CdrStore;
struct ApiSettings;

// Kazoo's error body for `error`; `auth_token` is the token the request
// presented ("" for none, or when it presented an API key, which is never
// echoed).
std::string kazoo_error_body(const ApiError& error, const std::string& request_id, const std::string& auth_token);
RouteReply kazoo_error_reply(const ApiError& error, const std::string& request_id, const std::string& auth_token);

// How many of an account's active users PUT /v2/user_auth checks the
// credentials against (each check is an Argon2id run of ~80 ms on a read
// thread); users beyond it, by login, cannot log in with user_auth.
inline constexpr size_t kUserAuthCandidates = 20;

class KazooDialect : public ApiDialect {
 public:
  std::string_view name() const override { return "kazoo"; }
  bool handle(ApiService& service, const ApiCall& call) override;
  RouteReply error_reply(const ApiError& error, const std::string& request_id) const override;

 private:
  // What the routes of one request share.
  struct Call {
    const ApiCall& api;
    bool v1 = false;
    std::vector<std::string> seg;  // the path's segments after the version
    std::string token;             // the auth token presented, for error bodies
  };
  void fail(ApiService& service, const Call& call, const ApiError& error) const;
  // ApiService::submit() with the refusal of the grant in Kazoo's envelope
  // with the presented token (the core's own errors carry none).
  void submit(ApiService& service, const Call& call, const ApiGrant& grant,
              std::function<RouteReply(CdrStore& store)> query) const;
  void handle_api_auth(ApiService& service, const Call& call) const;  // kazoo_auth_route.cpp
  void handle_user_auth(ApiService& service, const Call& call);       // kazoo_auth_route.cpp
  void handle_cdrs(ApiService& service, const Call& call) const;
  void handle_summary(ApiService& service, const Call& call, const std::string& account_id, const ApiParams& params,
                      const ApiGrant& grant) const;  // kazoo_summary_route.cpp

  // Failed logins per client address, and the password check (user_logins.h).
  UserLogins logins_;
};

std::unique_ptr<ApiDialect> make_kazoo_dialect();

}  // namespace cdrd
