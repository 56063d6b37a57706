#include "daemon/auth/base64url.h"

#include <openssl/evp.h>

namespace cdrd {

std::string base64url_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

bool base64url_decode(const std::string& text, std::string* bytes) {
  std::string b64 = text;
  for (char& c : b64) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  const size_t pad = (4 - b64.size() % 4) % 4;
  if (pad == 3) return false;
  b64.append(pad, '=');
  std::string out(b64.size() / 4 * 3, '\0');
  // EVP_DecodeBlock counts the padding as zero bytes: drop them.
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) return false;
  out.resize(static_cast<size_t>(n) - pad);
  // The last character may carry bits that decoding drops; a second spelling
  // of the same bytes is refused.
  if (base64url_encode(out) != text) return false;
  *bytes = std::move(out);
  return true;
}

}  // namespace cdrd
