// Who is asking, and may they read this account.
//
// The loop thread reads the credential and checks what needs no database
// (keys from the configuration, the signature and expiry of tokens). What
// needs the database (keys stored there, their revocation) is left in the
// ApiGrant, which the read-pool thread verifies before it runs the query, so
// the loop never waits on the database.
#pragma once

#include <event2/http.h>

#include <optional>
#include <string>

#include "daemon/http/api_request.h"

namespace cdrd {

class CdrStore;
struct HttpSettings;

class ApiGrant {
 public:
  // Read-pool thread. nullopt when the request may go on; else the error
  // (401/403) to answer instead of running the query.
  std::optional<ApiError> verify(CdrStore& store) const;

 private:
  friend bool authorize_account(const HttpSettings& settings, const std::string& credential,
                                const std::string& account_id, ApiGrant* grant, ApiError* err);
  std::string account_id_;
};

// Loop thread. The request's credential: X-Auth-Token, else Authorization:
// Bearer, else ?auth_token=; "" when there is none.
std::string request_credential(evhttp_request* req, const ApiParams& params);

// Loop thread. True with *grant when `credential` may read `account_id` as
// far as can be told without the database; else false with *err (401 no or
// bad credential, 403 another account).
bool authorize_account(const HttpSettings& settings, const std::string& credential, const std::string& account_id,
                       ApiGrant* grant, ApiError* err);

}  // namespace cdrd
