// ESL framing against the wire captures (any split of the stream gives the
// same frames) and against hand-made protocol errors. Frame counts and
// Content-Type sequences were counted in the captures by hand (one
// "Content-Type:" line per frame header; the event bodies hold none).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/esl_frame.h"
#include "tests/adapters/esl_test_input.h"
#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

struct Parsed {
  std::vector<EslFrame> frames;
  bool ok = true;
  std::string error;
  size_t buffered = 0;
};

// Feeds `bytes` in chunks of the given sizes (cycled), stopping at the first error.
Parsed parse_in_chunks(std::string_view bytes, const std::vector<size_t>& sizes, EslFrameLimits limits = {}) {
  EslFrameParser parser(limits);
  Parsed parsed;
  size_t pos = 0;
  for (size_t i = 0; pos < bytes.size() && parsed.ok; ++i) {
    const size_t n = std::min(sizes[i % sizes.size()], bytes.size() - pos);
    parsed.ok = parser.feed(bytes.substr(pos, n), &parsed.frames, &parsed.error);
    pos += n;
  }
  parsed.buffered = parser.buffered();
  return parsed;
}

Parsed parse_whole(std::string_view bytes, EslFrameLimits limits = {}) {
  return parse_in_chunks(bytes, {bytes.size()}, limits);
}

std::vector<size_t> random_sizes(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> size(1, 4096);
  std::vector<size_t> sizes(257);
  for (size_t& s : sizes) s = size(rng);
  return sizes;
}

std::vector<std::string> content_types(const std::vector<EslFrame>& frames) {
  std::vector<std::string> types;
  types.reserve(frames.size());
  for (const EslFrame& f : frames) types.emplace_back(f.content_type());
  return types;
}

// Whole, one byte at a time, and three seeded random splits: same frames, same outcome.
Parsed parse_every_way(const std::string& bytes) {
  Parsed whole = parse_whole(bytes);
  std::vector<Parsed> others = {parse_in_chunks(bytes, {1})};
  for (unsigned seed : {1u, 7u, 2024u}) others.push_back(parse_in_chunks(bytes, random_sizes(seed)));
  for (const Parsed& other : others) {
    EXPECT_EQ(other.ok, whole.ok);
    EXPECT_EQ(other.error, whole.error);
    EXPECT_EQ(other.frames.size(), whole.frames.size());
    for (size_t i = 0; i < std::min(other.frames.size(), whole.frames.size()); ++i) {
      EXPECT_EQ(other.frames[i].headers, whole.frames[i].headers) << "frame " << i;
      EXPECT_EQ(other.frames[i].body, whole.frames[i].body) << "frame " << i;
    }
  }
  return whole;
}

// Indexes of the frames holding a CHANNEL_HANGUP_COMPLETE event.
std::vector<size_t> hangup_frames(const std::vector<EslFrame>& frames) {
  std::vector<size_t> found;
  for (size_t i = 0; i < frames.size(); ++i) {
    EslEvent event;
    std::string error;
    if (parse_esl_event(frames[i], &event, &error) && event.name() == "CHANNEL_HANGUP_COMPLETE") found.push_back(i);
  }
  return found;
}

const std::string kPlain = "text/event-plain";
const std::string kReply = "command/reply";
const std::string kApi = "api/response";
const std::string kDisconnect = "text/disconnect-notice";

constexpr char kFsock[] = "esl_wire_inbound_fsock_2012_unanswered_cancel.txt";
// README: the capture's author inserted "uuid_transfer " (14 bytes) here.
constexpr size_t kFsockInsertedAt = 91756;

