#include "daemon/http/api_auth.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace cdrd {

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

bool ApiAuth::allows(const ApiKey& key, const std::string& account_id) {
  return std::any_of(key.accounts.begin(), key.accounts.end(),
                     [&](const std::string& a) { return a == "*" || a == account_id; });
}

}  // namespace cdrd
