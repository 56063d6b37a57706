#include "daemon/auth/token_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <stdexcept>

#include "daemon/auth/base64url.h"

namespace cdrd {
namespace {

constexpr size_t kMacBytes = 32;         // SHA-256
constexpr size_t kMaxTokenBytes = 8192;  // far above any token we write; bounds the work for garbage

std::string payload_json(const TokenClaims& claims) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("acc");
  w.StartArray();
  for (const auto& account : claims.accounts) w.String(account);
  w.EndArray();
  w.Key("exp");
  w.Int64(claims.expires_at);
  if (!claims.stored_key_id.empty()) {
    w.Key("kid");
    w.String(claims.stored_key_id);
  } else if (!claims.config_key_digest.empty()) {
    w.Key("cfg");
    w.String(claims.config_key_digest);
  } else {
    w.Key("usr");
    w.String(claims.user_login);
    if (!claims.owner_id.empty()) {
      w.Key("own");
      w.String(claims.owner_id);
    }
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

bool parse_payload(const std::string& json, TokenClaims* claims) {
  if (json.find('\0') != std::string::npos) return false;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  const auto acc = doc.FindMember("acc");
  const auto exp = doc.FindMember("exp");
  if (acc == doc.MemberEnd() || !acc->value.IsArray() || acc->value.Empty()) return false;
  if (exp == doc.MemberEnd() || !exp->value.IsInt64()) return false;
  TokenClaims out;
  for (const auto& account : acc->value.GetArray()) {
    if (!account.IsString()) return false;
    out.accounts.emplace_back(account.GetString(), account.GetStringLength());
  }
  out.expires_at = exp->value.GetInt64();
  // Each origin member, when present, must be a non-empty string; exactly
  // one must be present, and "own" only beside "usr".
  const auto origin = [&doc](const char* name, std::string* value) {
    const auto m = doc.FindMember(name);
    if (m == doc.MemberEnd()) return 0;
    if (!m->value.IsString() || m->value.GetStringLength() == 0) return -1;
    value->assign(m->value.GetString(), m->value.GetStringLength());
    return 1;
  };
  const int kid = origin("kid", &out.stored_key_id);
  const int cfg = origin("cfg", &out.config_key_digest);
  const int usr = origin("usr", &out.user_login);
  const int own = origin("own", &out.owner_id);
  if (kid < 0 || cfg < 0 || usr < 0 || own < 0 || kid + cfg + usr != 1) return false;
  if (own == 1 && usr != 1) return false;
  *claims = std::move(out);
  return true;
}

}  // namespace

bool TokenClaims::allows(const std::string& account_id) const {
  return std::any_of(accounts.begin(), accounts.end(),
                     [&](const std::string& a) { return a == "*" || a == account_id; });
}

TokenSigner::TokenSigner(std::string key) : key_(std::move(key)) {
  if (key_.empty()) throw std::invalid_argument("the token key must not be empty");
}

std::string TokenSigner::mac(const std::string& signed_part) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), out, &n)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string TokenSigner::sign(const TokenClaims& claims) const {
  const int origins = static_cast<int>(!claims.stored_key_id.empty()) +
                      static_cast<int>(!claims.config_key_digest.empty()) +
                      static_cast<int>(!claims.user_login.empty());
  if (origins != 1) {
    throw std::invalid_argument(
        "token claims: exactly one of stored_key_id, config_key_digest and user_login must be set");
  }
  if (!claims.owner_id.empty() && claims.user_login.empty()) {
    throw std::invalid_argument("token claims: owner_id is only for a user_login token");
  }
  const std::string payload = base64url_encode(payload_json(claims));
  return payload + "." + base64url_encode(mac(payload));
}

TokenStatus TokenSigner::verify(const std::string& token, int64_t now_unix, TokenClaims* claims) const {
  if (token.size() > kMaxTokenBytes) return TokenStatus::kMalformed;
  const size_t dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || token.find('.', dot + 1) != std::string::npos) {
    return TokenStatus::kMalformed;
  }
  const std::string payload = token.substr(0, dot);
  std::string payload_bytes;
  std::string given_mac;
  if (!base64url_decode(payload, &payload_bytes) || !base64url_decode(token.substr(dot + 1), &given_mac) ||
      given_mac.size() != kMacBytes) {
    return TokenStatus::kMalformed;
  }
  // Constant time: a byte-by-byte compare that stops early would let a
  // client find the MAC one byte at a time.
  const std::string expected = mac(payload);
  if (CRYPTO_memcmp(expected.data(), given_mac.data(), kMacBytes) != 0) return TokenStatus::kBadSignature;
  TokenClaims parsed;
  if (!parse_payload(payload_bytes, &parsed)) return TokenStatus::kMalformed;
  if (now_unix >= parsed.expires_at) return TokenStatus::kExpired;
  *claims = std::move(parsed);
  return TokenStatus::kValid;
}

std::string config_key_digest(const std::string& key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(key.data(), key.size(), digest, &n, EVP_sha256(), nullptr)) {
    throw std::runtime_error("SHA-256 failed");
  }
  return base64url_encode(std::string(reinterpret_cast<const char*>(digest), 12));
}

}  // namespace cdrd
