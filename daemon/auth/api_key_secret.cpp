#include "daemon/auth/api_key_secret.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "daemon/auth/base64url.h"

namespace cdrd {
namespace {

constexpr char kPrefix[] = "cdrd_";
constexpr size_t kPrefixLength = sizeof(kPrefix) - 1;
constexpr size_t kKeyIdBytes = 8;
constexpr size_t kSecretBytes = 32;

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("the random generator (RAND_bytes) failed");
  }
  return out;
}

}  // namespace

std::string to_hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

GeneratedApiKey generate_api_key() {
  GeneratedApiKey out;
  out.key_id = to_hex(random_bytes(kKeyIdBytes));
  out.key = kPrefix + out.key_id + "_" + base64url_encode(random_bytes(kSecretBytes));
  return out;
}

bool is_api_key_id(const std::string& key_id) {
  if (key_id.size() != 2 * kKeyIdBytes) return false;
  for (const char c : key_id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool parse_api_key(const std::string& key, std::string* key_id) {
  if (key.compare(0, kPrefixLength, kPrefix) != 0) return false;
  const size_t id_end = kPrefixLength + 2 * kKeyIdBytes;
  if (key.size() <= id_end || key[id_end] != '_') return false;
  const std::string id = key.substr(kPrefixLength, 2 * kKeyIdBytes);
  std::string secret;
  if (!is_api_key_id(id) || !base64url_decode(key.substr(id_end + 1), &secret) || secret.size() != kSecretBytes) {
    return false;
  }
  *key_id = id;
  return true;
}

std::string api_key_hash(const std::string& key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(key.data(), key.size(), digest, &n, EVP_sha256(), nullptr)) {
    throw std::runtime_error("SHA-256 failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), n);
}

}  // namespace cdrd
