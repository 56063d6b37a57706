// The CDR CSV format: the column table, RFC 4180 quoting, the reader, and
// the round trip record -> row -> record that export + import rely on.
#include "adapters/canonical/cdr_csv.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace cdrd {
namespace {

std::vector<std::string> header_names() {
  std::vector<std::string> names;
  for (const auto& c : cdr_csv_columns()) names.emplace_back(c.name);
  return names;
}

size_t column_index(const std::string& name) {
  const auto names = header_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
  }
  return names.size();
}

std::vector<CsvRow> read_all(const std::string& text, std::string* error) {
  CsvReader reader(text);
  std::vector<CsvRow> rows;
  CsvRow row;
  while (reader.next(&row, error)) rows.push_back(row);
  return rows;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json);
  return doc;
}

// A record with every kind of value the format must carry.
const char* const kRecord = R"({
  "id": "201801-3da8bf84", "call_id": "3da8bf84", "account_id": "acct-a",
  "timestamp": 63682885615, "channel_created_time": 1515666344534355,
  "duration_seconds": 31, "billing_seconds": 30, "ringing_seconds": 1,
  "caller_id_name": "Smith, \"Bob\"", "caller_id_number": "1001",
  "callee_id_number": "442079460000", "hangup_cause": "NORMAL_CLEARING",
  "local_sdp": "v=0\r\no=FreeSWITCH 1 2 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\n",
  "remote_sdp": "v=0\nc=IN IP4 192.0.2.7\n",
  "user_agent": "Zoïper 5 — ☎",
  "custom_channel_vars": {"owner_id": "o-1", "note": "a,b \"c\"\nd"},
  "custom_sip_headers": {"x_foo": "bar"},
  "started_at": "2018-01-11T10:25:44.534355Z",
  "billing_status": "answered", "leg": "A", "source": "json_cdr",
  "imported": true, "is_loopback": true,
  "media_server_ip": "10.0.0.1", "sip_network_ip": "198.51.100.4",
  "local_rtp_ip": "10.0.0.1", "remote_rtp_ip": "192.0.2.7",
  "rang_at": "2018-01-11T10:25:44.594267Z", "sip_call_id": "818e26f8@0:0:0:0:0:0:0:0",
  "hangup_disposition": "send_bye", "hangup_cause_q850": 16, "sip_term_phrase": "OK",
  "sip_network_port": 5060, "sip_transport": "udp", "accountcode": "1001", "trunk": "carrier-a",
  "recording_url": "https://rec.example/a,b.mp3", "answered_by": "human",
  "transfer": [{"time": "2018-01-11T10:25:44.000000Z", "uuid": "b4300942", "kind": "bl_xfer",
                "destination": "1002/default/XML"}, {"kind": "refer", "destination": "<sip:1004@h>"}],
  "caller_e164": "+33170363950", "callee_e164": "+442079460000",
  "destination": {"name": "United Kingdom", "country": "GB", "type": "fixed_line"},
  "related_call_ids": ["a-1", "b-2"],
  "direction_class": "outbound",
  "rating": {"customer": {"deck": "retail", "prefix": "4420", "charge": "0.023", "billed_seconds": 96,
                          "currency": "USD"}, "vendor": {"status": "unrated", "reason": "no deck"}}
})";

TEST(CdrCsvTest, HeaderListsEveryColumnInTableOrder) {
  const std::string header = cdr_csv_header();
  ASSERT_GE(header.size(), 2u);
  EXPECT_EQ(header.substr(header.size() - 2), "\r\n");
  EXPECT_EQ(header.compare(0, 36, "id,call_id,account_id,timestamp,chan"), 0);
  std::string error;
  const auto rows = read_all(header, &error);
  ASSERT_EQ(rows.size(), 1u) << error;
  EXPECT_EQ(rows[0].fields, header_names());
  // 62 columns before issue 12, then its 16 billing details, then the
  // call's class and the rating the writer adds.
  EXPECT_EQ(cdr_csv_columns().size(), 80u);
  EXPECT_EQ(cdr_csv_columns()[61].name, "remote_rtp_ip");
  EXPECT_EQ(cdr_csv_columns()[62].name, "rang_at");
  EXPECT_EQ(cdr_csv_columns()[77].name, "related_call_ids");
  EXPECT_EQ(cdr_csv_columns()[78].name, "direction_class");
  EXPECT_EQ(cdr_csv_columns().back().name, "rating");
  EXPECT_LT(column_index("custom_channel_vars"), column_index("started_at"));
}

