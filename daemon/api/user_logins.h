// The login routes' shared part (Kazoo's user_auth, the PBX's and the
// switch's logins): failed attempts limited per client address, the
// password check, and the token a user gets.
//
// Threads: admit() runs on the loop thread before a login is queued; the
// Argon2id check (about 80 ms) runs on a read-pool thread, which clears the
// address when the login succeeds. The limiter is shared by both under a
// mutex held only for the map update.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include <pqxx/connection>

#include "daemon/auth/login_limiter.h"
#include "daemon/db/user_store.h"

namespace cdrd {

struct ApiSettings;

class UserLogins {
 public:
  // Loop thread. 0 when a login from `address` may be tried; else the
  // seconds to wait (the caller answers 429 with Retry-After).
  int64_t admit(const std::string& address);
  // Read-pool thread. The active user whose login and password these are,
  // else nullopt. An unknown login is checked against a decoy hash, so it
  // takes as long as a wrong password. Success clears the address.
  std::optional<StoredUser> check_password(pqxx::connection& conn, const std::string& address, const std::string& login,
                                           const std::string& password);
  // Read-pool thread. The first of `candidates` whose secret matches
  // Kazoo's md5 `credentials` (success clears the address), else nullopt.
  std::optional<StoredUser> check_credentials(const std::vector<StoredUser>& candidates, const std::string& address,
                                              const std::string& credentials);

 private:
  void succeeded(const std::string& address);

  std::mutex mutex_;
  LoginLimiter limiter_;
};

// "too many failed logins from ADDRESS; retry in N s".
std::string too_many_logins_message(const std::string& address, int64_t wait_s);

// A token for `user`: its accounts, login and owner, valid for
// settings.tokens's api.token_ttl_s (settings.tokens must be set).
std::string user_token(const ApiSettings& settings, const StoredUser& user);

}  // namespace cdrd
