// authorize_account() on the loop thread: configured keys, tokens, and what
// is left to ApiGrant::verify() (stored keys; tests/e2e cover that part).
#include "daemon/api/api_access.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/api/api_settings.h"
#include "daemon/auth/api_key_secret.h"
#include "daemon/auth/token_signer.h"

namespace cdrd {
namespace {

const std::string kTokenKey = "token key for the unit tests....";

Config config_with_keys(std::vector<ApiKey> keys) {
  Config c;
  c.api_keys = std::move(keys);
  return c;
}

std::string token_for(const ApiKey& key, int64_t expires_at) {
  TokenClaims claims;
  claims.accounts = key.accounts;
  claims.expires_at = expires_at;
  claims.config_key_digest = config_key_digest(key.key);
  return TokenSigner(kTokenKey).sign(claims);
}

struct Outcome {
  bool allowed = false;
  ApiError err;
};

Outcome authorize(const ApiSettings& settings, const std::string& credential, const std::string& account) {
  Outcome o;
  ApiGrant grant;
  o.allowed = authorize_account(settings, credential, account, &grant, &o.err);
  return o;
}

const ApiKey kAKey{"a-key", {"acct-a"}};
const ApiKey kAllKey{"all-key", {"*"}};

TEST(ApiAccess, ConfiguredKeysReadOnlyTheirAccounts) {
  const auto settings = make_api_settings(config_with_keys({kAKey, kAllKey}), kTokenKey);
  EXPECT_TRUE(authorize(*settings, "a-key", "acct-a").allowed);
  const Outcome other = authorize(*settings, "a-key", "acct-b");
  EXPECT_FALSE(other.allowed);
  EXPECT_EQ(other.err.status, 403);
  EXPECT_EQ(other.err.message, "these credentials may not read account acct-b");
  EXPECT_TRUE(authorize(*settings, "all-key", "acct-b").allowed);
}

TEST(ApiAccess, MissingAndUnknownCredentialsAre401) {
  const auto settings = make_api_settings(config_with_keys({kAKey}), kTokenKey);
  const Outcome none = authorize(*settings, "", "acct-a");
  EXPECT_EQ(none.err.status, 401);
  EXPECT_NE(none.err.message.find("no credentials"), std::string::npos);
  const Outcome wrong = authorize(*settings, "b-key", "acct-a");
  EXPECT_FALSE(wrong.allowed);
  EXPECT_EQ(wrong.err.status, 401);
  EXPECT_EQ(wrong.err.message, "the credentials are not valid");
}

TEST(ApiAccess, TokenFromAConfiguredKeyReadsItsAccountsOnly) {
  const auto settings = make_api_settings(config_with_keys({kAKey}), kTokenKey);
  const std::string token = token_for(kAKey, unix_now() + 600);
  EXPECT_TRUE(authorize(*settings, token, "acct-a").allowed);
  const Outcome other = authorize(*settings, token, "acct-b");
  EXPECT_FALSE(other.allowed);
  EXPECT_EQ(other.err.status, 403);
}

TEST(ApiAccess, ExpiredTokenIs401SayingSo) {
  const auto settings = make_api_settings(config_with_keys({kAKey}), kTokenKey);
  const Outcome o = authorize(*settings, token_for(kAKey, unix_now() - 1), "acct-a");
  EXPECT_FALSE(o.allowed);
  EXPECT_EQ(o.err.status, 401);
  EXPECT_NE(o.err.message.find("expired"), std::string::npos) << o.err.message;
}

TEST(ApiAccess, TamperedOrForeignTokenIs401NotValid) {
  const auto settings = make_api_settings(config_with_keys({kAKey}), kTokenKey);
  std::string token = token_for(kAKey, unix_now() + 600);
  token[2] = token[2] == 'A' ? 'B' : 'A';
  const Outcome tampered = authorize(*settings, token, "acct-a");
  EXPECT_EQ(tampered.err.status, 401);
  EXPECT_EQ(tampered.err.message, "the auth token is not valid");

  TokenClaims claims;
  claims.accounts = {"acct-a"};
  claims.expires_at = unix_now() + 600;
  claims.config_key_digest = config_key_digest("a-key");
  const Outcome foreign = authorize(*settings, TokenSigner("some other key of 32 bytes......").sign(claims), "acct-a");
  EXPECT_EQ(foreign.err.status, 401);
  EXPECT_EQ(foreign.err.message, "the auth token is not valid");
}

TEST(ApiAccess, TokenOfAKeyRemovedFromTheConfigurationIsRefused) {
  const std::string token = token_for(kAKey, unix_now() + 600);
  ASSERT_TRUE(authorize(*make_api_settings(config_with_keys({kAKey}), kTokenKey), token, "acct-a").allowed);
  // SIGHUP with a-key gone: its tokens stop working although still signed and unexpired.
  const auto reloaded = make_api_settings(config_with_keys({kAllKey}), kTokenKey);
  const Outcome o = authorize(*reloaded, token, "acct-a");
  EXPECT_FALSE(o.allowed);
  EXPECT_EQ(o.err.status, 401);
  EXPECT_NE(o.err.message.find("no longer configured"), std::string::npos) << o.err.message;
}

TEST(ApiAccess, TokenFollowsItsKeysNarrowedAccounts) {
  const ApiKey ab{"ab-key", {"acct-a", "acct-b"}};
  const std::string token = token_for(ab, unix_now() + 600);
  const auto reloaded = make_api_settings(config_with_keys({{"ab-key", {"acct-a"}}}), kTokenKey);
  EXPECT_TRUE(authorize(*reloaded, token, "acct-a").allowed);
  EXPECT_EQ(authorize(*reloaded, token, "acct-b").err.status, 403);
}

TEST(ApiAccess, StoredKeyAndItsTokensAreLeftToTheDatabaseCheck) {
  const auto settings = make_api_settings(config_with_keys({}), kTokenKey);
  // Any well-formed stored key passes the loop's check; ApiGrant::verify()
  // looks it up (tests/db and tests/e2e).
  EXPECT_TRUE(authorize(*settings, generate_api_key().key, "acct-a").allowed);
  TokenClaims claims;
  claims.accounts = {"acct-a"};
  claims.expires_at = unix_now() + 600;
  claims.stored_key_id = "0123456789abcdef";
  const std::string token = TokenSigner(kTokenKey).sign(claims);
  EXPECT_TRUE(authorize(*settings, token, "acct-a").allowed);
  // ...but a token's own accounts are checked right away.
  EXPECT_EQ(authorize(*settings, token, "acct-b").err.status, 403);
}

TEST(ApiAccess, WithoutATokenKeyTokensAreNotAccepted) {
  const auto settings = make_api_settings(config_with_keys({kAKey}));
  const Outcome o = authorize(*settings, token_for(kAKey, unix_now() + 600), "acct-a");
  EXPECT_EQ(o.err.status, 401);
}

}  // namespace
}  // namespace cdrd
