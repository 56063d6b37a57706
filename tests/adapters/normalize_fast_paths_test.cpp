// The fast paths of the FreeSWITCH normalizers (issue 14): word-at-a-time
// byte scans, percent-decoding into a buffer, the hashed channel variables,
// the event headers kept as spans of one buffer, the JSON CDR parsed with
// SAX events (variables straight into the index, only callflow and friends
// into a DOM), and the frame parser reading a whole read without copying it
// first. Each case sits where a word, a block or a buffer ends.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "adapters/freeswitch/byte_scan.h"
#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/esl_frame.h"
#include "adapters/freeswitch/percent_decode.h"
#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

// The byte scans' contracts, one byte at a time.
size_t naive_json_plain_run(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) >= 0x20 && s[i] != '"' && s[i] != '\\') ++i;
  return i;
}

size_t naive_ascii_run(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80 && s[i] != '\0') ++i;
  return i;
}

TEST(ByteScan, StopsAtTheFirstSpecialByteWhereverItIs) {
  // Every length up to 40 (words of 8 and blocks of 16 and their tails) with
  // each kind of stop byte at each position.
  for (size_t size = 0; size <= 40; ++size) {
    for (size_t at = 0; at <= size; ++at) {
      for (char stop : {'"', '\\', '\n', '\x1F', '\0', '%', ':', '\xC3'}) {
        std::string text(size, 'a');
        if (at < size) text[at] = stop;
        const bool json_stop = stop == '"' || stop == '\\' || static_cast<unsigned char>(stop) < 0x20;
        const bool ascii_stop = stop == '\0' || static_cast<unsigned char>(stop) >= 0x80;
        const size_t want_json = at < size && json_stop ? at : size;
        ASSERT_EQ(byte_scan::json_plain_run(text.data(), text.size()), want_json) << size << " " << at;
        ASSERT_EQ(naive_json_plain_run(text), want_json);
        const size_t want_ascii = at < size && ascii_stop ? at : size;
        ASSERT_EQ(byte_scan::ascii_run(text.data(), text.size()), want_ascii) << size << " " << at;
        ASSERT_EQ(naive_ascii_run(text), want_ascii);
        const size_t want_find = at < size ? at : size;
        ASSERT_EQ(byte_scan::find_byte(text.data(), text.size(), stop), want_find);
        // The padded form stops at the terminating NUL at the latest.
        std::string padded = text;
        padded.append(byte_scan::kScanPadding, '\0');
        const size_t want_padded = json_stop && at < size ? at : size;
        ASSERT_EQ(byte_scan::json_plain_run_padded(padded.data()), want_padded) << size << " " << at;
      }
    }
  }
}

TEST(ByteScan, BytesAboveAsciiAreNoJsonStop) {
  // UTF-8 needs no escape: "é" twice then a quote at 20.
  const std::string text = "\xC3\xA9\xC3\xA9 0123456789abcdef\"x";
  EXPECT_EQ(byte_scan::json_plain_run(text.data(), text.size()), 21u);
  EXPECT_EQ(byte_scan::ascii_run(text.data(), text.size()), 0u);
}

std::string decode_to(std::string_view text) {
  std::string out(text.size(), '\0');
  out.resize(percent_decode_to(text, out.data()));
  return out;
}

TEST(PercentDecodeTo, DecodesWhereverTheEscapeFalls) {
  EXPECT_EQ(decode_to(""), "");
  EXPECT_EQ(decode_to("a%20b"), "a b");
  EXPECT_EQ(decode_to("%2B+"), "++");  // '+' stays a plus
  EXPECT_EQ(decode_to("100%"), "100%");
  EXPECT_EQ(decode_to("%4"), "%4");
  EXPECT_EQ(decode_to("%zz%4g%%41"), "%zz%4g%A");
  // An escape across the end of the first eight bytes, and one that ends the text.
  EXPECT_EQ(decode_to("1234567%41bcdefgh%4"), "1234567Abcdefgh%4");
  EXPECT_EQ(decode_to("12345678%41"), "12345678A");
  EXPECT_EQ(decode_to("123456%4"), "123456%4");
  EXPECT_EQ(decode_to("abcdefgh%0D%0Aijklmnop%0D%0A"), "abcdefgh\r\nijklmnop\r\n");
  EXPECT_EQ(decode_to("%e2%82%ac%E2%82%AC"), "\xE2\x82\xAC\xE2\x82\xAC");
  EXPECT_EQ(decode_to(std::string("a%00b", 5)), std::string("a\0b", 3));
}

