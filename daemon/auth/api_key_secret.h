// API keys kept in the database (`cdrd api-key create`): the key is
// "cdrd_<key_id>_<secret>", key_id being 16 hex digits (public: it names the
// key in `cdrd api-key list` and `revoke`) and secret base64url of 32 random
// bytes (OpenSSL RAND_bytes). Only a hash of the whole key is stored.
#pragma once

#include <string>

namespace cdrd {

struct GeneratedApiKey {
  std::string key_id;
  std::string key;  // shown once, never stored
};

// Throws std::runtime_error when the random generator fails.
GeneratedApiKey generate_api_key();

// True with *key_id when `key` has the form above; false for anything else
// (a key from api.keys, a token, garbage).
bool parse_api_key(const std::string& key, std::string* key_id);

// True for a well-formed key_id (16 lower-case hex digits).
bool is_api_key_id(const std::string& key_id);

// SHA-256 of the whole key (32 bytes). A fast hash is right here, unlike for
// passwords: the key holds 256 random bits, so there is nothing to guess
// from the hash, and a slow hash would only slow every request down.
std::string api_key_hash(const std::string& key);

// Lower-case hex of `bytes`.
std::string to_hex(const std::string& bytes);

}  // namespace cdrd
