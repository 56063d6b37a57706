#include "daemon/http/api_access.h"

#include "daemon/http/http_reply.h"
#include "daemon/http/http_server.h"

namespace cdrd {

std::optional<ApiError> ApiGrant::verify(CdrStore& /*store*/) const { return std::nullopt; }

std::string request_credential(evhttp_request* req, const ApiParams& params) {
  std::string token = request_header(req, "X-Auth-Token");
  if (token.empty()) {
    const std::string authz = request_header(req, "Authorization");
    if (authz.rfind("Bearer ", 0) == 0) token = authz.substr(7);
  }
  if (token.empty()) {
    const auto it = params.find("auth_token");
    if (it != params.end()) token = it->second;
  }
  return token;
}

bool authorize_account(const HttpSettings& settings, const std::string& credential, const std::string& account_id,
                       ApiGrant* grant, ApiError* err) {
  if (credential.empty()) {
    *err = {401, "unauthorized", "no credentials: send X-Auth-Token, Authorization: Bearer, or auth_token"};
    return false;
  }
  const ApiKey* key = settings.auth.find(credential);
  if (!key) {
    *err = {401, "unauthorized", "the credentials are not valid"};
    return false;
  }
  if (!ApiAuth::allows(*key, account_id)) {
    *err = {403, "forbidden", "these credentials may not read account " + account_id};
    return false;
  }
  grant->account_id_ = account_id;
  return true;
}

}  // namespace cdrd
