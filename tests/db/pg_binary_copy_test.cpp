// BinaryRowEncoder, byte by byte: every expected value below is PostgreSQL's
// binary wire format worked out by hand (COPY "Binary Format" and the
// *_send functions: big-endian integers, timestamps in microseconds since
// 2000-01-01, numerics in base-10000 digits).
#include "daemon/db/pg_binary_copy.h"

#include <gtest/gtest.h>

#include <string>

namespace cdrd {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(BinaryRowEncoder, HeaderRowAndTrailer) {
  BinaryRowEncoder e;
  e.header();
  EXPECT_EQ(e.bytes(), std::string("PGCOPY\n\xff\r\n\0", 11) + bytes({0, 0, 0, 0, 0, 0, 0, 0}));
  e.clear();
  e.begin_row(3);
  e.text("ab");
  e.null();
  e.text(std::optional<std::string>());
  e.trailer();
  EXPECT_EQ(e.bytes(), bytes({0, 3, 0, 0, 0, 2, 'a', 'b', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(BinaryRowEncoder, IntegersAndBooleansAreBigEndian) {
  BinaryRowEncoder e;
  e.int32(-2);
  e.int64(0x0102030405060708);
  e.boolean(true);
  e.boolean(false);
  EXPECT_EQ(e.bytes(), bytes({0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe,              // -2
                              0, 0, 0, 8, 1,    2,    3,    4,    5, 6, 7, 8,  // int64
                              0, 0, 0, 1, 1,    0,    0,    0,    1, 0}));     // true, false
}

TEST(BinaryRowEncoder, TimestampsCountFrom2000) {
  BinaryRowEncoder e;
  e.timestamptz(int64_t{946684800000001});  // 2000-01-01 00:00:00.000001 UTC: 1
  e.timestamptz(int64_t{0});                // 1970-01-01: -946684800000000 = 0xfffca2fec4c82000
  e.timestamptz(std::optional<int64_t>());
  EXPECT_EQ(e.bytes(), bytes({0,    0,    0,    8,   0,    0,    0,    0,    0,    0,    0,    1,     //
                              0,    0,    0,    8,   0xff, 0xfc, 0xa2, 0xfe, 0xc4, 0xc8, 0x20, 0x00,  //
                              0xff, 0xff, 0xff, 0xff}));
}

TEST(BinaryRowEncoder, JsonbIsVersionOneAndTheTextInPieces) {
  BinaryRowEncoder e;
  e.jsonb(R"({"a":1)", R"(,"b":2)", "}");
  EXPECT_EQ(e.bytes(), bytes({0, 0, 0, 14, 1}) + R"({"a":1,"b":2})");
}

// Each case: length, ndigits, weight, sign, dscale, then the base-10000 digits.
TEST(BinaryRowEncoder, NumericsInBase10000) {
  struct Case {
    const char* text;
    std::string wire;
  };
  const Case cases[] = {
      // 12.5 = 12 | 5000 x 10000^-1; weight 0, one digit after the point.
      {"12.5", bytes({0, 0, 0, 12, 0, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88})},
      // -0.0123 = 123 x 10000^-1: weight -1, negative (0x4000), dscale 4.
      {"-0.0123", bytes({0, 0, 0, 10, 0, 1, 0xff, 0xff, 0x40, 0x00, 0, 4, 0, 123})},
      // 0.00001 = 0000 1000 after the point: the leading zero group goes, weight -2.
      {"0.00001", bytes({0, 0, 0, 10, 0, 1, 0xff, 0xfe, 0, 0, 0, 5, 0x03, 0xe8})},
      // 10000 = 1 | 0000: the trailing zero group goes, weight 1.
      {"10000", bytes({0, 0, 0, 10, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1})},
      // Zero has no digits; its scale stays; never negative.
      {"0.00", bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2})},
      {"-0", bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0})},
      // .5 and +7 are plain decimals too.
      {".5", bytes({0, 0, 0, 10, 0, 1, 0xff, 0xff, 0, 0, 0, 1, 0x13, 0x88})},
      {"+7", bytes({0, 0, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7})},
  };
  for (const Case& c : cases) {
    BinaryRowEncoder e;
    ASSERT_TRUE(e.numeric(c.text)) << c.text;
    EXPECT_EQ(e.bytes(), c.wire) << c.text;
  }
}

TEST(BinaryRowEncoder, ANumericThatIsNotAPlainDecimalWritesNothing) {
  for (const char* text : {"", ".", "-", "1e5", "1.2.3", "--1", "12a", " 1", "NaN", "0x10"}) {
    BinaryRowEncoder e;
    EXPECT_FALSE(e.numeric(text)) << text;
    EXPECT_EQ(e.size(), 0u) << text;
  }
}

}  // namespace
}  // namespace cdrd