TEST(PercentDecodeTo, SameAsTheInPlaceDecoder) {
  // Every placement of an escape, a broken escape and a lone '%' in texts of 0..24 bytes.
  for (size_t size = 0; size <= 24; ++size) {
    for (size_t at = 0; at < size; ++at) {
      for (std::string_view insert : {"%41", "%4", "%", "%G1", "%2b"}) {
        std::string text(size, 'x');
        text.replace(at, std::min(insert.size(), size - at), insert.substr(0, size - at));
        std::string in_place = text;
        in_place.resize(percent_decode_in_place(in_place.data(), in_place.size(), PlusMeans::kPlus));
        ASSERT_EQ(decode_to(text), in_place) << text;
      }
    }
  }
}

ChannelVariables sealed(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  ChannelVariables v;
  for (const auto& [name, value] : pairs) v.add(name, value);
  v.seal();
  return v;
}

TEST(ChannelVariablesIndex, FindsNamesOfEveryLength) {
  // Names of 1 to 40 bytes that differ only in their middle, their last
  // byte or their length: the hash reads the first, middle and last eight.
  std::vector<std::string> names;
  for (size_t size = 1; size <= 40; ++size) {
    names.push_back(std::string(size, 'n'));
    std::string middle(size, 'n');
    middle[size / 2] = 'm';
    names.push_back(middle);
    std::string last(size, 'n');
    last.back() = 'l';
    names.push_back(last);
  }
  std::vector<std::string> values;  // the index keeps views: the values must outlive it
  values.reserve(names.size());
  ChannelVariables v;
  for (const std::string& name : names) v.add(name, values.emplace_back(name + "=v"));
  v.seal();
  for (const std::string& name : names) EXPECT_EQ(v.get(name), name + "=v") << name;
  EXPECT_EQ(v.get(std::string(41, 'n')), "");
  EXPECT_EQ(v.get(""), "");
}

TEST(ChannelVariablesIndex, FirstAddedWinsAndLookalikesStayApart) {
  const ChannelVariables v =
      sealed({{"rtp_audio_in_jitter_min_variance", "min"},
              {"rtp_audio_in_jitter_max_variance", "max"},  // same length, first and last eight bytes
              {"uuid", "first"},
              {"uuid", "second"},
              {std::string_view("a\0b", 3), "with NUL"},
              {"a", "short"}});
  EXPECT_EQ(v.get("rtp_audio_in_jitter_min_variance"), "min");
  EXPECT_EQ(v.get("rtp_audio_in_jitter_max_variance"), "max");
  EXPECT_EQ(v.get("uuid"), "first");
  EXPECT_EQ(v.get(std::string_view("a\0b", 3)), "with NUL");
  EXPECT_EQ(v.get("a"), "short");
  EXPECT_EQ(v.get(std::string_view("a\0", 2)), "");
  EXPECT_EQ(ChannelVariables().get("uuid"), "");  // never sealed, nothing added
}

TEST(ChannelVariablesIndex, WithPrefixInNameOrderFirstAddedWins) {
  const ChannelVariables v = sealed({{"ecallmgr_Owner-ID", "o1"},
                                     {"ecallmgr_Account-ID", "a1"},
                                     {"ecallmgr_", "bare"},
                                     {"ecallmgr_Owner-ID", "o2"},
                                     {"ecallmgr", "no underscore"},
                                     {"ecallmgX_Owner-ID", "eighth byte differs"},
                                     {"ecallmgrXOwner-ID", "ninth byte differs"},
                                     {"sip_h_X", "x"},
                                     {"sip_i_", "i"},
                                     {"s", "short"}});
  using Entries = std::vector<ChannelVariables::Entry>;
  EXPECT_EQ(v.with_prefix("ecallmgr_"),
            (Entries{{"ecallmgr_", "bare"}, {"ecallmgr_Account-ID", "a1"}, {"ecallmgr_Owner-ID", "o1"}}));
  EXPECT_EQ(v.with_prefix("sip_"), (Entries{{"sip_h_X", "x"}, {"sip_i_", "i"}}));
  EXPECT_EQ(v.with_prefix("sip_rh_"), Entries{});
  EXPECT_EQ(v.with_prefix("s").size(), 3u);
  EXPECT_EQ(v.with_prefix("").size(), 9u);  // every distinct name
}

