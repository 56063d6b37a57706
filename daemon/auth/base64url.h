// base64url without padding (RFC 4648 section 5), as auth tokens and stored
// API keys carry it in URLs and headers. OpenSSL does the encoding.
#pragma once

#include <string>

namespace cdrd {

std::string base64url_encode(const std::string& bytes);

// False unless `text` is exactly what base64url_encode() gives for some
// bytes: other characters, padding, a bad length, or unused low bits that are
// not zero (so a token has one spelling only) are refused.
bool base64url_decode(const std::string& text, std::string* bytes);

}  // namespace cdrd
