// The read API's part of the configuration, swapped whole on reload (SIGHUP):
// a request keeps the settings it started with.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/api/api_auth.h"
#include "daemon/config/config.h"

namespace cdrd {

class TokenSigner;

struct ApiSettings {
  ApiAuth auth{{}};
  // Auth tokens (PUT /v2/api_auth and the dialects' logins): their signer,
  // null when no token key was given (then tokens are neither issued nor
  // accepted), and their lifetime.
  std::shared_ptr<const TokenSigner> tokens;
  int token_ttl_s = 3600;
  int max_exports = 2;  // streamed reads (paginate=false, CSV, NDJSON) at once; more get 429
  // api.cors_origins: the browsers' origins answered with CORS headers.
  std::vector<std::string> cors_origins;
  // api.max_window_s: the longest (and the default) list window.
  int64_t max_window_s = 2682000;
};
// `token_key`: the HMAC key of auth tokens (daemon/auth/token_key.h).
std::shared_ptr<const ApiSettings> make_api_settings(const Config& config, const std::string& token_key = "");

}  // namespace cdrd
