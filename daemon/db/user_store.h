// The api_users table (schema/008_api_users.sql): the users of the read
// API's login routes, made and revoked by `cdrd user`, looked up by the
// routes. Free functions over a pqxx::connection, as api_key_store.h, so the
// CLI (its own connection) and the read-pool threads share them. Every
// value is a bind parameter. The store keeps the secret's hash only
// (daemon/auth/password_hash.h makes and checks it); it never sees a
// password. Database failures are thrown as pqxx exceptions.
#pragma once

#include <cstddef>
#include <optional>
#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <vector>

namespace cdrd {

struct StoredUser {
  std::string login;
  std::string secret_hash;            // hash_user_secret() of the credentials
  std::vector<std::string> accounts;  // "*" = every account
  std::string owner_id;               // "" when none was given
  std::string created_at;             // ISO-8601 UTC
  std::string revoked_at;             // ISO-8601 UTC; "" while the user may log in

  bool revoked() const { return !revoked_at.empty(); }
  bool allows(const std::string& account_id) const;
};

// What the table says no to, naming the login: it exists already, it is
// unknown, it is already revoked.
class ApiUserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Stores a new user and returns it as stored. std::invalid_argument (naming
// the field) for a login user_login_problem() refuses, no account or an
// empty one, or a secret_hash that is not an Argon2id hash string;
// ApiUserError when the login exists (revoked or not: a login is never
// reused, so a token minted for the old user cannot pass for the new one).
StoredUser create_api_user(pqxx::connection& conn, const std::string& login, const std::string& secret_hash,
                           const std::vector<std::string>& accounts, const std::string& owner_id);

// The user with this login (revoked ones too: the caller says why it
// refuses), or nullopt. One lookup through the primary key, as a prepared
// statement (the login routes run it on read-pool connections).
std::optional<StoredUser> find_api_user(pqxx::connection& conn, const std::string& login);

// The users that are not revoked and may read `account_id` (listed, or
// "*"), by login, at most `limit`. For Kazoo's user_auth, which names an
// account and sends md5("login:password") but no login: the candidates to
// verify the credentials against, each an Argon2id run, hence the limit.
std::vector<StoredUser> active_api_users_for_account(pqxx::connection& conn, const std::string& account_id,
                                                     size_t limit);

// Sets revoked_at. ApiUserError naming the login when it is unknown or
// already revoked.
void revoke_api_user(pqxx::connection& conn, const std::string& login);

// Every user, oldest first.
std::vector<StoredUser> list_api_users(pqxx::connection& conn);

}  // namespace cdrd