// The capture as recorded: the stray bytes turn the next header line into
// "uuid_transfer Content-Length: 720", whose name is not a token. The parser
// calls that a protocol error (the stream's framing can no longer be trusted)
// after the 33 frames before it; the connection would be dropped there.
TEST(EslFrameCaptures, FsockAsRecordedStopsAtTheInsertedBytes) {
  const std::string bytes = read_sample(kFsock);
  ASSERT_EQ(bytes.substr(kFsockInsertedAt, 14), "uuid_transfer ");
  const Parsed p = parse_every_way(bytes);
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.error, "invalid ESL header name 'uuid_transfer Content-Length' at stream offset 91756");
  ASSERT_EQ(p.frames.size(), 33u);
  EXPECT_EQ(content_types(p.frames), std::vector<std::string>(33, kPlain));
  // Frame 33 is the RE_SCHEDULE of Content-Length 563 that ends at offset 91755.
  EXPECT_EQ(p.frames[32].body.substr(0, 24), "Event-Name: RE_SCHEDULE\n");
  EXPECT_EQ(p.frames[32].body.size(), 563u);
}

// Without the inserted bytes: the capture starts with an empty line and has
// another one at offset 91755 (after a body of Content-Length 563); empty lines
// between frames are skipped, as libesl does. 45 frames, all text/event-plain
// (45 "Content-Type:" lines); the hangup is the 42nd frame.
TEST(EslFrameCaptures, FsockAsFreeswitchSentIt) {
  const std::string bytes = read_sample(kFsock).erase(kFsockInsertedAt, 14);
  const Parsed p = parse_every_way(bytes);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.buffered, 0u);
  ASSERT_EQ(p.frames.size(), 45u);
  EXPECT_EQ(content_types(p.frames), std::vector<std::string>(45, kPlain));
  EXPECT_EQ(p.frames[0].header("Content-Length"), "720");
  EXPECT_EQ(p.frames[0].body.substr(0, 22), "Event-Name: HEARTBEAT\n");
  EXPECT_EQ(p.frames[33].body.substr(0, 22), "Event-Name: HEARTBEAT\n");
  EXPECT_EQ(hangup_frames(p.frames), std::vector<size_t>{41});
}

// Outbound mode: the first frame is the `connect` reply (CHANNEL_DATA as
// headers, no Content-Length, no body).
TEST(EslFrameCaptures, NeventsocketEx1BridgedAnswered) {
  const Parsed p = parse_every_way(read_sample("esl_wire_outbound_neventsocket_ex1_bridged_answered.txt"));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.buffered, 0u);
  const std::vector<std::string> expected = {kReply, kReply, kReply, kReply, kPlain, kPlain,     kPlain,
                                             kReply, kPlain, kReply, kReply, kPlain, kApi,       kReply,
                                             kPlain, kPlain, kPlain, kPlain, kApi,   kPlain,     kDisconnect,
                                             kPlain, kPlain, kPlain, kPlain, kReply, kDisconnect};
  EXPECT_EQ(content_types(p.frames), expected);
  EXPECT_EQ(p.frames[0].header("Event-Name"), "CHANNEL_DATA");
  EXPECT_EQ(p.frames[0].body, "");
  EXPECT_EQ(p.frames[12].body, "+OK\n");
  EXPECT_EQ(p.frames[26].header("Content-Length"), "67");
  EXPECT_EQ(p.frames[26].body.size(), 67u);
  EXPECT_TRUE(hangup_frames(p.frames).empty());
}

TEST(EslFrameCaptures, NeventsocketEx3OriginatorCancel) {
  const Parsed p = parse_every_way(read_sample("esl_wire_outbound_neventsocket_ex3_originator_cancel.txt"));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.buffered, 0u);
  const std::vector<std::string> expected = {kReply, kReply, kReply, kReply, kPlain,      kPlain, kPlain, kReply,
                                             kPlain, kReply, kReply, kPlain, kApi,        kReply, kPlain, kPlain,
                                             kPlain, kPlain, kPlain, kPlain, kDisconnect, kReply};
  EXPECT_EQ(content_types(p.frames), expected);
  EXPECT_TRUE(hangup_frames(p.frames).empty());
}

