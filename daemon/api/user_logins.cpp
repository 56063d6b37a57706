#include "daemon/api/user_logins.h"

#include "daemon/api/api_access.h"
#include "daemon/api/api_settings.h"
#include "daemon/auth/password_hash.h"
#include "daemon/auth/token_signer.h"

namespace cdrd {
namespace {

// Argon2id of a login that does not exist, so that an unknown login costs
// what a wrong password costs (no timing answer to "does it exist").
const std::string& decoy_hash() {
  static const std::string hash = hash_user_secret(kazoo_credentials("cdrd-no-such-user", "no-such-password"));
  return hash;
}

}  // namespace

int64_t UserLogins::admit(const std::string& address) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return limiter_.admit(address, LoginLimiter::Clock::now());
}

void UserLogins::succeeded(const std::string& address) {
  const std::lock_guard<std::mutex> lock(mutex_);
  limiter_.succeeded(address);
}

std::optional<StoredUser> UserLogins::check_password(pqxx::connection& conn, const std::string& address,
                                                     const std::string& login, const std::string& password) {
  std::optional<StoredUser> user = find_api_user(conn, login);
  // Checked whether or not the user exists (or is revoked): the answer
  // takes as long either way and says the same.
  const bool good = verify_user_secret(user ? user->secret_hash : decoy_hash(), kazoo_credentials(login, password));
  if (!user || user->revoked() || !good) return std::nullopt;
  succeeded(address);
  return user;
}

std::optional<StoredUser> UserLogins::check_credentials(const std::vector<StoredUser>& candidates,
                                                        const std::string& address, const std::string& credentials) {
  for (const StoredUser& user : candidates) {
    if (user.revoked() || !verify_user_secret(user.secret_hash, credentials)) continue;
    succeeded(address);
    return user;
  }
  return std::nullopt;
}

std::string too_many_logins_message(const std::string& address, int64_t wait_s) {
  return "too many failed logins from " + address + "; retry in " + std::to_string(wait_s) + " s";
}

std::string user_token(const ApiSettings& settings, const StoredUser& user) {
  TokenClaims claims;
  claims.accounts = user.accounts;
  claims.user_login = user.login;
  claims.owner_id = user.owner_id;
  claims.expires_at = unix_now() + settings.token_ttl_s;
  return settings.tokens->sign(claims);
}

}  // namespace cdrd