TEST(EslHeadersStorage, CopiesAndGrowsKeepEveryHeader) {
  EslHeaders headers;
  // No reserve(): the text and the spans grow as headers come.
  for (int i = 0; i < 500; ++i) {
    headers.add_percent_decoded("H-" + std::to_string(i), "v%20" + std::to_string(i));
  }
  headers.add("Empty", "");
  ASSERT_EQ(headers.size(), 501u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"H-0", "v 0"}));
  EXPECT_EQ(headers[499], (std::pair<std::string, std::string>{"H-499", "v 499"}));
  EXPECT_EQ(headers[500], (std::pair<std::string, std::string>{"Empty", ""}));
  const EslHeaders copy = headers;
  EXPECT_EQ(copy, headers);
  EslHeaders assigned;
  assigned.add("Other", "x");
  assigned = copy;
  EXPECT_EQ(assigned, headers);
  assigned.add("One-More", "y");
  EXPECT_NE(assigned, headers);
  EXPECT_EQ(headers.size(), 501u);  // the copy does not share the original's buffer
  EslHeaders moved = std::move(assigned);
  EXPECT_EQ(moved.size(), 502u);
  EXPECT_EQ(moved.name(501), "One-More");
  EXPECT_EQ(moved.value(501), "y");
}

TEST(EslHeadersStorage, EventCopiesOutliveTheOriginal) {
  std::vector<EslEvent> events;
  {
    EslFrame frame;
    frame.headers = {{"Content-Type", "text/event-plain"}};
    frame.body = "Event-Name: CHANNEL_HANGUP_COMPLETE\nvariable_sip_from_user: %2B3120%205\n\n";
    EslEvent event;
    std::string error;
    ASSERT_TRUE(parse_esl_event(frame, &event, &error)) << error;
    events.push_back(event);
  }
  EXPECT_EQ(events[0].header("variable_sip_from_user"), "+3120 5");
  EXPECT_EQ(events[0].name(), "CHANNEL_HANGUP_COMPLETE");
}

// A mod_json_cdr document with `members` before a minimal variables object
// and `extra_variables` first in it.
std::string cdr(const std::string& members, const std::string& extra_variables = "") {
  return "{" + members + "\"variables\": {" + extra_variables +
         "\"uuid\": \"u-1\", \"start_uepoch\": \"1515666344534355\", \"end_uepoch\": \"1515666415494269\"}}";
}

TEST(JsonCdrSaxFilter, MinimalDocument) {
  const Record r = normalize_text(cdr(""));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("id"), "201801-u-1");
  EXPECT_EQ(r.str("started_at"), "2018-01-11T10:25:44.534355Z");
  EXPECT_EQ(r.str("ended_at"), "2018-01-11T10:26:55.494269Z");
  EXPECT_EQ(r.num("duration_seconds"), 71);
  EXPECT_EQ(r.str("source"), "json_cdr");
}

TEST(JsonCdrSaxFilter, TheFirstVariablesObjectIsTheOne) {
  const Record r = normalize_text(cdr("") + "x");  // garbage after the root: refused
  EXPECT_FALSE(r.ok());
  const std::string twice =
      "{\"variables\": {\"uuid\": \"u-1\", \"start_uepoch\": \"1515666344534355\", "
      "\"end_uepoch\": \"1515666415494269\"}, \"variables\": {\"uuid\": \"u-2\", "
      "\"caller_id_name\": \"late\"}}";
  const Record first = normalize_text(twice);
  ASSERT_TRUE(first.ok()) << first.result().error.message;
  EXPECT_EQ(first.str("call_id"), "u-1");
  EXPECT_EQ(first.str("caller_id_name"), "<absent>");
  // A first "variables" that is no object refuses the CDR even when a later one is.
  const NormalizeResult refused = normalize_json_cdr("{\"variables\": [], " + cdr("").substr(1), default_options());
  EXPECT_EQ(refused.error.code, "invalid_json");
  EXPECT_EQ(refused.error.message, "variables is not a JSON object");
}

TEST(JsonCdrSaxFilter, VariableValuesOfEveryType) {
  // Objects and arrays among the variables are skipped with all they hold;
  // true is "true"; a number is its text; null is nothing.
  const Record r =
      normalize_text(cdr("",
                         "\"nested\": {\"sip_call_id\": \"leak\", \"deeper\": [{\"accountcode\": \"leak\"}]}, "
                         "\"list\": [\"presence_id\", \"leak\"], \"is_loopback\": true, \"hangup_cause_q850\": 16, "
                         "\"digits_dialed\": null, \"caller_id_name\": \"Alice\", "));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("caller_id_name"), "Alice");
  EXPECT_EQ(r.str("sip_call_id"), "<absent>");
  EXPECT_EQ(r.str("accountcode"), "<absent>");
  EXPECT_EQ(r.str("presence_id"), "<absent>");
  EXPECT_EQ(r.str("digits_dialed"), "<absent>");
  EXPECT_TRUE(r.has("is_loopback"));
  EXPECT_EQ(r.num("hangup_cause_q850"), 16);
}