TEST(CdrCsvTest, QuotesOnlyWhatNeedsQuoting) {
  std::string line;
  ASSERT_TRUE(append_cdr_csv_row(kRecord, &line));
  EXPECT_EQ(line.compare(0, 54, "201801-3da8bf84,3da8bf84,acct-a,63682885615,1515666344"), 0);
  EXPECT_NE(line.find(",\"Smith, \"\"Bob\"\"\",1001,"), std::string::npos);
  EXPECT_NE(line.find(",\"v=0\r\no=FreeSWITCH 1 2 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\n\","), std::string::npos);
  EXPECT_NE(line.find(",Zoïper 5 — ☎,"), std::string::npos);
  EXPECT_NE(line.find(",\"{\"\"owner_id\"\":\"\"o-1\"\",\"\"note\"\":\"\"a,b \\\"\"c\\\"\"\\nd\"\"}\","),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(",answered,A,,json_cdr,true,true,10.0.0.1,198.51.100.4,10.0.0.1,192.0.2.7,"), std::string::npos)
      << line;
  // The billing details; objects and lists are their JSON text, as custom_channel_vars.
  EXPECT_NE(
      line.find(
          ",2018-01-11T10:25:44.594267Z,818e26f8@0:0:0:0:0:0:0:0,send_bye,16,OK,5060,udp,1001,carrier-a,"
          "\"https://rec.example/a,b.mp3\",human,"
          "\"[{\"\"time\"\":\"\"2018-01-11T10:25:44.000000Z\"\",\"\"uuid\"\":\"\"b4300942\"\",\"\"kind\"\":"
          "\"\"bl_xfer\"\",\"\"destination\"\":\"\"1002/default/XML\"\"},{\"\"kind\"\":\"\"refer\"\","
          "\"\"destination\"\":\"\"<sip:1004@h>\"\"}]\",+33170363950,+442079460000,"
          "\"{\"\"name\"\":\"\"United Kingdom\"\",\"\"country\"\":\"\"GB\"\",\"\"type\"\":\"\"fixed_line\"\"}\","
          "\"[\"\"a-1\"\",\"\"b-2\"\"]\",outbound,"
          "\"{\"\"customer\"\":{\"\"deck\"\":\"\"retail\"\",\"\"prefix\"\":\"\"4420\"\",\"\"charge\"\":\"\"0.023\"\","
          "\"\"billed_seconds\"\":96,\"\"currency\"\":\"\"USD\"\"},\"\"vendor\"\":{\"\"status\"\":\"\"unrated\"\","
          "\"\"reason\"\":\"\"no deck\"\"}}\"\r\n"),
      std::string::npos)
      << line;
}

TEST(CdrCsvTest, AbsentFieldsAreEmptyCells) {
  std::string line;
  ASSERT_TRUE(append_cdr_csv_row(R"({"id":"x","timestamp":5})", &line));
  EXPECT_EQ(line, "x,,,5" + std::string(cdr_csv_columns().size() - 4, ',') + "\r\n");
}

TEST(CdrCsvTest, RefusesWhatIsNotAnObjectAndLeavesOutputAlone) {
  std::string line = "kept";
  EXPECT_FALSE(append_cdr_csv_row("[1,2]", &line));
  EXPECT_FALSE(append_cdr_csv_row("{\"id\":", &line));
  EXPECT_EQ(line, "kept");
}

TEST(CdrCsvTest, RoundTripGivesTheSameRecord) {
  std::string text = cdr_csv_header();
  ASSERT_TRUE(append_cdr_csv_row(kRecord, &text));
  ASSERT_TRUE(append_cdr_csv_row(R"({"id":"second","billing_seconds":0})", &text));
  std::string error;
  const auto rows = read_all(text, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].line, 8u);  // the quoted SDPs hold 5 line breaks
  std::string json;
  ASSERT_TRUE(cdr_csv_row_to_json(rows[0].fields, rows[1].fields, &json, &error)) << error;
  EXPECT_EQ(parse(json), parse(kRecord)) << json;
  ASSERT_TRUE(cdr_csv_row_to_json(rows[0].fields, rows[2].fields, &json, &error)) << error;
  EXPECT_EQ(parse(json), parse(R"({"id":"second","billing_seconds":0})")) << json;
}

