#include "daemon/ingest/ingest_guard.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace cdrd {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2).
bool is_v4_mapped(const std::array<uint8_t, 16>& b) {
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

void unmap_v4(IpAddress* a) {
  a->v6 = false;
  for (int i = 0; i < 4; ++i) a->bytes[i] = a->bytes[12 + i];
  for (int i = 4; i < 16; ++i) a->bytes[i] = 0;
}

// inet_pton only: no host names, no brackets, no zone ids.
bool parse_numeric(std::string_view text, IpAddress* out) {
  if (text.empty() || text.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  const std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return false;
  } else {
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return false;
    a.v6 = true;
  }
  *out = a;
  return true;
}

std::string sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(digest), len);
}

// Strict standard base64 (RFC 4648 section 4, with padding), as browsers,
// curl and FreeSWITCH's libcurl send it.
bool base64_decode_strict(std::string_view text, std::string* out) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 8192) return false;
  size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text[text.size() - 2] == '=') ++padding;
  // '=' is only allowed as padding at the end (EVP_DecodeBlock stops at the
  // first one elsewhere without saying so).
  if (text.find('=') < text.size() - padding) return false;
  out->resize(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) < padding) return false;
  // EVP_DecodeBlock counts the zero bytes that the padding stands for.
  out->resize(static_cast<size_t>(n) - padding);
  return true;
}

}  // namespace

bool parse_ip_address(std::string_view text, IpAddress* out) {
  IpAddress a;
  if (!parse_numeric(text, &a)) return false;
  if (a.v6 && is_v4_mapped(a.bytes)) unmap_v4(&a);
  *out = a;
  return true;
}

bool parse_cidr(std::string_view text, CidrBlock* out, std::string* why) {
  const size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  IpAddress a;
  if (!parse_numeric(address, &a)) {
    *why = "'" + std::string(text) + "' is not an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)";
    return false;
  }
  const int max_len = a.v6 ? 128 : 32;
  int prefix_len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (!all_digits(digits) || digits.size() > 3 || std::stoi(std::string(digits)) > max_len) {
      *why = "'" + std::string(text) + "': the prefix length must be 0.." + std::to_string(max_len);
      return false;
    }
    prefix_len = std::stoi(std::string(digits));
  }
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8: peers are compared unmapped.
  if (a.v6 && is_v4_mapped(a.bytes) && prefix_len >= 96) {
    unmap_v4(&a);
    prefix_len -= 96;
  }
  out->network = a;
  out->prefix_len = prefix_len;
  return true;
}

bool cidr_contains(const CidrBlock& block, const IpAddress& address) {
  if (block.network.v6 != address.v6) return false;
  const int full_bytes = block.prefix_len / 8;
  for (int i = 0; i < full_bytes; ++i) {
    if (block.network.bytes[i] != address.bytes[i]) return false;
  }
  const int rest = block.prefix_len % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (block.network.bytes[full_bytes] & mask) == (address.bytes[full_bytes] & mask);
}

bool parse_basic_auth(std::string_view header_value, std::string* user, std::string* password, std::string* why) {
  std::string_view v = header_value;
  const size_t space = v.find(' ');
  const std::string_view scheme = v.substr(0, space);
  if (scheme.size() != 5 || !std::equal(scheme.begin(), scheme.end(), "basic", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      })) {
    *why = "the Authorization header must use the Basic scheme";
    return false;
  }
  std::string_view token = space == std::string_view::npos ? std::string_view() : v.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  std::string decoded;
  if (!base64_decode_strict(token, &decoded)) {
    *why = "the Basic credentials are not valid base64";
    return false;
  }
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    *why = "the Basic credentials have no ':' between user and password";
    return false;
  }
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

bool IngestGuard::make(const std::map<std::string, std::string>& basic_auth, const std::vector<std::string>& allow_from,
                       IngestGuard* out, std::string* error) {
  IngestGuard guard;
  for (const auto& [user, password] : basic_auth) guard.users_[user] = sha256(password);
  for (size_t i = 0; i < allow_from.size(); ++i) {
    CidrBlock block;
    std::string why;
    if (!parse_cidr(allow_from[i], &block, &why)) {
      *error = "ingest.allow_from[" + std::to_string(i) + "]: " + why;
      return false;
    }
    guard.allowed_.push_back(block);
  }
  *out = std::move(guard);
  return true;
}

IngestGuard::Verdict IngestGuard::check(std::string_view peer, std::string_view authorization) const {
  Verdict v;
  if (!allowed_.empty()) {
    // A link-local peer may carry its zone ("fe80::1%eth0"): the zone is not
    // part of the address a CIDR names.
    IpAddress address;
    const bool known = parse_ip_address(peer.substr(0, peer.find('%')), &address);
    bool allowed = false;
    for (const CidrBlock& block : allowed_) {
      if (known && cidr_contains(block, address)) {
        allowed = true;
        break;
      }
    }
    if (!allowed) {
      v.status = 403;
      v.code = "forbidden";
      v.message = "address " + (peer.empty() ? std::string("(unknown)") : std::string(peer)) +
                  " may not post CDRs (ingest.allow_from)";
      v.reason = "address";
      return v;
    }
  }
  if (users_.empty()) return v;
  auto refuse = [&v](const std::string& message) {
    v.status = 401;
    v.code = "unauthorized";
    v.message = message;
    v.reason = "auth";
    return v;
  };
  if (authorization.empty()) return refuse("ingest needs HTTP basic auth (ingest.basic_auth)");
  std::string user, password, why;
  if (!parse_basic_auth(authorization, &user, &password, &why)) return refuse(why);
  const auto it = users_.find(user);
  // The same digest and compare for an unknown user, so that the answer's
  // time does not tell which user names exist.
  static const std::string kNoUser = sha256("");
  const std::string presented = sha256(password);
  const std::string& expected = it == users_.end() ? kNoUser : it->second;
  const bool match = presented.size() == expected.size() && !expected.empty() &&
                     CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
  if (it == users_.end() || !match) return refuse("the ingest user name or password is wrong");
  return v;
}

}  // namespace cdrd
