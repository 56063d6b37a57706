#include "daemon/auth/base64url.h"

#include <gtest/gtest.h>

#include <string>

namespace cdrd {
namespace {

TEST(Base64Url, RoundTripsEveryLengthWithoutPadding) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    const std::string text = base64url_encode(bytes);
    EXPECT_EQ(text.find('='), std::string::npos);
    std::string back;
    ASSERT_TRUE(base64url_decode(text, &back)) << text;
    EXPECT_EQ(back, bytes);
    bytes.push_back(static_cast<char>(0xf0 + i));
  }
}

TEST(Base64Url, UsesTheUrlAlphabet) {
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(base64url_encode("ab"), "YWI");
}

TEST(Base64Url, RefusesWhatEncodeDoesNotWrite) {
  std::string out;
  EXPECT_FALSE(base64url_decode("YWI=", &out));  // padding
  EXPECT_FALSE(base64url_decode("YW+I", &out));  // the standard alphabet
  EXPECT_FALSE(base64url_decode("Y", &out));     // no byte ends there
  EXPECT_FALSE(base64url_decode("YW I", &out));  // whitespace
  EXPECT_FALSE(base64url_decode("YWJ", &out));   // "ab" with a non-zero unused bit: a second spelling
  EXPECT_TRUE(base64url_decode("YWI", &out));
  EXPECT_EQ(out, "ab");
}

}  // namespace
}  // namespace cdrd
