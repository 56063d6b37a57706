// Who is asking, and may they read this account.
//
// A credential is one of: a key from the configuration (api.keys), a key
// stored in the database (`cdrd api-key create`, "cdrd_<key_id>_<secret>"),
// or an auth token from PUT /v2/api_auth or a user login such as
// PUT /v2/user_auth (daemon/auth/token_signer.h).
//
// The loop thread reads the credential and checks what needs no database
// (configured keys, the signature and expiry of tokens). What needs the
// database (a stored key, or the stored key a token was minted from: does it
// exist, is it revoked, may it read the account) is left in the ApiGrant,
// which the read-pool thread verifies before it runs the query, so the loop
// never waits on the database. A user's token is accepted only while its
// user (the api_users table) exists and is not revoked, checked the same way.
//
// A user token that names an owner_id (`cdrd user create --owner-id`) reads
// only the rows of that owner: the records whose
// custom_channel_vars.owner_id is it. The grant says so (owner_id()); every
// route adds the restriction to what it reads (cdr_filter.h's
// owner_filter()), and a single record or leg of another owner is not found.
#pragma once

#include <event2/http.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api/api_request.h"

namespace cdrd {

class CdrStore;
struct ApiSettings;

class ApiGrant {
 public:
  // Read-pool thread. nullopt when the request may go on; else the error
  // (401 unknown or revoked key, 403 another account) to answer instead of
  // running the query. At most one indexed, prepared lookup; none for
  // configured keys and tokens minted from them. Throws pqxx exceptions.
  std::optional<ApiError> verify(CdrStore& store) const;

  // The owner the rows read must belong to; "" = no restriction.
  const std::string& owner_id() const { return owner_id_; }

 private:
  friend bool authorize_account(const ApiSettings& settings, const std::string& credential,
                                const std::string& account_id, ApiGrant* grant, ApiError* err);
  std::string account_id_;
  std::string stored_key_;     // a presented stored key: looked up by its hash
  std::string stored_key_id_;  // the stored key a presented token was minted from
  std::string user_login_;     // the user a presented token was minted for
  std::string owner_id_;       // that user's owner_id, from the token
};

// Loop thread. The request's credential: X-Auth-Token, else Authorization:
// Bearer, else ?auth_token=; "" when there is none.
std::string request_credential(evhttp_request* req, const ApiParams& params);

// Loop thread. True with *grant when `credential` may read `account_id` as
// far as can be told without the database; else false with *err (401 no,
// bad, expired or withdrawn credential, 403 another account).
bool authorize_account(const ApiSettings& settings, const std::string& credential, const std::string& account_id,
                       ApiGrant* grant, ApiError* err);

// Loop thread. The accounts `credential` may read as far as can be told
// without the database: a configured key's, or those of a token that
// verifies at `now_unix`. nullopt for a stored key (its accounts are in the
// database) and for anything cdrd does not accept (authorize_account() says
// why). For the dialects whose paths name no account.
std::optional<std::vector<std::string>> credential_accounts(const ApiSettings& settings, const std::string& credential,
                                                            int64_t now_unix);

// Unix seconds now (what token expiry is compared with).
int64_t unix_now();

}  // namespace cdrd
