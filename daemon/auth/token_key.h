// The HMAC key that signs auth tokens: api.token_secret when it is set, else
// 32 random bytes (OpenSSL RAND_bytes) kept in state_dir/api_token.key,
// made with mode 0600 on the first start and read on every later one, so
// tokens outlive a restart.
#pragma once

#include <string>

namespace cdrd {

// True with *key; false with *error naming the key or the file. A
// configured secret must be at least 16 bytes; the file must hold exactly
// 32 bytes and be readable by its owner only.
bool load_token_key(const std::string& configured_secret, const std::string& key_path, std::string* key,
                    std::string* error);

}  // namespace cdrd
