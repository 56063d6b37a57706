#include "daemon/config/config_env.h"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/config/config_keys.h"
#include "daemon/config/config_values.h"

extern char** environ;

namespace cdrd {

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

namespace config_internal {
namespace {

constexpr std::string_view kPrefix = "CDRD_";
constexpr std::string_view kApiKeyVariable = "CDRD_API_KEY";

bool add_api_key(const std::string& secret, Config* config, std::string* error) {
  const std::string where = fmt::format("environment {}", kApiKeyVariable);
  if (secret.empty()) {
    *error = where + ": must not be empty";
    return false;
  }
  for (const ApiKey& k : config->api_keys) {
    if (k.key == secret) {
      *error = where + ": the same key is already in api.keys";
      return false;
    }
  }
  config->api_keys.push_back(ApiKey{secret, {"*"}});
  return true;
}

}  // namespace

bool apply_environment(const std::vector<std::string>& environment, Config* config, ValueOrigins* origins,
                       std::string* error) {
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const std::string& entry : environment) {
    if (entry.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    overrides.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  // Sorted, so that with several bad variables the one reported does not
  // depend on the order of the process environment.
  std::stable_sort(overrides.begin(), overrides.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [name, value] : overrides) {
    if (name == kApiKeyVariable) {
      if (!add_api_key(value, config, error)) return false;
      continue;
    }
    const Key<Config>* key = nullptr;
    for (const Key<Config>& k : config_keys()) {
      if (k.scalar() && environment_name(k.path) == name) key = &k;
    }
    if (!key) {
      *error = fmt::format("environment {}: no such configuration key", name);
      return false;
    }
    const std::string problem = set_scalar(*key, value, config);
    if (!problem.empty()) {
      *error = fmt::format("environment {}: {}", name, problem);
      return false;
    }
    (*origins)[std::string(key->path)] = "environment " + name;
  }
  return true;
}

}  // namespace config_internal
}  // namespace cdrd