TEST(EslFrameCaptures, NeventsocketEx5CallRejected) {
  const Parsed p = parse_every_way(read_sample("esl_wire_outbound_neventsocket_ex5_call_rejected.txt"));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.buffered, 0u);
  const std::vector<std::string> expected = {
      kReply, kReply, kReply, kReply, kPlain, kPlain, kPlain, kReply, kPlain, kReply,      kReply, kPlain, kApi,
      kReply, kPlain, kPlain, kPlain, kPlain, kReply, kPlain, kApi,   kPlain, kDisconnect, kPlain, kReply};
  EXPECT_EQ(content_types(p.frames), expected);
  EXPECT_TRUE(hangup_frames(p.frames).empty());
}

TEST(EslFrameCaptures, ScalaeslLingerThenHangupComplete) {
  const Parsed p = parse_every_way(read_sample("esl_wire_outbound_scalaesl_linger_hangup_complete.txt"));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.buffered, 0u);
  EXPECT_EQ(content_types(p.frames), (std::vector<std::string>{kPlain, kPlain, kPlain, kPlain, kDisconnect, kPlain}));
  EXPECT_EQ(p.frames[4].header("Content-Disposition"), "linger");
  EXPECT_EQ(p.frames[5].body.size(), 10021u);
  EXPECT_EQ(hangup_frames(p.frames), std::vector<size_t>{5});
}

TEST(EslFrame, RepeatedHeadersCrlfAndNoBodyWithoutContentLength) {
  const Parsed p = parse_whole(
      "Content-Type: auth/request\r\n\r\n"
      "Content-Type: command/reply\nReply-Text: +OK accepted\nX-Dup: 1\nX-Dup: 2\n\n"
      "Content-Type: api/response\nContent-Length: 3\n\nab\n"
      "Content-Type: text/disconnect-notice\nContent-Length: 0\n\n");
  ASSERT_TRUE(p.ok) << p.error;
  ASSERT_EQ(p.frames.size(), 4u);
  EXPECT_EQ(p.frames[0].content_type(), "auth/request");
  EXPECT_EQ(p.frames[0].body, "");
  EXPECT_EQ(p.frames[1].header("Reply-Text"), "+OK accepted");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Content-Type", "command/reply"}, {"Reply-Text", "+OK accepted"}, {"X-Dup", "1"}, {"X-Dup", "2"}};
  EXPECT_EQ(p.frames[1].headers, expected);
  EXPECT_EQ(p.frames[1].header("X-Dup"), "1");
  EXPECT_EQ(p.frames[2].body, "ab\n");
  EXPECT_EQ(p.frames[3].content_type(), "text/disconnect-notice");
  EXPECT_EQ(p.frames[3].body, "");
}

TEST(EslFrame, BufferedCountsAnIncompleteFrame) {
  EslFrameParser parser;
  std::vector<EslFrame> frames;
  std::string error;
  // 46 header bytes ("Content-Type: api/response\nContent-Length: 5\n\n" is 27 + 18 + 1) and 2 of 5 body bytes.
  ASSERT_TRUE(parser.feed("Content-Type: api/response\nContent-Length: 5\n\nab", &frames, &error));
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(parser.buffered(), 48u);
  ASSERT_TRUE(parser.feed("cde", &frames, &error));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, "abcde");
  EXPECT_EQ(parser.buffered(), 0u);
}

void expect_protocol_error(const std::string& bytes, const std::string& expected, EslFrameLimits limits = {},
                           size_t frames_before = 0) {
  for (const Parsed& p : {parse_whole(bytes, limits), parse_in_chunks(bytes, {1}, limits)}) {
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error, expected);
    EXPECT_EQ(p.frames.size(), frames_before);
  }
}

TEST(EslFrameErrors, BadContentLength) {
  // The frame after a 29-byte one starts at offset 29.
  const std::string first = "Content-Type: command/reply\n\n";
  expect_protocol_error(first + "Content-Type: api/response\nContent-Length: 12a\n\n",
                        "bad Content-Length '12a' in the frame at stream offset 29", {}, 1);
  expect_protocol_error("Content-Length: -1\n\n", "bad Content-Length '-1' in the frame at stream offset 0");
  expect_protocol_error("Content-Length:\n\n", "bad Content-Length '' in the frame at stream offset 0");
  expect_protocol_error("Content-Length: 99999999999999999999999\n\n",
                        "bad Content-Length '99999999999999999999999' in the frame at stream offset 0");
  expect_protocol_error("Content-Length: 2\nContent-Length: 3\n\nabc",
                        "conflicting Content-Length headers in the frame at stream offset 0");
}

