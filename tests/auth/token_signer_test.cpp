#include "daemon/auth/token_signer.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>
#include <string>

#include "daemon/auth/base64url.h"

namespace cdrd {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";
constexpr int64_t kNow = 1700000000;

TokenClaims stored_claims() {
  TokenClaims c;
  c.accounts = {"acct-a", "acct-b"};
  c.expires_at = kNow + 3600;
  c.stored_key_id = "0123456789abcdef";
  return c;
}

// An HMAC-SHA256 computed apart from TokenSigner (OpenSSL's EVP_MAC API).
std::string hmac_sha256(const std::string& key, const std::string& data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  unsigned char out[32];
  size_t n = 0;
  EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params);
  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  EVP_MAC_final(ctx, out, &n, sizeof out);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return std::string(reinterpret_cast<const char*>(out), n);
}

// A token over `json` as the payload, MAC'd apart from TokenSigner: what a
// signer of another version (earlier or later) would have handed out.
std::string token_over(const std::string& json) {
  const std::string payload = base64url_encode(json);
  return payload + "." + base64url_encode(hmac_sha256(kKey, payload));
}

// The JSON inside a token's payload part.
std::string payload_of(const std::string& token) {
  std::string json;
  EXPECT_TRUE(base64url_decode(token.substr(0, token.find('.')), &json)) << token;
  return json;
}

// Replaces one character of `s` at `pos` by another of the base64url alphabet.
std::string flip(std::string s, size_t pos) {
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  return s;
}

TEST(TokenSigner, SignedClaimsVerify) {
  const TokenSigner signer(kKey);
  const std::string token = signer.sign(stored_claims());
  TokenClaims out;
  ASSERT_EQ(signer.verify(token, kNow, &out), TokenStatus::kValid);
  EXPECT_EQ(out.accounts, (std::vector<std::string>{"acct-a", "acct-b"}));
  EXPECT_EQ(out.expires_at, kNow + 3600);
  EXPECT_EQ(out.stored_key_id, "0123456789abcdef");
  EXPECT_TRUE(out.config_key_digest.empty());
  EXPECT_TRUE(out.allows("acct-b"));
  EXPECT_FALSE(out.allows("acct-c"));
}

TEST(TokenSigner, ConfiguredKeyOriginRoundTrips) {
  const TokenSigner signer(kKey);
  TokenClaims claims;
  claims.accounts = {"*"};
  claims.expires_at = kNow + 60;
  claims.config_key_digest = config_key_digest("change-me");
  TokenClaims out;
  ASSERT_EQ(signer.verify(signer.sign(claims), kNow, &out), TokenStatus::kValid);
  EXPECT_EQ(out.config_key_digest, config_key_digest("change-me"));
  EXPECT_TRUE(out.stored_key_id.empty());
  EXPECT_TRUE(out.allows("anything"));
  // The digest names the key without carrying it.
  EXPECT_EQ(out.config_key_digest.find("change-me"), std::string::npos);
  EXPECT_NE(config_key_digest("change-me"), config_key_digest("change-me2"));
}

TEST(TokenSigner, ExpiresAtItsExpiry) {
  const TokenSigner signer(kKey);
  const std::string token = signer.sign(stored_claims());
  TokenClaims out;
  EXPECT_EQ(signer.verify(token, kNow + 3599, &out), TokenStatus::kValid);
  EXPECT_EQ(signer.verify(token, kNow + 3600, &out), TokenStatus::kExpired);
  EXPECT_EQ(signer.verify(token, kNow + 86400, &out), TokenStatus::kExpired);
}

TEST(TokenSigner, TamperedPayloadIsRefused) {
  const TokenSigner signer(kKey);
  const std::string token = signer.sign(stored_claims());
  const size_t dot = token.find('.');
  TokenClaims out;
  EXPECT_EQ(signer.verify(flip(token, 3), kNow, &out), TokenStatus::kBadSignature);
  // A payload rewritten to another account, with the old MAC.
  TokenClaims other = stored_claims();
  other.accounts = {"acct-z"};
  const std::string forged_payload = signer.sign(other).substr(0, signer.sign(other).find('.'));
  EXPECT_EQ(signer.verify(forged_payload + token.substr(dot), kNow, &out), TokenStatus::kBadSignature);
  // A later expiry, with the old MAC.
  other = stored_claims();
  other.expires_at += 86400;
  const std::string longer = signer.sign(other);
  EXPECT_EQ(signer.verify(longer.substr(0, longer.find('.')) + token.substr(dot), kNow, &out),
            TokenStatus::kBadSignature);
}

