// Secrets of API users (the api_users table, `cdrd user`). Kazoo's
// PUT /v2/user_auth sends only md5hex("login:password") ("credentials"),
// the password logins of the other dialects send the login and the
// password. So the secret cdrd keeps a hash of is that md5 in lower-case
// hex: the password logins compute it with kazoo_credentials(), Kazoo's
// clients send it, and both verify against the one stored hash. The md5
// itself is no protection (it is what a Kazoo client presents); the stored
// hash is Argon2id (libsodium's crypto_pwhash_str), salted and slow, so a
// copy of the table does not give the credentials away.
#pragma once

#include <string>

namespace cdrd {

// md5hex(login ":" password), 32 lower-case hex digits (OpenSSL's MD5):
// what Kazoo's user_auth calls "credentials".
std::string kazoo_credentials(const std::string& login, const std::string& password);

// True for 32 hex digits (either case): the shape of credentials. A
// verify of anything else is refused before Argon2id runs.
bool is_kazoo_credentials(const std::string& credentials);

// The Argon2id hash string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") of
// `credentials`, with a random salt. std::invalid_argument when
// `credentials` is not is_kazoo_credentials() (so a plain password is never
// stored by mistake); std::runtime_error when libsodium fails (e.g. out of
// memory). Upper-case hex is hashed as lower-case. Thread-safe.
std::string hash_user_secret(const std::string& credentials);

// True when `credentials` (either case) is what `stored_hash` was made
// from; false for another secret, a malformed stored hash and credentials
// of the wrong shape. Constant time in the secret (libsodium). Costs what
// the stored hash's parameters say (hash_user_secret(): ~80 ms, 32 MiB).
// Thread-safe.
bool verify_user_secret(const std::string& stored_hash, const std::string& credentials);

// "" for a login `cdrd user create` accepts, else why not (naming the
// login): empty, or holding ':' (md5 of "login:password" would be
// ambiguous), or a control character.
std::string user_login_problem(const std::string& login);

}  // namespace cdrd