TEST(EslFrameErrors, OverTheLimits) {
  EslFrameLimits limits;
  limits.max_header_bytes = 32;
  limits.max_body_bytes = 10;
  expect_protocol_error("Content-Length: 11\n\n",
                        "Content-Length 11 over the limit of 10 bytes in the frame at stream offset 0", limits);
  // Complete lines past 32 bytes: "Content-Type: command/reply\n" (28) + "Reply-Text: +OK\n" (16).
  expect_protocol_error("Content-Type: command/reply\nReply-Text: +OK\n\n",
                        "ESL header block over 32 bytes in the frame at stream offset 0", limits);
  // One endless line, no newline at all.
  expect_protocol_error(std::string(33, 'x'), "ESL header block over 32 bytes in the frame at stream offset 0", limits);
  // Exactly at the limits is fine: a 10-byte body, a 32-byte header block.
  const Parsed p = parse_whole("Content-Length: 10\nX-Pad: 12345\n\n0123456789", limits);
  ASSERT_TRUE(p.ok) << p.error;
  ASSERT_EQ(p.frames.size(), 1u);
  EXPECT_EQ(p.frames[0].body, "0123456789");
}

// Found by fuzz/esl_frame_fuzzer: a header block at the limit whose ending
// CRLF arrived split was refused (the held '\r' was counted), while the same
// bytes in one piece passed.
TEST(EslFrameErrors, TheLimitHoldsTheSameHoweverTheBlockIsSplit) {
  EslFrameLimits limits;
  limits.max_header_bytes = 32;
  // "Content-Length: 0\r\n" (19) + "X-Pad: 1234\r\n" (13) = 32 bytes, then the empty line.
  const std::string at_limit = "Content-Length: 0\r\nX-Pad: 1234\r\n\r\n";
  for (const std::vector<size_t>& sizes :
       {std::vector<size_t>{at_limit.size()}, std::vector<size_t>{1}, std::vector<size_t>{at_limit.size() - 1, 1}}) {
    const Parsed p = parse_in_chunks(at_limit, sizes, limits);
    ASSERT_TRUE(p.ok) << p.error;
    ASSERT_EQ(p.frames.size(), 1u);
    EXPECT_EQ(p.frames[0].header("X-Pad"), "1234");
  }
  const std::string over = "Content-Length: 0\r\nX-Pad: 12345\r\n\r\n";
  for (const std::vector<size_t>& sizes : {std::vector<size_t>{over.size()}, std::vector<size_t>{1}}) {
    const Parsed p = parse_in_chunks(over, sizes, limits);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error, "ESL header block over 32 bytes in the frame at stream offset 0");
  }
}

TEST(EslFrameErrors, LineWithoutColonAndStaysFailed) {
  // "Content-Type: command/reply\n" is 28 bytes: the bad line starts at offset 28.
  expect_protocol_error("Content-Type: command/reply\nReply-Text +OK\n\n",
                        "ESL header line without ':' at stream offset 28: 'Reply-Text +OK'");
  EslFrameParser parser;
  std::vector<EslFrame> frames;
  std::string error;
  EXPECT_FALSE(parser.feed("garbage\n", &frames, &error));
  EXPECT_EQ(error, "ESL header line without ':' at stream offset 0: 'garbage'");
  EXPECT_FALSE(parser.feed("Content-Type: auth/request\n\n", &frames, &error));
  EXPECT_EQ(error, "the ESL stream had a protocol error earlier; a new connection needs a new parser");
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(parser.buffered(), 0u);
}

}  // namespace
}  // namespace cdrd::test
