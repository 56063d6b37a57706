// Yeti's customer API (seed 004; yeti-web's Api::Rest::Customer::V1, a
// JSON:API over jsonapi-resources 0.9), the incoming CDRs: the calls
// delivered to the account (calls that came in from a trunk, and internal
// calls it received), one row per routing attempt (call_row_source.h's
// list_attempts / attempt_by_seq, classes inbound and internal):
//
//   POST /api/rest/customer/v1/auth               {"auth": {"login", "password"}} -> 201 {"jwt": TOKEN}
//   GET  /api/rest/customer/v1/incoming-cdrs      the list (yeti_api.h: page, sort, filter)
//   GET  /api/rest/customer/v1/incoming-cdrs/{id} one row, exactly the seed's document
//
// Documents are application/vnd.api+json (the token application/json, as
// Rails' `render json:`). The links are absolute: the request's Host
// header, https on a TLS listener, else http ("localhost" without Host).
//
// Credentials: the token is read from `Authorization: <jwt>` (yeti-web takes
// the header's last word, so `Bearer <jwt>` too), else X-Auth-Token or
// ?auth_token= (cdrd's other credentials: API keys, their tokens). The
// token of the login is cdrd's (TokenSigner: the user's accounts, login and
// owner_id, api.token_ttl_s). The paths name no account: a credential that
// may read exactly one account reads it; one that may read several ("*",
// or a stored key cdrd_<id>_<secret>, whose accounts are in the database)
// names it with ?account_id= (or yeti's filter[account_id_eq]), else 400.
// Another account's row is 404, as yeti's scope answers.
//
// Failed logins are limited per client address (LoginLimiter: 429 with
// Retry-After); the Argon2id check runs on a read-pool thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "daemon/api/api_dialect.h"
#include "daemon/api/user_logins.h"

namespace cdrd {

struct YetiError;

class YetiDialect : public ApiDialect {
 public:
  std::string_view name() const override { return "yeti"; }
  bool handle(ApiService& service, const ApiCall& call) override;
  RouteReply error_reply(const ApiError& error, const std::string& request_id) const override;

 private:
  void fail(ApiService& service, const ApiCall& call, const YetiError& error) const;
  void handle_login(ApiService& service, const ApiCall& call);
  void handle_cdrs(ApiService& service, const ApiCall& call, const std::string& id) const;

  // Failed logins per client address, and the password check (user_logins.h).
  UserLogins logins_;
};

std::unique_ptr<ApiDialect> make_yeti_dialect();

}  // namespace cdrd
