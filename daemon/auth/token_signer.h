// Auth tokens: what PUT /v2/api_auth hands out for an API key (and the
// login routes for an API user), accepted wherever a key is. A token is
// base64url(payload JSON) "." base64url(MAC), the MAC being HMAC-SHA256
// (OpenSSL) of the first part under the token key. The payload names the
// accounts, the expiry and what the token was minted from (a stored key, a
// configured key or a user), so that revoking that key or user (or removing
// the key from api.keys) voids its tokens too.
//
// Payload: {"acc":[...],"exp":N} plus exactly one of "kid" (stored key),
// "cfg" (configured key) or "usr" (user login), and "own" (the user's
// owner_id) only beside "usr". Tokens minted before users existed carry
// "kid" or "cfg" and verify unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cdrd {

struct TokenClaims {
  std::vector<std::string> accounts;  // what the key could read when the token was minted
  int64_t expires_at = 0;             // Unix seconds; refused from then on
  // Exactly one is set: the key_id of a key in the api_keys table,
  // config_key_digest() of a key in api.keys, or the login of a user in the
  // api_users table.
  std::string stored_key_id;
  std::string config_key_digest;
  std::string user_login;
  // The Kazoo user id a user token reads as (`cdrd user create --owner-id`);
  // "" when none. Only with user_login.
  std::string owner_id;

  bool allows(const std::string& account_id) const;  // "*" = every account
};

enum class TokenStatus {
  kValid,
  kMalformed,     // not two base64url parts, or a payload we did not write
  kBadSignature,  // the MAC does not match: tampered, or signed with another key
  kExpired,
};

class TokenSigner {
 public:
  // `key`: the HMAC key (bytes), not empty.
  explicit TokenSigner(std::string key);

  // std::invalid_argument when not exactly one origin is set, or owner_id
  // without user_login: such a token could never verify.
  std::string sign(const TokenClaims& claims) const;
  // kValid with *claims filled, or why the token is refused. `now_unix`:
  // the current time in Unix seconds. Thread-safe.
  TokenStatus verify(const std::string& token, int64_t now_unix, TokenClaims* claims) const;

 private:
  std::string mac(const std::string& signed_part) const;

  std::string key_;
};

// A short, non-reversible name of a key from api.keys for the token payload
// (base64url of the first 12 bytes of its SHA-256): the token must not carry
// the key, yet must stop working when that key is removed.
std::string config_key_digest(const std::string& key);

}  // namespace cdrd
