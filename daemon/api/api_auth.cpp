#include "daemon/api/api_auth.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "daemon/auth/token_signer.h"

namespace cdrd {

ApiAuth::ApiAuth(std::vector<ApiKey> keys) : keys_(std::move(keys)) {
  digests_.reserve(keys_.size());
  for (const auto& key : keys_) digests_.push_back(config_key_digest(key.key));
}

const ApiKey* ApiAuth::find(const std::string& token) const {
  if (token.empty()) return nullptr;
  const ApiKey* found = nullptr;
  for (const auto& key : keys_) {
    // Length is not secret; the bytes are compared without early exit.
    if (key.key.size() == token.size() && CRYPTO_memcmp(key.key.data(), token.data(), token.size()) == 0) {
      found = &key;
    }
  }
  return found;
}

const ApiKey* ApiAuth::find_by_digest(const std::string& digest) const {
  // The digest comes from a token whose MAC was already checked, so it is
  // not a guess: a plain compare is enough.
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (digests_[i] == digest) return &keys_[i];
  }
  return nullptr;
}

bool ApiAuth::allows(const ApiKey& key, const std::string& account_id) {
  return std::any_of(key.accounts.begin(), key.accounts.end(),
                     [&](const std::string& a) { return a == "*" || a == account_id; });
}

}  // namespace cdrd