TEST(TokenSigner, TamperedMacIsRefused) {
  const TokenSigner signer(kKey);
  const std::string token = signer.sign(stored_claims());
  const size_t dot = token.find('.');
  TokenClaims out;
  EXPECT_EQ(signer.verify(flip(token, dot + 1), kNow, &out), TokenStatus::kBadSignature);
  EXPECT_EQ(signer.verify(flip(token, token.size() - 2), kNow, &out), TokenStatus::kBadSignature);
  // The last character holds 4 MAC bits and 2 unused ones: changing only
  // the unused bits is another spelling, refused as malformed.
  std::string last = token;
  last.back() = static_cast<char>(last.back() ^ 1);
  EXPECT_NE(signer.verify(last, kNow, &out), TokenStatus::kValid);
}

TEST(TokenSigner, AnotherKeysTokenIsRefused) {
  const TokenSigner signer(kKey);
  const TokenSigner other("another key, 32 bytes long......");
  TokenClaims out;
  EXPECT_EQ(signer.verify(other.sign(stored_claims()), kNow, &out), TokenStatus::kBadSignature);
}

TEST(TokenSigner, MalformedTokensAreRefused) {
  const TokenSigner signer(kKey);
  const std::string token = signer.sign(stored_claims());
  const size_t dot = token.find('.');
  TokenClaims out;
  for (const std::string& bad : {
           std::string(""), std::string("."), std::string("no-dot-at-all"), token.substr(0, dot),  // no MAC
           token.substr(dot),                                                                      // no payload
           token + ".extra",                                                                       // three parts
           token.substr(0, dot) + "." + token.substr(dot + 2),                                     // MAC cut short
           token.substr(0, dot) + "=." + token.substr(dot + 1),                                    // padding
           token.substr(0, dot) + "." + token.substr(dot + 1) + "AAAA",                            // MAC too long
           std::string("a+b.c/d"),                                 // the standard alphabet
           std::string(10000, 'A') + "." + token.substr(dot + 1),  // absurdly long
       }) {
    EXPECT_EQ(signer.verify(bad, kNow, &out), TokenStatus::kMalformed) << bad;
  }
}

TEST(TokenSigner, MacMatchesAnIndependentHmacSha256) {
  const TokenSigner signer(kKey);
  const std::string token = signer.sign(stored_claims());
  const std::string payload = token.substr(0, token.find('.'));
  EXPECT_EQ(token.substr(token.find('.') + 1), base64url_encode(hmac_sha256(kKey, payload)));
}

TEST(TokenSigner, CorrectlySignedForeignPayloadIsMalformed) {
  // Signed with our key but not a payload sign() writes: refused all the same.
  const TokenSigner signer(kKey);
  TokenClaims out;
  for (const std::string& json : {std::string("[]"), std::string("{\"acc\":[],\"exp\":9999999999,\"kid\":\"x\"}"),
                                  std::string("{\"acc\":[\"a\"],\"exp\":9999999999}"),
                                  std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"kid\":\"x\",\"cfg\":\"y\"}"),
                                  std::string("{\"acc\":[\"a\"],\"exp\":\"soon\",\"kid\":\"x\"}"),
                                  std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"kid\":\"x\"}\0x", 42)}) {
    const std::string payload = base64url_encode(json);
    const std::string token = payload + "." + base64url_encode(hmac_sha256(kKey, payload));
    EXPECT_EQ(signer.verify(token, kNow, &out), TokenStatus::kMalformed) << json;
  }
  // The control: the same construction over a well-formed payload verifies.
  const std::string good = base64url_encode("{\"acc\":[\"a\"],\"exp\":9999999999,\"kid\":\"x\"}");
  ASSERT_EQ(signer.verify(good + "." + base64url_encode(hmac_sha256(kKey, good)), kNow, &out), TokenStatus::kValid);
  EXPECT_EQ(out.stored_key_id, "x");
}

