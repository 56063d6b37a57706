// decode_json_cdr_body and its parts: the three mod_json_cdr transports.
#include <gtest/gtest.h>

#include "adapters/freeswitch/form_body.h"
#include "adapters/freeswitch/percent_decode.h"
#include "tests/adapters/body_encoding.h"
#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

std::string decoded(const std::string& body) {
  std::string json;
  NormalizeError error;
  EXPECT_TRUE(decode_json_cdr_body(body, &json, &error)) << error.code << ": " << error.message;
  return json;
}

NormalizeError refused(const std::string& body) {
  std::string json;
  NormalizeError error;
  EXPECT_FALSE(decode_json_cdr_body(body, &json, &error));
  return error;
}

TEST(PercentDecode, ValidSequencesOnly) {
  EXPECT_EQ(percent_decode("1001%40192.168.56.10", PlusMeans::kPlus), "1001@192.168.56.10");
  EXPECT_EQ(percent_decode("%3c%3E%2b+", PlusMeans::kPlus), "<>++");
  EXPECT_EQ(percent_decode("a+b%20c", PlusMeans::kSpace), "a b c");
  EXPECT_EQ(percent_decode("100% %zz %4 %", PlusMeans::kPlus), "100% %zz %4 %");
  EXPECT_EQ(percent_decode("%", PlusMeans::kPlus), "%");
  EXPECT_EQ(percent_decode("%4", PlusMeans::kPlus), "%4");
  EXPECT_EQ(percent_decode("%41", PlusMeans::kPlus), "A");
  EXPECT_EQ(percent_decode("", PlusMeans::kPlus), "");
  EXPECT_EQ(percent_decode("%00x", PlusMeans::kPlus), std::string("\0x", 2));
}

TEST(FormField, FindsTheFieldAmongOthers) {
  std::string_view value;
  ASSERT_TRUE(find_form_field("uuid=a_1&cdr=%7B%7D&x=1", "cdr", &value));
  EXPECT_EQ(value, "%7B%7D");
  ASSERT_TRUE(find_form_field("cdr=", "cdr", &value));
  EXPECT_EQ(value, "");
  EXPECT_FALSE(find_form_field("xcdr=1&cdrs=2", "cdr", &value));
  ASSERT_TRUE(find_form_field("xcdr=1&cdr=2", "cdr", &value));
  EXPECT_EQ(value, "2");
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  std::string out;
  ASSERT_TRUE(base64_decode("eyJhIjoxfQ==", &out));  // {"a":1}
  EXPECT_EQ(out, "{\"a\":1}");
  ASSERT_TRUE(base64_decode("eyJhIjoxfQ", &out));
  EXPECT_EQ(out, "{\"a\":1}");
  ASSERT_TRUE(base64_decode("eyJh\r\nIjox\nfQ==", &out));
  EXPECT_EQ(out, "{\"a\":1}");
  EXPECT_FALSE(base64_decode("ey!!", &out));
  EXPECT_FALSE(base64_decode("e", &out));
  EXPECT_FALSE(base64_decode("", &out));
}

TEST(JsonCdrBody, RawJsonIsPassedAsReceived) {
  const std::string doc = read_sample("json_cdr_cgrates_2018a.json");  // starts with "\n\t\t{"
  EXPECT_EQ(decoded(doc), doc);
}

TEST(JsonCdrBody, ThreeTransportsGiveTheSameRecord) {
  const std::string doc = read_sample("json_cdr_cgrates_2017.json");
  const Record raw = normalize_text(decoded(doc));
  ASSERT_TRUE(raw.ok());
  const std::string forms[] = {
      "cdr=" + url_encode(doc),
      "cdr=" + url_encode(doc, true),  // spaces as '+'
      "cdr=" + base64_encode(doc),     // '+' and '/' unescaped, as mod_json_cdr sends it
      "cdr=" + url_encode(base64_encode(doc)),
      "uuid=a_3da8bf84&cdr=" + base64_encode(doc) + "&extra=1",
      "uuid=a_3da8bf84&cdr=" + url_encode(doc) + "&extra=1",
  };
  for (const std::string& body : forms) {
    SCOPED_TRACE(body.substr(0, 40));
    const std::string json = decoded(body);
    EXPECT_EQ(json, doc);
    const Record r = normalize_text(json);
    EXPECT_EQ(r.result().record.json, raw.result().record.json);
    EXPECT_EQ(r.result().record.raw, doc);
  }
}

TEST(JsonCdrBody, PlusInsideUrlEncodedFormIsSpaceButEscapedPlusIsPlus) {
  // 2013b: sip_to_user "+4986517174963" -> %2B4986517174963 in the form; its spaces become '+'.
  const std::string doc = read_sample("json_cdr_cgrates_2013b.json");
  const std::string body = "cdr=" + url_encode(doc, true);
  ASSERT_NE(body.find("%2B4986517174963"), std::string::npos);
  const Record r = normalize_text(decoded(body));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.str("to_uri"), "+4986517174963@ipbx.itsyscom.com");
  EXPECT_EQ(r.result().record.raw, doc);
}

TEST(JsonCdrBody, Refusals) {
  NormalizeError e = refused("");
  EXPECT_EQ(e.code, "empty_body");
  EXPECT_EQ(e.message, "the request body is empty");
  e = refused(" \r\n");
  EXPECT_EQ(e.code, "empty_body");
  e = refused("cdr=");
  EXPECT_EQ(e.code, "empty_body");
  EXPECT_EQ(e.message, "form field cdr is empty");
  e = refused("cdr=not%20json%20at%20all!");
  EXPECT_EQ(e.code, "bad_encoding");
  EXPECT_EQ(e.message, "form field cdr is neither url-encoded nor base64-encoded JSON");
  e = refused("uuid=1&other=2");
  EXPECT_EQ(e.code, "bad_encoding");
  EXPECT_EQ(e.message, "the body is a form without a cdr field");
}

TEST(JsonCdrBody, NeitherJsonNorFormGoesToTheJsonParser) {
  const std::string body = "this is {not json";
  EXPECT_EQ(decoded(body), body);
  const NormalizeResult r = normalize_json_cdr(body, default_options());
  EXPECT_EQ(r.error.code, "invalid_json");
  // RapidJSON reads 't' as the start of `true` and fails on the 'h'.
  EXPECT_EQ(r.error.message, "JSON parse error at offset 1: Invalid value.");
}

}  // namespace
}  // namespace cdrd::test
