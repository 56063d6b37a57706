#include "daemon/auth/token_key.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace cdrd {
namespace {

class TokenKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdrd-token-key-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/api_token.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string path_;
};

TEST_F(TokenKeyTest, ConfiguredSecretIsTheKeyAndNoFileIsMade) {
  std::string key;
  std::string error;
  ASSERT_TRUE(load_token_key("a configured secret of 32 bytes.", path_, &key, &error)) << error;
  EXPECT_EQ(key, "a configured secret of 32 bytes.");
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(TokenKeyTest, ShortConfiguredSecretIsRefusedByName) {
  std::string key;
  std::string error;
  EXPECT_FALSE(load_token_key("short", path_, &key, &error));
  EXPECT_NE(error.find("api.token_secret"), std::string::npos) << error;
  EXPECT_NE(error.find("16"), std::string::npos) << error;
}

TEST_F(TokenKeyTest, FirstStartMakesA32ByteOwnerOnlyFileThatLaterStartsRead) {
  std::string first;
  std::string error;
  ASSERT_TRUE(load_token_key("", path_, &first, &error)) << error;
  EXPECT_EQ(first.size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));

  std::string second;
  ASSERT_TRUE(load_token_key("", path_, &second, &error)) << error;
  EXPECT_EQ(second, first);

  // Another state_dir gets another key.
  std::string other;
  ASSERT_TRUE(load_token_key("", dir_ + "/other.key", &other, &error)) << error;
  EXPECT_NE(other, first);
}

TEST_F(TokenKeyTest, WrongSizedFileIsRefused) {
  {
    std::ofstream out(path_);
    out << "too short";
  }
  ::chmod(path_.c_str(), 0600);
  std::string key;
  std::string error;
  EXPECT_FALSE(load_token_key("", path_, &key, &error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("32 bytes"), std::string::npos) << error;
}

TEST_F(TokenKeyTest, FileOthersCanReadIsRefused) {
  std::string key;
  std::string error;
  ASSERT_TRUE(load_token_key("", path_, &key, &error)) << error;
  ::chmod(path_.c_str(), 0644);
  EXPECT_FALSE(load_token_key("", path_, &key, &error));
  EXPECT_NE(error.find("644"), std::string::npos) << error;
  EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
}

}  // namespace
}  // namespace cdrd