TEST(TokenSigner, UserOriginRoundTripsWithItsOwner) {
  const TokenSigner signer(kKey);
  TokenClaims claims;
  claims.accounts = {"acct-a"};
  claims.expires_at = kNow + 60;
  claims.user_login = "alice";
  claims.owner_id = "8a2b4c6d";
  const std::string token = signer.sign(claims);
  EXPECT_EQ(payload_of(token), "{\"acc\":[\"acct-a\"],\"exp\":1700000060,\"usr\":\"alice\",\"own\":\"8a2b4c6d\"}");
  TokenClaims out;
  ASSERT_EQ(signer.verify(token, kNow, &out), TokenStatus::kValid);
  EXPECT_EQ(out.user_login, "alice");
  EXPECT_EQ(out.owner_id, "8a2b4c6d");
  EXPECT_TRUE(out.stored_key_id.empty());
  EXPECT_TRUE(out.config_key_digest.empty());
  EXPECT_TRUE(out.allows("acct-a"));
  EXPECT_FALSE(out.allows("acct-b"));
  EXPECT_EQ(signer.verify(token, kNow + 60, &out), TokenStatus::kExpired);

  // Without an owner the payload has no "own".
  claims.owner_id.clear();
  const std::string plain = signer.sign(claims);
  EXPECT_EQ(payload_of(plain), "{\"acc\":[\"acct-a\"],\"exp\":1700000060,\"usr\":\"alice\"}");
  ASSERT_EQ(signer.verify(plain, kNow, &out), TokenStatus::kValid);
  EXPECT_EQ(out.user_login, "alice");
  EXPECT_TRUE(out.owner_id.empty());
}

// Payloads exactly as the signer wrote them before users existed: tokens
// handed out then stay valid.
TEST(TokenSigner, TokensOfTheEarlierPayloadFormatStillVerify) {
  const TokenSigner signer(kKey);
  TokenClaims out;
  ASSERT_EQ(
      signer.verify(token_over("{\"acc\":[\"acct-a\",\"acct-b\"],\"exp\":1700003600,\"kid\":\"0123456789abcdef\"}"),
                    kNow, &out),
      TokenStatus::kValid);
  EXPECT_EQ(out.stored_key_id, "0123456789abcdef");
  EXPECT_EQ(out.accounts, (std::vector<std::string>{"acct-a", "acct-b"}));
  EXPECT_EQ(out.expires_at, 1700003600);
  EXPECT_TRUE(out.user_login.empty());
  EXPECT_TRUE(out.owner_id.empty());
  ASSERT_EQ(signer.verify(token_over("{\"acc\":[\"*\"],\"exp\":1700000060,\"cfg\":\"q1w2e3r4t5y6u7i8\"}"), kNow, &out),
            TokenStatus::kValid);
  EXPECT_EQ(out.config_key_digest, "q1w2e3r4t5y6u7i8");
  EXPECT_TRUE(out.user_login.empty());
  // ... and what sign() writes for a stored key is still that format.
  EXPECT_EQ(payload_of(signer.sign(stored_claims())),
            "{\"acc\":[\"acct-a\",\"acct-b\"],\"exp\":1700003600,\"kid\":\"0123456789abcdef\"}");
}

TEST(TokenSigner, UserPayloadsWeDoNotWriteAreMalformed) {
  const TokenSigner signer(kKey);
  TokenClaims out;
  for (const std::string& json : {
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"usr\":\"alice\",\"kid\":\"x\"}"),  // two origins
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"usr\":\"alice\",\"cfg\":\"y\"}"),
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"usr\":\"\"}"),                    // empty login
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"usr\":7}"),                       // not a string
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"kid\":\"x\",\"own\":\"u\"}"),     // owner of a key
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"own\":\"u\"}"),                   // owner alone
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"usr\":\"alice\",\"own\":\"\"}"),  // empty owner
           std::string("{\"acc\":[\"a\"],\"exp\":9999999999,\"usr\":\"alice\",\"own\":[\"u\"]}"),
           std::string(
               "{\"acc\":[\"a\"],\"exp\":9999999999,\"kid\":\"\",\"cfg\":\"y\"}"),  // an empty origin beside one
       }) {
    EXPECT_EQ(signer.verify(token_over(json), kNow, &out), TokenStatus::kMalformed) << json;
  }
}

TEST(TokenSigner, SignRefusesClaimsThatCouldNeverVerify) {
  const TokenSigner signer(kKey);
  TokenClaims none;
  none.accounts = {"acct-a"};
  none.expires_at = kNow + 60;
  EXPECT_THROW(signer.sign(none), std::invalid_argument);
  TokenClaims two = none;
  two.stored_key_id = "0123456789abcdef";
  two.user_login = "alice";
  EXPECT_THROW(signer.sign(two), std::invalid_argument);
  TokenClaims key_with_owner = none;
  key_with_owner.config_key_digest = config_key_digest("a-key");
  key_with_owner.owner_id = "u";
  EXPECT_THROW(signer.sign(key_with_owner), std::invalid_argument);
}

}  // namespace
}  // namespace cdrd
