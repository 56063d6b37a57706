// ApiAuth: the read-API keys from the configuration (api.keys) and which
// accounts each may see. The credential may arrive as X-Auth-Token,
// Authorization: Bearer, or ?auth_token=.
#pragma once

#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace cdrd {

class ApiAuth {
 public:
  explicit ApiAuth(std::vector<ApiKey> keys);

  // The key matching `token` (compared in constant time per key), or nullptr.
  const ApiKey* find(const std::string& token) const;
  // The key whose config_key_digest() is `digest` (what a token minted from
  // it names), or nullptr once that key is gone from the configuration.
  const ApiKey* find_by_digest(const std::string& digest) const;
  static bool allows(const ApiKey& key, const std::string& account_id);

 private:
  std::vector<ApiKey> keys_;
  std::vector<std::string> digests_;  // config_key_digest() of keys_[i]
};

}  // namespace cdrd
