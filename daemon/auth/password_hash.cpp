#include "daemon/auth/password_hash.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace cdrd {
namespace {

constexpr size_t kMd5Bytes = 16;
constexpr size_t kCredentialsChars = 2 * kMd5Bytes;

// Argon2id at t=2 passes over 32 MiB. Measured on the 2-core build machine
// (AMD EPYC, shared): median 80 ms per hash (the same for a verify, which
// recomputes it), against 160 ms for libsodium's INTERACTIVE preset (t=2,
// 64 MiB), 98 ms for t=1 / 46 MiB and 52 ms for t=3 / 19 MiB (OWASP's
// minimum is 19 MiB, t=2). A login is answered within ~100 ms, an attacker
// with a stolen table pays 32 MiB of memory-hard work per guess, and a
// handful of logins at once stays far from the memory cdrd runs in. The
// parameters are stored in each hash string: changing them here affects new
// users only, old hashes verify with their own.
constexpr unsigned long long kOpsLimit = 2;
constexpr size_t kMemLimit = size_t{32} << 20;
static_assert(kOpsLimit >= crypto_pwhash_OPSLIMIT_MIN && kMemLimit >= crypto_pwhash_MEMLIMIT_MIN,
              "Argon2id parameters below libsodium's minimum");

// sodium_init() once per process; the function-local static makes the
// first call thread-safe, later calls only read the flag.
void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw std::runtime_error("libsodium could not be initialized");
}

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string kazoo_credentials(const std::string& login, const std::string& password) {
  const std::string joined = login + ":" + password;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(joined.data(), joined.size(), digest, &n, EVP_md5(), nullptr) || n != kMd5Bytes) {
    throw std::runtime_error("MD5 failed");
  }
  ensure_sodium();
  char hex[kCredentialsChars + 1];
  sodium_bin2hex(hex, sizeof hex, digest, n);  // lower-case
  return std::string(hex, kCredentialsChars);
}

bool is_kazoo_credentials(const std::string& credentials) {
  return credentials.size() == kCredentialsChars &&
         std::all_of(credentials.begin(), credentials.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string hash_user_secret(const std::string& credentials) {
  if (!is_kazoo_credentials(credentials)) {
    throw std::invalid_argument("credentials: expected md5 hex of \"login:password\" (32 hex digits)");
  }
  ensure_sodium();
  const std::string secret = lower_ascii(credentials);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, secret.data(), secret.size(), kOpsLimit, kMemLimit, crypto_pwhash_ALG_ARGON2ID13) !=
      0) {
    throw std::runtime_error("Argon2id hashing failed (out of memory?)");
  }
  return out;
}

bool verify_user_secret(const std::string& stored_hash, const std::string& credentials) {
  // Garbage costs nothing: only a secret of the right shape is worth an
  // Argon2id run.
  if (!is_kazoo_credentials(credentials)) return false;
  ensure_sodium();
  // libsodium declares the hash as char[crypto_pwhash_STRBYTES]: give it
  // one, NUL-padded, so nothing can be read past a shorter string.
  char padded[crypto_pwhash_STRBYTES] = {};
  if (stored_hash.size() >= sizeof padded) return false;
  stored_hash.copy(padded, stored_hash.size());
  const std::string secret = lower_ascii(credentials);
  return crypto_pwhash_str_verify(padded, secret.data(), secret.size()) == 0;
}

std::string user_login_problem(const std::string& login) {
  if (login.empty()) return "the login must not be empty";
  if (login.find(':') != std::string::npos) {
    return "the login \"" + login + "\" must not contain ':' (Kazoo's credentials are md5 of \"login:password\")";
  }
  if (std::any_of(login.begin(), login.end(), [](unsigned char c) { return std::iscntrl(c) != 0; })) {
    return "the login \"" + login + "\" must not contain control characters";
  }
  return "";
}

}  // namespace cdrd
