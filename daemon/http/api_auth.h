// ApiAuth: which accounts a read-API credential may see. Keys come from the
// configuration; the credential may arrive as X-Auth-Token, Authorization:
// Bearer, or ?auth_token=.
#pragma once

#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace cdrd {

class ApiAuth {
 public:
  explicit ApiAuth(std::vector<ApiKey> keys) : keys_(std::move(keys)) {}

  // The key matching `token` (compared in constant time per key), or nullptr.
  const ApiKey* find(const std::string& token) const;
  static bool allows(const ApiKey& key, const std::string& account_id);

 private:
  std::vector<ApiKey> keys_;
};

}  // namespace cdrd
