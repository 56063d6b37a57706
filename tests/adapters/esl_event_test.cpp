// ESL event bodies: plain (percent-encoded header lines, optional own body)
// and json, and the errors that refuse a frame as an event.
#include <gtest/gtest.h>

#include <string>

#include "adapters/freeswitch/esl_event.h"
#include "tests/adapters/esl_test_input.h"

namespace cdrd::test {
namespace {

EslFrame event_frame(std::string body, std::string content_type = "text/event-plain") {
  EslFrame frame;
  frame.headers = {{"Content-Length", std::to_string(body.size())}, {"Content-Type", content_type}};
  frame.body = std::move(body);
  return frame;
}

std::string parse_error(const EslFrame& frame) {
  EslEvent event;
  std::string error;
  EXPECT_FALSE(parse_esl_event(frame, &event, &error));
  EXPECT_TRUE(event.headers.empty());
  return error;
}

TEST(EslEvent, PlainDecodesPercentKeepsPlusAndRepeats) {
  const std::string body =
      "Event-Name: CHANNEL_HANGUP_COMPLETE\r\n"
      "Caller-Caller-ID-Name: Jos%C3%A9%20Smith\n"
      "variable_sip_from_user: %2B3120+5\n"
      "variable_bad_escape: 100%\n"
      "X-Dup: a\n"
      "X-Dup: b\n\n";
  EslEvent event;
  std::string error;
  ASSERT_TRUE(parse_esl_event(event_frame(body), &event, &error)) << error;
  EXPECT_EQ(event.name(), "CHANNEL_HANGUP_COMPLETE");
  EXPECT_EQ(event.header("Caller-Caller-ID-Name"), "Jos\xC3\xA9 Smith");
  EXPECT_EQ(event.header("variable_sip_from_user"), "+3120+5");
  EXPECT_EQ(event.header("variable_bad_escape"), "100%");
  ASSERT_EQ(event.headers.size(), 6u);
  EXPECT_EQ(event.headers[4], (std::pair<std::string, std::string>{"X-Dup", "a"}));
  EXPECT_EQ(event.headers[5], (std::pair<std::string, std::string>{"X-Dup", "b"}));
  EXPECT_EQ(event.header("X-Dup"), "a");
  EXPECT_EQ(event.body, "");
  EXPECT_EQ(event.raw, body);
}

TEST(EslEvent, PlainWithItsOwnBody) {
  // switch_event_serialize(): the event's Content-Length, an empty line, the body.
  const std::string body = "Event-Name: BACKGROUND_JOB\nJob-UUID: 7f4d\nContent-Length: 13\n\n+OK Job-UUID\n";
  EslEvent event;
  std::string error;
  ASSERT_TRUE(parse_esl_event(event_frame(body), &event, &error)) << error;
  EXPECT_EQ(event.name(), "BACKGROUND_JOB");
  EXPECT_EQ(event.body, "+OK Job-UUID\n");
  EXPECT_EQ(event.header("Content-Length"), "13");
  EXPECT_EQ(parse_error(event_frame("Event-Name: BACKGROUND_JOB\nContent-Length: 20\n\n+OK\n")),
            "event Content-Length 20 but 4 bytes follow the headers");
  EXPECT_EQ(parse_error(event_frame("Event-Name: BACKGROUND_JOB\nContent-Length: x\n\n+OK\n")),
            "event Content-Length 'x' is not a number");
}

TEST(EslEvent, Json) {
  const std::string body = R"({"Event-Name":"CHANNEL_HANGUP_COMPLETE","variable_sip_from_user":"+3120 5",)"
                           R"("variable_pct":"100%25","X-Dup":["a","b"],"_body":"text"})";
  EslEvent event;
  std::string error;
  ASSERT_TRUE(parse_esl_event(event_frame(body, "text/event-json"), &event, &error)) << error;
  EXPECT_EQ(event.name(), "CHANNEL_HANGUP_COMPLETE");
  // JSON values are not percent-encoded.
  EXPECT_EQ(event.header("variable_sip_from_user"), "+3120 5");
  EXPECT_EQ(event.header("variable_pct"), "100%25");
  ASSERT_EQ(event.headers.size(), 5u);
  EXPECT_EQ(event.headers[3], (std::pair<std::string, std::string>{"X-Dup", "a"}));
  EXPECT_EQ(event.headers[4], (std::pair<std::string, std::string>{"X-Dup", "b"}));
  EXPECT_EQ(event.body, "text");
  EXPECT_EQ(event.raw, body);
}

TEST(EslEvent, JsonFormOfAPlainBodyHasTheSameHeaders) {
  const std::string plain = "Event-Name: HEARTBEAT\nUp-Time: 0%20years\nX-Dup: a\nX-Dup: b%2Bc\n\n";
  EXPECT_EQ(json_body_from_plain(plain), R"({"Event-Name":"HEARTBEAT","Up-Time":"0 years","X-Dup":["a","b+c"]})");
  const EslEvent from_plain = event_from_body(plain);
  const EslEvent from_json = event_from_body(json_body_from_plain(plain), "text/event-json");
  EXPECT_EQ(from_plain.headers, from_json.headers);
  EXPECT_EQ(from_plain.headers.size(), 4u);
}

TEST(EslEvent, Errors) {
  EXPECT_EQ(parse_error(event_frame("Event-Name: HEARTBEAT\nno colon here\n\n")),
            "event line 2 is not 'Name: value': 'no colon here'");
  EXPECT_EQ(parse_error(event_frame(": value\n\n")), "event line 1 is not 'Name: value': ': value'");
  EXPECT_EQ(parse_error(event_frame("Core-UUID: 1\n\n")), "the event has no Event-Name");
  EXPECT_EQ(parse_error(event_frame("+OK\n", "api/response")), "not an event frame: Content-Type 'api/response'");
  EXPECT_EQ(parse_error(event_frame(R"({"Event-Name": "X",)", "text/event-json")),
            "event JSON parse error at offset 19: Missing a name for object member.");
  EXPECT_EQ(parse_error(event_frame(R"(["Event-Name"])", "text/event-json")), "the JSON event is not an object");
  EXPECT_EQ(parse_error(event_frame(R"({"Event-Name":"X","Event-Sequence":5})", "text/event-json")),
            "JSON event member 'Event-Sequence' is not a string or an array of strings");
}

// Found by fuzz/esl_event_fuzzer: a body ending in its Content-Length line
// without the '\n' threw std::out_of_range out of parse_esl_event().
TEST(EslEvent, PlainEndingInContentLengthWithoutNewline) {
  EslEvent event;
  std::string error;
  ASSERT_TRUE(parse_esl_event(event_frame("Event-Name: HEARTBEAT\nContent-Length: 0"), &event, &error)) << error;
  EXPECT_EQ(event.name(), "HEARTBEAT");
  EXPECT_EQ(event.body, "");
  EXPECT_EQ(parse_error(event_frame("Event-Name: HEARTBEAT\nContent-Length: 1")),
            "event Content-Length 1 but 0 bytes follow the headers");
}

}  // namespace
}  // namespace cdrd::test
