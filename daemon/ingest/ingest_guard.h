// Who may use the ingest routes (/ingest/...): an optional CIDR allow-list on
// the TCP peer's address and optional HTTP basic auth (ingest.allow_from,
// ingest.basic_auth). Pure functions plus a small immutable class, built once
// per configuration and swapped whole with the HttpSettings on SIGHUP.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cdrd {

// An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// stored as the IPv4 address, so a dual-stack listener's peers compare
// against IPv4 CIDRs as operators expect.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4

  size_t size() const { return v6 ? 16 : 4; }
};

// "192.0.2.7", "2001:db8::1", "::ffff:127.0.0.1" (-> IPv4). Brackets and
// zone ids are refused. False when `text` is not a numeric address.
bool parse_ip_address(std::string_view text, IpAddress* out);

// A network: an address with the low bits past `prefix_len` ignored.
struct CidrBlock {
  IpAddress network;
  int prefix_len = 0;  // 0..32 for IPv4, 0..128 for IPv6
};

// "10.0.0.0/8", "2001:db8::/32", or a plain address (= /32 or /128). Host
// bits set under the prefix (10.1.2.3/8) are accepted and ignored, as
// iptables does. False with *why when `text` is not one of these.
bool parse_cidr(std::string_view text, CidrBlock* out, std::string* why);

bool cidr_contains(const CidrBlock& block, const IpAddress& address);

// The credentials of an `Authorization: Basic base64(user:password)` header
// value (RFC 7617: the scheme name is case-insensitive). False with *why
// (another scheme, bad base64, no colon) otherwise.
bool parse_basic_auth(std::string_view header_value, std::string* user, std::string* password, std::string* why);

class IngestGuard {
 public:
  // Unchecked entries: use make() to learn about bad ones.
  IngestGuard() = default;

  // False with *error naming the entry ("ingest.allow_from[2]: ...") when an
  // allow_from entry is not an address or CIDR.
  static bool make(const std::map<std::string, std::string>& basic_auth, const std::vector<std::string>& allow_from,
                   IngestGuard* out, std::string* error);

  // Why a request is refused; status 0 = allowed.
  struct Verdict {
    int status = 0;       // 0, 401 or 403
    std::string code;     // "unauthorized", "forbidden"
    std::string message;  // for the JSON error body
    std::string reason;   // metric label: "auth" or "address"
  };
  // `peer`: the TCP peer's address as evhttp reports it (numeric, no port);
  // `authorization`: the Authorization header, "" when absent. The address is
  // checked first, so a refused network learns nothing about the credentials.
  Verdict check(std::string_view peer, std::string_view authorization) const;

  bool needs_auth() const { return !users_.empty(); }
  bool limits_addresses() const { return !allowed_.empty(); }

 private:
  // user -> SHA-256 of the password: comparing digests with CRYPTO_memcmp
  // takes the same time whatever the presented password's length.
  std::map<std::string, std::string> users_;
  std::vector<CidrBlock> allowed_;
};

// The HTTP realm of the 401's WWW-Authenticate header.
inline constexpr const char* kIngestAuthChallenge = "Basic realm=\"cdrd ingest\"";

}  // namespace cdrd
