// PortSIP PBX's CDR API (seed 001) over the read core:
//
//   GET  /api/cdrs                 {"count": <matching calls>, "items": [...]}
//   GET  /api/cdrs/{id}            {"items": [item]}; 404 for an id of no call
//                                  of the account (or of another owner)
//   POST /api/login/oauth/token    PortSIP's login: a form
//   POST /api/login                (grant_type=password&username&password) or
//                                  JSON {"username", "password"} -> an access
//                                  token of a `cdrd user`
//
// One item per call (portsip_item.h, from call_row_source.h's CallRow); the
// list's parameters are portsip_api.h's; count is CallPage.total, exact up
// to kMaxCountedRows and that figure beyond.
//
// Credentials: Authorization: Bearer (also X-Auth-Token, ?auth_token), any
// credential of api_access.h. The paths carry no account: a credential that
// may read exactly one account reads it; one allowing several, or every
// account ("*"), or a stored API key (whose accounts are in the database),
// must name one with ?account_id= (400 naming it otherwise).
//
// Logins: the user (api_users, `cdrd user create`) is checked on a read-pool
// thread (Argon2id of md5("login:password"), as Kazoo's user_auth); failed
// logins are limited per client address (429 with Retry-After). The token is
// signed as every cdrd token (TokenClaims with the user's accounts, login and
// owner_id), valid api.token_ttl_s; refresh_token is the same token.
//
// Every error is {"error": {"code": <HTTP status>, "message": "..."}}.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "daemon/api/api_dialect.h"
#include "daemon/api/user_logins.h"

namespace cdrd {

class PortsipDialect : public ApiDialect {
 public:
  std::string_view name() const override { return "portsip"; }
  bool handle(ApiService& service, const ApiCall& call) override;
  RouteReply error_reply(const ApiError& error, const std::string& request_id) const override;

 private:
  void handle_cdrs(ApiService& service, const ApiCall& call, const std::string& id) const;
  void handle_login(ApiService& service, const ApiCall& call);

  // Failed logins per client address, and the password check (user_logins.h).
  UserLogins logins_;
};

std::unique_ptr<ApiDialect> make_portsip_dialect();

}  // namespace cdrd
