#include "daemon/api/api_access.h"

#include <ctime>

#include "daemon/api/api_settings.h"
#include "daemon/api/cdr_store.h"
#include "daemon/auth/api_key_secret.h"
#include "daemon/auth/token_signer.h"
#include "daemon/db/api_key_store.h"
#include "daemon/db/user_store.h"
#include "daemon/http/http_reply.h"

namespace cdrd {
namespace {

ApiError unauthorized(const std::string& message) { return {401, "unauthorized", message}; }
ApiError forbidden(const std::string& account_id) {
  return {403, "forbidden", "these credentials may not read account " + account_id};
}

// A token: signature, expiry, and that the key it was minted from is still
// there (a configured one here; a stored one, or the user, in
// ApiGrant::verify()).
bool authorize_token(const ApiSettings& settings, const std::string& token, const std::string& account_id,
                     TokenClaims* verified, ApiError* err) {
  TokenClaims& claims = *verified;
  switch (settings.tokens->verify(token, unix_now(), &claims)) {
    case TokenStatus::kValid:
      break;
    case TokenStatus::kExpired:
      *err = unauthorized("the auth token has expired; get a new one with PUT /v2/api_auth");
      return false;
    case TokenStatus::kMalformed:
    case TokenStatus::kBadSignature:
      *err = unauthorized("the auth token is not valid");
      return false;
  }
  if (!claims.config_key_digest.empty()) {
    const ApiKey* key = settings.auth.find_by_digest(claims.config_key_digest);
    if (!key) {
      *err = unauthorized("the auth token is not valid: its API key is no longer configured");
      return false;
    }
    // The key's accounts may have shrunk since (SIGHUP): both must allow.
    if (!ApiAuth::allows(*key, account_id) || !claims.allows(account_id)) {
      *err = forbidden(account_id);
      return false;
    }
    return true;
  }
  if (!claims.allows(account_id)) {
    *err = forbidden(account_id);
    return false;
  }
  return true;
}

}  // namespace

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

std::optional<ApiError> ApiGrant::verify(CdrStore& store) const {
  if (!user_login_.empty()) {
    // One lookup through the primary key (find_api_user's prepared statement).
    const std::optional<StoredUser> user =
        store.run([this](pqxx::connection& conn) { return find_api_user(conn, user_login_); });
    if (!user) return unauthorized("the auth token is not valid: its user no longer exists");
    if (user->revoked()) {
      return unauthorized("the auth token is not valid: the user " + user->login + " has been revoked");
    }
    if (!user->allows(account_id_)) return forbidden(account_id_);
    return std::nullopt;
  }
  if (stored_key_.empty() && stored_key_id_.empty()) return std::nullopt;
  const bool is_token = stored_key_.empty();
  const std::optional<StoredApiKey> key = store.run([this, is_token](pqxx::connection& conn) {
    return is_token ? find_api_key_by_id(conn, stored_key_id_) : find_api_key(conn, stored_key_);
  });
  if (!key) {
    return is_token ? unauthorized("the auth token is not valid: its API key no longer exists")
                    : unauthorized("the credentials are not valid");
  }
  if (key->revoked()) {
    return is_token ? unauthorized("the auth token is not valid: its API key " + key->key_id + " has been revoked")
                    : unauthorized("the API key " + key->key_id + " has been revoked");
  }
  if (!key->allows(account_id_)) return forbidden(account_id_);
  return std::nullopt;
}

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

bool authorize_account(const ApiSettings& settings, const std::string& credential, const std::string& account_id,
                       ApiGrant* grant, ApiError* err) {
  if (credential.empty()) {
    *err = unauthorized("no credentials: send X-Auth-Token, Authorization: Bearer, or auth_token");
    return false;
  }
  ApiGrant out;
  out.account_id_ = account_id;
  std::string key_id;
  if (const ApiKey* key = settings.auth.find(credential)) {
    if (!ApiAuth::allows(*key, account_id)) {
      *err = forbidden(account_id);
      return false;
    }
  } else if (parse_api_key(credential, &key_id)) {
    out.stored_key_ = credential;
  } else if (settings.tokens && credential.find('.') != std::string::npos) {
    TokenClaims claims;
    if (!authorize_token(settings, credential, account_id, &claims, err)) return false;
    out.stored_key_id_ = claims.stored_key_id;  // "" for a configured key's token
    out.user_login_ = claims.user_login;
    out.owner_id_ = claims.owner_id;
  } else {
    *err = unauthorized("the credentials are not valid");
    return false;
  }
  *grant = std::move(out);
  return true;
}

std::optional<std::vector<std::string>> credential_accounts(const ApiSettings& settings, const std::string& credential,
                                                            int64_t now_unix) {
  if (const ApiKey* key = settings.auth.find(credential)) return key->accounts;
  if (settings.tokens && credential.find('.') != std::string::npos) {
    TokenClaims claims;
    if (settings.tokens->verify(credential, now_unix, &claims) == TokenStatus::kValid) return claims.accounts;
  }
  return std::nullopt;
}

}  // namespace cdrd
