#include "daemon/auth/api_key_secret.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cdrd {
namespace {

TEST(ApiKeySecret, GeneratedKeysParseToTheirId) {
  const GeneratedApiKey key = generate_api_key();
  EXPECT_EQ(key.key_id.size(), 16u);
  EXPECT_TRUE(is_api_key_id(key.key_id));
  EXPECT_EQ(key.key.rfind("cdrd_" + key.key_id + "_", 0), 0u) << key.key;
  EXPECT_EQ(key.key.size(), 5u + 16u + 1u + 43u);  // 32 secret bytes are 43 base64url characters
  std::string id;
  ASSERT_TRUE(parse_api_key(key.key, &id));
  EXPECT_EQ(id, key.key_id);
}

TEST(ApiKeySecret, KeysAreRandom) {
  std::set<std::string> ids;
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    const GeneratedApiKey key = generate_api_key();
    ids.insert(key.key_id);
    keys.insert(key.key);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(keys.size(), 100u);
}

TEST(ApiKeySecret, OtherCredentialsAreNotStoredKeys) {
  const GeneratedApiKey key = generate_api_key();
  std::string id;
  EXPECT_FALSE(parse_api_key("change-me", &id));
  EXPECT_FALSE(parse_api_key("eyJhY2MiOlsiYSJdfQ.c2ln", &id));              // a token's shape
  EXPECT_FALSE(parse_api_key(key.key.substr(0, key.key.size() - 1), &id));  // secret cut short
  EXPECT_FALSE(parse_api_key(key.key + "A", &id));                          // secret too long
  std::string upper = key.key;
  upper.replace(5, 16, "ABCDEF0123456789");
  EXPECT_FALSE(parse_api_key(upper, &id));  // key_id is lower-case hex
  EXPECT_FALSE(parse_api_key("cdrd_" + key.key_id, &id));
  EXPECT_TRUE(id.empty());
}

TEST(ApiKeySecret, HashIsSha256OfTheWholeKey) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(to_hex(api_key_hash("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const GeneratedApiKey key = generate_api_key();
  EXPECT_EQ(api_key_hash(key.key).size(), 32u);
  EXPECT_NE(api_key_hash(key.key), api_key_hash(key.key + "x"));
}

}  // namespace
}  // namespace cdrd