TEST(JsonCdrSaxFilter, EscapedStringsAcrossWordsAndBlocks) {
  // JSON escapes at offsets 0, 7, 8, 15, 16 and 17 of values parsed in place.
  const Record r = normalize_text(
      cdr("", R"("caller_id_name": "\"bcdefg\\ijklmno\u00e9qr\/", "callee_id_name": "0123456789abcdef\tz", )"
              R"("sip_user_agent": "\u20ac", )"));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("caller_id_name"), "\"bcdefg\\ijklmno\xC3\xA9qr/");
  EXPECT_EQ(r.str("callee_id_name"), "0123456789abcdef\tz");
  EXPECT_EQ(r.str("user_agent"), "\xE2\x82\xAC");
  // The writer escapes them again: \" \\ \t, and the rest as they are.
  const std::string& json = r.result().record.json;
  EXPECT_NE(json.find(R"("caller_id_name":"\"bcdefg\\ijklmno)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("callee_id_name":"0123456789abcdef\tz")"), std::string::npos) << json;
}

TEST(JsonCdrSaxFilter, ForwardedMembersKeepTheirOldRules) {
  // switchname: the last string wins, a number is a string; channel_data:
  // the last object, and there its first "direction" only when a string.
  const Record r = normalize_text(
      cdr("\"switchname\": \"a\", \"switchname\": 7, \"switchname\": null, \"callStats\": {\"audio\": [1, 2]}, "
          "\"channel_data\": {\"direction\": \"inbound\"}, \"channel_data\": {\"direction\": null, \"direction\": "
          "\"outbound\"}, "));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("media_server"), "7");
  EXPECT_EQ(r.str("call_direction"), "<absent>");
  const Record last =
      normalize_text(cdr("\"channel_data\": {\"direction\": null}, \"channel_data\": {\"direction\": \"outbound\"}, "));
  EXPECT_EQ(last.str("call_direction"), "outbound");
}

TEST(JsonCdrSaxFilter, ParseErrorsInDroppedMembersKeepTheirOffset) {
  // The error is at the '}' after "tru": offset 23, as when the whole
  // document was a DOM.
  const NormalizeResult r = normalize_json_cdr("{\"callStats\": {\"x\": tru}}", default_options());
  EXPECT_EQ(r.error.code, "invalid_json");
  EXPECT_EQ(r.error.message, "JSON parse error at offset 23: Invalid value.");
  // One after a complete variables object still refuses the document: the
  // ',' right after "[" of app_log is byte 113 of
  // {"variables": {...}, "app_log": [,]}.
  std::string late_error = cdr("");
  late_error.insert(late_error.size() - 1, ", \"app_log\": [,]");
  const NormalizeResult late = normalize_json_cdr(late_error, default_options());
  EXPECT_EQ(late.error.message, "JSON parse error at offset 113: Invalid value.");
}

// Frames read straight from one feed() call, held only when incomplete.
struct Fed {
  std::vector<EslFrame> frames;
  std::string error;
  bool ok = true;
};

TEST(EslFrameParserReads, WholeFramesFromOneReadAndTheRestHeld) {
  const std::string first = "Content-Type: command/reply\nReply-Text: +OK\n\n";
  const std::string second = "Content-Length: 5\nContent-Type: api/response\n\nhello";
  const std::string third = "Content-Length: 4\nContent-Type: api/response\n\nbye!";
  EslFrameParser parser;
  Fed fed;
  fed.ok = parser.feed(first + second + third.substr(0, 20), &fed.frames, &fed.error);
  ASSERT_TRUE(fed.ok) << fed.error;
  ASSERT_EQ(fed.frames.size(), 2u);
  EXPECT_EQ(fed.frames[0].header("Reply-Text"), "+OK");
  EXPECT_EQ(fed.frames[1].body, "hello");
  EXPECT_EQ(parser.buffered(), 20u);
  ASSERT_TRUE(parser.feed(third.substr(20), &fed.frames, &fed.error)) << fed.error;
  ASSERT_EQ(fed.frames.size(), 3u);
  EXPECT_EQ(fed.frames[2].body, "bye!");
  EXPECT_EQ(parser.buffered(), 0u);
  // Stream offsets go on from what was read straight: the bad line starts
  // at byte 45 + 51 + 50 = 146.
  EXPECT_FALSE(parser.feed("no colon\n", &fed.frames, &fed.error));
  EXPECT_EQ(fed.error, "ESL header line without ':' at stream offset 146: 'no colon'");
}

}  // namespace
}  // namespace cdrd::test