TEST(CdrCsvTest, ReaderTakesLfLineEndsBomAndASubsetOfColumnsInAnyOrder) {
  const std::string text =
      "\xEF\xBB\xBFleg,id,duration_seconds,imported,custom_channel_vars\n"
      "B,r1,7,false,\"{\"\"k\"\":\"\"v\"\"}\"\n\n";
  std::string error;
  const auto rows = read_all(text, &error);
  ASSERT_EQ(rows.size(), 2u) << error;
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(rows[0].fields[0], "leg");
  std::string json;
  ASSERT_TRUE(cdr_csv_row_to_json(rows[0].fields, rows[1].fields, &json, &error)) << error;
  // false is left out: the record carries these flags only when true.
  EXPECT_EQ(parse(json), parse(R"({"leg":"B","id":"r1","duration_seconds":7,"custom_channel_vars":{"k":"v"}})"));
}

TEST(CdrCsvTest, MalformedTextNamesTheLine) {
  std::string error;
  read_all("id,leg\r\nr1,A\r\n\"r2,B\r\n", &error);
  EXPECT_EQ(error, "line 3: a quoted field is not closed");
  read_all("id,leg\nr1,\"A\"x\n", &error);
  EXPECT_EQ(error, "line 2: a character follows the closing quote of field 2");
  read_all("id,leg\nr1,A\nr\"2,B\n", &error);
  EXPECT_EQ(error, "line 3: a quote inside unquoted field 1 (quote the field and double the quote)");
}

TEST(CdrCsvTest, BadRowsNameTheColumn) {
  std::string json, error;
  EXPECT_FALSE(cdr_csv_row_to_json({"id", "nope"}, {"a", "b"}, &json, &error));
  EXPECT_EQ(error, "column 'nope' is not a field of the CDR CSV format");
  EXPECT_FALSE(cdr_csv_row_to_json({"id", "billing_seconds"}, {"a", "12s"}, &json, &error));
  EXPECT_EQ(error, "column 'billing_seconds': expected an integer, got '12s'");
  EXPECT_FALSE(cdr_csv_row_to_json({"is_loopback"}, {"yes"}, &json, &error));
  EXPECT_EQ(error, "column 'is_loopback': expected true or false, got 'yes'");
  EXPECT_FALSE(cdr_csv_row_to_json({"custom_sip_headers"}, {"[1]"}, &json, &error));
  EXPECT_EQ(error, "column 'custom_sip_headers': expected a JSON object, got '[1]'");
  EXPECT_FALSE(cdr_csv_row_to_json({"related_call_ids"}, {"a-1 b-2"}, &json, &error));
  EXPECT_EQ(error, "column 'related_call_ids': expected a JSON list, got 'a-1 b-2'");
  EXPECT_FALSE(cdr_csv_row_to_json({"transfer"}, {"{}"}, &json, &error));
  EXPECT_EQ(error, "column 'transfer': expected a JSON list, got '{}'");
  EXPECT_FALSE(cdr_csv_row_to_json({"destination"}, {"[]"}, &json, &error));
  EXPECT_EQ(error, "column 'destination': expected a JSON object, got '[]'");
  EXPECT_FALSE(cdr_csv_row_to_json({"sip_network_port"}, {"udp"}, &json, &error));
  EXPECT_EQ(error, "column 'sip_network_port': expected an integer, got 'udp'");
  EXPECT_FALSE(cdr_csv_row_to_json({"id", "id"}, {"a", "b"}, &json, &error));
  EXPECT_EQ(error, "column 'id' appears twice in the header");
  EXPECT_FALSE(cdr_csv_row_to_json({"id", "leg"}, {"a"}, &json, &error));
  EXPECT_EQ(error, "the row has 1 fields; the header has 2");
}

}  // namespace
}  // namespace cdrd
