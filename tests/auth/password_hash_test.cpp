// API users' secrets: Kazoo's credentials (md5 hex of "login:password",
// checked against values from `printf %s LOGIN:PASSWORD | md5sum`) and
// their Argon2id hash.
#include "daemon/auth/password_hash.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <stdexcept>
#include <string>

namespace cdrd {
namespace {

// printf %s alice:secret | md5sum
const std::string kAliceSecret = "6f622058968bb90757e6c6ed79e5df81";

TEST(KazooCredentials, Md5HexOfLoginColonPassword) {
  EXPECT_EQ(kazoo_credentials("alice", "secret"), kAliceSecret);
  // printf %s 'bob:p@ss w0rd' | md5sum
  EXPECT_EQ(kazoo_credentials("bob", "p@ss w0rd"), "3159c8cb62c7a0670e1330d9ea37f126");
  // UTF-8 bytes as given: printf %s 'émile:mot de passe' | md5sum
  EXPECT_EQ(kazoo_credentials("\xc3\xa9mile", "mot de passe"), "5211b5c258f71abfca7a01de388011b0");
  // printf %s 'alice:' | md5sum
  EXPECT_EQ(kazoo_credentials("alice", ""), "770553c33dfa3a641da8312d60b3b9ef");
}

TEST(KazooCredentials, Shape) {
  EXPECT_TRUE(is_kazoo_credentials(kAliceSecret));
  EXPECT_TRUE(is_kazoo_credentials("6F622058968BB90757E6C6ED79E5DF81"));
  EXPECT_FALSE(is_kazoo_credentials(""));
  EXPECT_FALSE(is_kazoo_credentials("secret"));
  EXPECT_FALSE(is_kazoo_credentials(kAliceSecret.substr(1)));
  EXPECT_FALSE(is_kazoo_credentials(kAliceSecret + "0"));
  EXPECT_FALSE(is_kazoo_credentials("6f622058968bb90757e6c6ed79e5df8g"));
}

TEST(UserSecretHash, IsArgon2idOfTheCredentials) {
  const std::string hash = hash_user_secret(kAliceSecret);
  // t=2 passes over 32 MiB (m in KiB), one lane.
  EXPECT_EQ(hash.rfind("$argon2id$v=19$m=32768,t=2,p=1$", 0), 0u) << hash;
  EXPECT_EQ(hash.find(kAliceSecret), std::string::npos);
  EXPECT_TRUE(verify_user_secret(hash, kAliceSecret));
  // What is hashed is the md5 hex itself (libsodium directly), not the password.
  EXPECT_EQ(crypto_pwhash_str_verify(hash.c_str(), kAliceSecret.data(), kAliceSecret.size()), 0);
  EXPECT_NE(crypto_pwhash_str_verify(hash.c_str(), "secret", 6), 0);
}

TEST(UserSecretHash, WrongSecretsAreRefused) {
  const std::string hash = hash_user_secret(kAliceSecret);
  EXPECT_FALSE(verify_user_secret(hash, "3159c8cb62c7a0670e1330d9ea37f126"));  // bob's
  EXPECT_FALSE(verify_user_secret(hash, "6f622058968bb90757e6c6ed79e5df80"));  // last digit off
  EXPECT_FALSE(verify_user_secret(hash, "secret"));                            // the password itself
  EXPECT_FALSE(verify_user_secret(hash, ""));
  EXPECT_FALSE(verify_user_secret("", kAliceSecret));
  EXPECT_FALSE(verify_user_secret("$argon2id$v=19$m=32768,t=2,p=1$garbage", kAliceSecret));
  EXPECT_FALSE(verify_user_secret(hash + std::string(200, 'A'), kAliceSecret));
}

TEST(UserSecretHash, UpperCaseHexIsTheSameCredentials) {
  const std::string hash = hash_user_secret("6F622058968BB90757E6C6ED79E5DF81");
  EXPECT_TRUE(verify_user_secret(hash, kAliceSecret));
  EXPECT_TRUE(verify_user_secret(hash_user_secret(kAliceSecret), "6F622058968BB90757E6C6ED79E5DF81"));
}

TEST(UserSecretHash, EachHashHasItsOwnSalt) {
  const std::string first = hash_user_secret(kAliceSecret);
  const std::string second = hash_user_secret(kAliceSecret);
  EXPECT_NE(first, second);
  EXPECT_TRUE(verify_user_secret(second, kAliceSecret));
}

TEST(UserSecretHash, OnlyCredentialsAreHashed) {
  EXPECT_THROW(hash_user_secret("secret"), std::invalid_argument);
  EXPECT_THROW(hash_user_secret(""), std::invalid_argument);
}

TEST(UserLogin, ProblemsNameTheLogin) {
  EXPECT_EQ(user_login_problem("alice"), "");
  EXPECT_EQ(user_login_problem("alice@example.com"), "");
  EXPECT_EQ(user_login_problem(""), "the login must not be empty");
  EXPECT_EQ(user_login_problem("al:ice"),
            "the login \"al:ice\" must not contain ':' (Kazoo's credentials are md5 of \"login:password\")");
  EXPECT_EQ(user_login_problem("al\nice"), "the login \"al\nice\" must not contain control characters");
}

}  // namespace
}  // namespace cdrd
