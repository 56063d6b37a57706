// How media servers encode a CDR into a POST body, for the decoding tests:
// curl_easy_escape / switch_url_encode (every byte but unreserved ones as
// %XX) and base64, done with libevent and OpenSSL as the senders do.
#pragma once

#include <event2/http.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <string>

namespace cdrd::test {

// With space_to_plus, an HTML form's '+' for a space.
inline std::string url_encode(const std::string& text, bool space_to_plus = false) {
  char* encoded = evhttp_uriencode(text.data(), static_cast<ev_ssize_t>(text.size()), space_to_plus ? 1 : 0);
  std::string out(encoded);
  std::free(encoded);
  return out;
}

inline std::string base64_encode(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace cdrd::test
