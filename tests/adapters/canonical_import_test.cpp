// POST /ingest/cdr bodies -> canonical records: formats, line numbers, the
// validation of each row, the account override and the id derivation.
#include "adapters/canonical/canonical_import.h"

#include "adapters/canonical/cdr_csv.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace cdrd {
namespace {

// 2018-01-01T00:00:05Z in Gregorian seconds: 1514764805 + 62167219200.
constexpr const char* kNewYear = "63681984005";

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

std::string str(const rapidjson::Value& obj, const char* name) {
  const auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "<absent>";
  return it->value.GetString();
}

std::string row(const std::string& call_id, const std::string& extra = "") {
  return R"({"call_id":")" + call_id + R"(","timestamp":)" + kNewYear + R"(,"account_id":"acc-a")" + extra + "}";
}

ImportBatch import(const std::string& body, const std::string& account = "", const std::string& content_type = "") {
  ImportOptions options;
  options.account_id = account;
  return parse_import_body(body, content_type, options);
}

std::vector<size_t> lines_of(const std::vector<ImportedRow>& rows) {
  std::vector<size_t> lines;
  lines.reserve(rows.size());
  for (const auto& r : rows) lines.push_back(r.line);
  return lines;
}

std::vector<size_t> lines_of(const std::vector<RejectedRow>& rows) {
  std::vector<size_t> lines;
  lines.reserve(rows.size());
  for (const auto& r : rows) lines.push_back(r.line);
  return lines;
}

// The one row of a single-object body, or the rejection's "code: message".
std::string only_error(const std::string& record, const std::string& account = "") {
  const ImportBatch b = import(record, account);
  if (b.rejected.size() != 1 || !b.rows.empty()) return "<not exactly one rejection>";
  return b.rejected[0].code + ": " + b.rejected[0].message;
}

TEST(CanonicalImport, OneObjectIsStoredAsAnImportWithItsOwnText) {
  const std::string body = "\n\n" + row("c1", R"(,"id":"201801-c1","source":"json_cdr","extra":{"k":[1,2]})") + "\n";
  const ImportBatch b = import(body);
  EXPECT_EQ(b.format, ImportFormat::kJsonObject);
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_TRUE(b.rejected.empty());
  EXPECT_EQ(b.rows[0].line, 3u);
  EXPECT_EQ(b.rows[0].record.raw, row("c1", R"(,"id":"201801-c1","source":"json_cdr","extra":{"k":[1,2]})"));
  EXPECT_EQ(b.rows[0].record.raw_format, "json");
  const auto doc = parse(b.rows[0].record.json);
  EXPECT_EQ(str(doc, "id"), "201801-c1");
  EXPECT_EQ(str(doc, "source"), "import");
  EXPECT_TRUE(doc["imported"].GetBool());
  EXPECT_EQ(str(doc, "account_id"), "acc-a");
  EXPECT_EQ(str(doc["custom_channel_vars"], "account_id"), "acc-a");
  EXPECT_EQ(doc["timestamp"].GetInt64(), 63681984005);
  // Unknown fields are kept as they are.
  EXPECT_EQ(doc["extra"]["k"][1].GetInt(), 2);
}

TEST(CanonicalImport, ArrayElementsStartOnTheLineOfTheirBrace) {
  const std::string first =
      "{\n  \"call_id\": \"a1\",\n  \"timestamp\": " + std::string(kNewYear) + ",\n  \"account_id\": \"acc-a\"\n}";
  const std::string bad = "{\"call_id\": \"a2\",\n \"account_id\": \"acc-a\"}";
  // Line 1 "[", lines 2-6 `first`, 7 blank, 8-9 `bad` (then a3 on line 9), 10 "42".
  const std::string body = "[\n" + first + ",\n\n  " + bad + ", " + row("a3") + ",\n  42\n]\n";
  const ImportBatch b = import(body);
  EXPECT_EQ(b.format, ImportFormat::kJsonArray);
  ASSERT_EQ(b.rows.size(), 2u);
  EXPECT_EQ(lines_of(b.rows), (std::vector<size_t>{2, 9}));
  EXPECT_EQ(b.rows[0].record.raw, first);  // exactly the element's text
  EXPECT_EQ(b.rows[1].record.raw, row("a3"));
  EXPECT_EQ(str(parse(b.rows[1].record.json), "call_id"), "a3");
  ASSERT_EQ(b.rejected.size(), 2u);
  EXPECT_EQ(lines_of(b.rejected), (std::vector<size_t>{8, 10}));
  EXPECT_EQ(b.rejected[0].code, "missing_field");
  EXPECT_EQ(b.rejected[0].message, "timestamp: required (Gregorian seconds of the leg's end)");
  EXPECT_EQ(b.rejected[0].text, bad);
  EXPECT_EQ(b.rejected[1].code, "invalid_json");
  EXPECT_EQ(b.rejected[1].message, "array element is not a JSON object");
  EXPECT_EQ(b.rejected[1].text, "42");
}

TEST(CanonicalImport, AnArrayWithASyntaxErrorStoresNothing) {
  const ImportBatch b = import("[\n" + row("a1") + ",\n{\"call_id\": }\n]");
  EXPECT_EQ(b.format, ImportFormat::kJsonArray);
  EXPECT_TRUE(b.rows.empty());
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].line, 3u);
  EXPECT_EQ(b.rejected[0].code, "invalid_json");
  EXPECT_EQ(b.rejected[0].message, "not valid JSON at line 3, column 13: Invalid value.");
}

TEST(CanonicalImport, NdjsonRowsAreNumberedByLineAndBlankLinesSkipped) {
  const std::string body = row("n1") + "\r\n\r\n" + row("n2") + "\r\n{\"call_id\":\"n3\",\n" + row("n4") + "\n\n";
  const ImportBatch b = import(body);
  EXPECT_EQ(b.format, ImportFormat::kNdjson);
  EXPECT_EQ(lines_of(b.rows), (std::vector<size_t>{1, 3, 5}));
  EXPECT_EQ(b.rows[0].record.raw, row("n1"));  // without the CR
  EXPECT_EQ(str(parse(b.rows[2].record.json), "call_id"), "n4");
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].line, 4u);
  EXPECT_EQ(b.rejected[0].code, "invalid_json");
  EXPECT_EQ(b.rejected[0].text, "{\"call_id\":\"n3\",");
}

TEST(CanonicalImport, APrettyPrintedObjectWithAnErrorIsOneBadRow) {
  const ImportBatch b = import("{\n  \"call_id\": \"p1\",\n  \"timestamp\": 12x\n}");
  EXPECT_TRUE(b.rows.empty());
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].line, 1u);
  EXPECT_EQ(b.rejected[0].code, "invalid_json");
  EXPECT_EQ(b.rejected[0].message,
            "not valid JSON at line 3, column 18: Missing a comma or '}' after an object member.");
}

TEST(CanonicalImport, EveryValidationErrorNamesTheField) {
  const std::string ts = std::string(",\"timestamp\":") + kNewYear;
  const std::string acc = ",\"account_id\":\"acc-a\"";
  EXPECT_EQ(only_error("{\"timestamp\":1" + acc + "}"), "missing_field: call_id: required (the leg's uuid)");
  EXPECT_EQ(only_error("{\"call_id\":\"\"" + ts + acc + "}"), "missing_field: call_id: required (the leg's uuid)");
  EXPECT_EQ(only_error("{\"call_id\":7" + ts + acc + "}"), "invalid_value: call_id: expected a string, got an integer");
  EXPECT_EQ(only_error(R"({"call_id":"x","timestamp":"63681984005")" + acc + "}"),
            "invalid_value: timestamp: expected an integer, got a string");
  EXPECT_EQ(only_error(R"({"call_id":"x","timestamp":63681984005.5)" + acc + "}"),
            "invalid_value: timestamp: expected an integer, got a number that is not a 64-bit integer");
  EXPECT_EQ(only_error(R"({"call_id":"x","timestamp":62167219199)" + acc + "}"),
            "invalid_value: timestamp: 62167219199 is not Gregorian seconds from 1970 to 9999 (at least "
            "62167219200)");
  EXPECT_EQ(only_error(R"({"call_id":"x")" + ts + "}"),
            "missing_field: account_id: not at the top level nor in custom_channel_vars, and no ?account_id= was "
            "given");
  EXPECT_EQ(only_error(row("x", R"(,"id":"2018-01-x")")),
            "invalid_value: id: expected YYYYMM-<call id> (6 digits, a dash, the call id), got \"2018-01-x\"");
  EXPECT_EQ(only_error(row("x", R"(,"id":"201813-x")")),
            "invalid_value: id: expected YYYYMM-<call id> (6 digits, a dash, the call id), got \"201813-x\"");
  EXPECT_EQ(only_error(row("x", R"(,"id":"201801-")")),
            "invalid_value: id: expected YYYYMM-<call id> (6 digits, a dash, the call id), got \"201801-\"");
  EXPECT_EQ(only_error(row("x", R"(,"id":"201802-x")")),
            "invalid_value: id: its month 201802 is after the month of timestamp (201801); the id names the month "
            "the leg started");
  EXPECT_EQ(only_error(row("x", R"(,"duration_seconds":-1)")),
            "invalid_value: duration_seconds: expected an integer from 0 to 2147483647, got -1");
  EXPECT_EQ(only_error(row("x", R"(,"billing_seconds":"12")")),
            "invalid_value: billing_seconds: expected an integer from 0 to 2147483647, got a string");
  EXPECT_EQ(only_error(row("x", R"(,"channel_created_time":1.5e15)")),
            "invalid_value: channel_created_time: expected an integer, got a number that is not a 64-bit integer");
  EXPECT_EQ(only_error(row("x", R"(,"custom_sip_headers":{"X-A":1})")),
            "invalid_value: custom_sip_headers.X-A: expected a string, got an integer");
  EXPECT_EQ(only_error(row("x", R"(,"custom_channel_vars":["a"])")),
            "invalid_value: custom_channel_vars: expected an object, got an array");
  EXPECT_EQ(only_error(row("x", R"(,"is_loopback":"true")")),
            "invalid_value: is_loopback: expected a boolean, got a string");
  EXPECT_EQ(only_error(row("x", R"(,"answered_at":"2018-02-30T10:00:00Z")")),
            "invalid_value: answered_at: expected an ISO-8601 UTC time such as 2018-01-11T10:25:44.534355Z, got "
            "\"2018-02-30T10:00:00Z\"");
  EXPECT_EQ(only_error(row("x", R"(,"caller_id_name":["a"])")),
            "invalid_value: caller_id_name: expected a string, got an array");
  EXPECT_EQ(only_error(row("x", R"(,"extra":{"deep":"a\u0000b"})")),
            "invalid_value: extra.deep: holds U+0000, which PostgreSQL cannot store");
  EXPECT_EQ(only_error(row("x", ",\"caller_id_name\":\"bad \xC3\x28\"")),
            "invalid_json: not valid JSON at line 1, column 83: Invalid encoding in string.");
}

TEST(CanonicalImport, WellFormedTimesAndBoundsPass) {
  const ImportBatch b =
      import(row("x", R"(,"answered_at":"2016-02-29T23:59:59.123456Z","started_at":"2016-02-29T23:59:58Z",)"
                      R"("duration_seconds":2147483647,"channel_created_time":0)"));
  ASSERT_EQ(b.rows.size(), 1u) << (b.rejected.empty() ? "" : b.rejected[0].message);
  // channel_created_time 0 is 1970-01: the id's month comes from it.
  EXPECT_EQ(str(parse(b.rows[0].record.json), "id"), "197001-x");
}

TEST(CanonicalImport, NullsAndEmptyStringsOfKnownFieldsAreDropped) {
  const ImportBatch b = import(row("x", R"(,"hangup_cause":null,"caller_id_name":"","mine":null,"other":"")"));
  ASSERT_EQ(b.rows.size(), 1u);
  const auto doc = parse(b.rows[0].record.json);
  EXPECT_FALSE(doc.HasMember("hangup_cause"));
  EXPECT_FALSE(doc.HasMember("caller_id_name"));
  EXPECT_TRUE(doc["mine"].IsNull());  // unknown fields are not ours to judge
  EXPECT_EQ(str(doc, "other"), "");
}

TEST(CanonicalImport, TheQueryAccountOverridesBothPlaces) {
  const ImportBatch b =
      import(R"({"call_id":"o1","timestamp":)" + std::string(kNewYear) +
                 R"(,"account_id":"acc-a","custom_channel_vars":{"account_id":"acc-a","rate":"0.01"},)"
                 R"("imported":false,"source":"esl"})",
             "acc-b");
  ASSERT_EQ(b.rows.size(), 1u);
  const auto doc = parse(b.rows[0].record.json);
  EXPECT_EQ(str(doc, "account_id"), "acc-b");
  EXPECT_EQ(str(doc["custom_channel_vars"], "account_id"), "acc-b");
  EXPECT_EQ(str(doc["custom_channel_vars"], "rate"), "0.01");
  EXPECT_TRUE(doc["imported"].GetBool());
  EXPECT_EQ(str(doc, "source"), "import");
  // A row with no account of its own takes it from the query too.
  EXPECT_EQ(
      str(parse(
              import(R"({"call_id":"o2","timestamp":)" + std::string(kNewYear) + "}", "acc-b").rows.at(0).record.json),
          "account_id"),
      "acc-b");
}

TEST(CanonicalImport, TheAccountInCustomChannelVarsIsCopiedToTheTop) {
  const ImportBatch b = import(R"({"call_id":"v1","timestamp":)" + std::string(kNewYear) +
                               R"(,"custom_channel_vars":{"account_id":"acc-c"}})");
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(str(parse(b.rows[0].record.json), "account_id"), "acc-c");
}

// Worked by hand: 1514764799900000 µs is 2017-12-31T23:59:59.9Z and the leg
// ends at kNewYear, 2018-01-01T00:00:05Z, so only the start says 201712.
TEST(CanonicalImport, AnAbsentIdIsDerivedLikeTheNormalizers) {
  const auto id_of = [](const std::string& extra) {
    const ImportBatch b = import(row("d1", extra));
    return b.rows.size() == 1 ? str(parse(b.rows[0].record.json), "id") : "<rejected>";
  };
  EXPECT_EQ(id_of(R"(,"channel_created_time":1514764799900000,"started_at":"2018-01-01T00:00:00Z")"), "201712-d1");
  EXPECT_EQ(id_of(R"(,"started_at":"2017-12-31T23:59:59.900000Z")"), "201712-d1");
  EXPECT_EQ(id_of(""), "201801-d1");  // from timestamp
  EXPECT_EQ(id_of(R"(,"id":"")"), "201801-d1");
  EXPECT_EQ(id_of(R"(,"id":"201711-elsewhere")"), "201711-elsewhere");  // given: kept
  EXPECT_EQ(only_error(row("d1", R"(,"channel_created_time":1517443200000000)")),
            "invalid_value: channel_created_time: the leg would start in 201802, after the month of timestamp "
            "(201801)");
}

TEST(CanonicalImport, BodiesThatAreNoFormatAtAll) {
  EXPECT_EQ(import(" \r\n\t").error_code, "empty_body");
  EXPECT_EQ(import("").error_code, "empty_body");
  const ImportBatch b = import("hello world\n");
  EXPECT_EQ(b.error_code, "unsupported_format");
  EXPECT_EQ(b.format, ImportFormat::kNone);
  EXPECT_TRUE(b.rows.empty() && b.rejected.empty());
  EXPECT_EQ(import("[]").rows.size(), 0u);
  EXPECT_EQ(import("[]").error_code, "");
}

TEST(CanonicalImport, AByteOrderMarkIsNotContent) {
  const ImportBatch b = import("\xEF\xBB\xBF" + row("bom"));
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.rows[0].record.raw, row("bom"));
}

// CSV: a header of export columns, then rows; a quoted field may span lines.
const std::string kCsvHeader = "id,call_id,account_id,timestamp,local_sdp,custom_channel_vars,duration_seconds";

TEST(CanonicalImportCsv, RowsWithQuotedNewlinesKeepTheirLinesAndText) {
  const std::string r1 = std::string("201801-c1,c1,acc-a,") + kNewYear + ",\"v=0\r\nc=IN IP4 10.0.0.1\r\n\"," +
                         "\"{\"\"account_id\"\":\"\"acc-a\"\",\"\"rate\"\":\"\"0.01\"\"}\",12";
  const std::string r2 = std::string(",c2,acc-a,") + kNewYear + ",,,";
  const std::string r3 = std::string(",c3,acc-a,") + kNewYear + ",,,x";  // not an integer
  const std::string r4 = ",c4,acc-a,";                                   // too few fields
  const std::string r5 = std::string(",,acc-a,") + kNewYear + ",,,";     // no call_id
  const std::string body = kCsvHeader + "\r\n" + r1 + "\r\n" + r2 + "\r\n\r\n" + r3 + "\r\n" + r4 + "\r\n" + r5;
  const ImportBatch b = import(body, "", "text/csv; charset=utf-8");
  EXPECT_EQ(b.format, ImportFormat::kCsv);
  EXPECT_EQ(b.csv_header, kCsvHeader);
  // r1 spans lines 2-4; r2 is on 5, a blank line 6, then r3 on 7, r4 on 8, r5 on 9.
  EXPECT_EQ(lines_of(b.rows), (std::vector<size_t>{2, 5}));
  EXPECT_EQ(b.rows[0].record.raw, r1);
  EXPECT_EQ(b.rows[0].record.raw_format, "csv");
  EXPECT_EQ(b.rows[1].record.raw, r2);
  const auto doc = parse(b.rows[0].record.json);
  EXPECT_EQ(str(doc, "local_sdp"), "v=0\r\nc=IN IP4 10.0.0.1\r\n");
  EXPECT_EQ(str(doc["custom_channel_vars"], "rate"), "0.01");
  EXPECT_EQ(doc["duration_seconds"].GetInt(), 12);
  EXPECT_EQ(str(doc, "source"), "import");
  EXPECT_EQ(str(parse(b.rows[1].record.json), "id"), "201801-c2");
  ASSERT_EQ(b.rejected.size(), 3u);
  EXPECT_EQ(lines_of(b.rejected), (std::vector<size_t>{7, 8, 9}));
  EXPECT_EQ(b.rejected[0].code, "invalid_value");
  EXPECT_EQ(b.rejected[0].message, "column 'duration_seconds': expected an integer, got 'x'");
  EXPECT_EQ(b.rejected[0].text, r3);
  EXPECT_EQ(b.rejected[1].code, "invalid_csv");
  EXPECT_EQ(b.rejected[1].message, "the row has 4 fields; the header has 7");
  EXPECT_EQ(b.rejected[2].code, "missing_field");
  EXPECT_EQ(b.rejected[2].message, "call_id: required (the leg's uuid)");
  EXPECT_EQ(b.rejected[2].text, r5);
}

TEST(CanonicalImportCsv, AHeaderOfExportColumnsIsCsvWithoutContentType) {
  const std::string body = "call_id,timestamp,account_id\n" + std::string("h1,") + kNewYear + ",acc-a\n";
  const ImportBatch b = import(body);
  EXPECT_EQ(b.format, ImportFormat::kCsv);
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.rows[0].line, 2u);
  EXPECT_EQ(str(parse(b.rows[0].record.json), "id"), "201801-h1");
  // A first line that is not such a header is no format at all.
  EXPECT_EQ(import("call_id,when\nx,1\n").error_code, "unsupported_format");
}

TEST(CanonicalImportCsv, AnUnknownColumnRejectsTheHeader) {
  const ImportBatch b = import("call_id,price\nx,1\n", "", "text/csv");
  EXPECT_TRUE(b.rows.empty());
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].line, 1u);
  EXPECT_EQ(b.rejected[0].code, "invalid_csv");
  EXPECT_EQ(b.rejected[0].message, "header: column 'price' is not a field of the CDR CSV format");
  EXPECT_EQ(b.rejected[0].text, "call_id,price");
  EXPECT_EQ(b.csv_header, "");
}

TEST(CanonicalImportCsv, AnUnclosedQuoteRejectsTheRestAndKeepsTheRowsBefore) {
  const std::string good = std::string("q1,") + kNewYear + ",acc-a";
  const std::string broken = std::string("q2,") + kNewYear + ",\"acc-a\nq3," + kNewYear + ",acc-a";
  const ImportBatch b = import("call_id,timestamp,account_id\n" + good + "\n" + broken + "\n", "", "text/csv");
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.rows[0].record.raw, good);
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].line, 3u);
  EXPECT_EQ(b.rejected[0].code, "invalid_csv");
  EXPECT_EQ(b.rejected[0].message, "not valid CSV: line 3: a quoted field is not closed");
  EXPECT_EQ(b.rejected[0].text, broken);
}

// Issue 12: the billing details are typed like the rest, and an error names the field.
TEST(CanonicalImport, BillingDetailsHaveTheirTypes) {
  EXPECT_EQ(only_error(row("x", R"(,"rang_at":"yesterday")")),
            "invalid_value: rang_at: expected an ISO-8601 UTC time such as 2018-01-11T10:25:44.534355Z, got "
            "\"yesterday\"");
  EXPECT_EQ(only_error(row("x", R"(,"hangup_cause_q850":"16")")),
            "invalid_value: hangup_cause_q850: expected an integer, got a string");
  EXPECT_EQ(only_error(row("x", R"(,"sip_network_port":70000)")),
            "invalid_value: sip_network_port: expected an integer from 1 to 65535, got 70000");
  EXPECT_EQ(only_error(row("x", R"(,"sip_network_port":"5060")")),
            "invalid_value: sip_network_port: expected an integer from 1 to 65535, got a string");
  for (const char* field : {"sip_call_id", "hangup_disposition", "sip_term_phrase", "sip_transport", "accountcode",
                            "trunk", "recording_url", "answered_by", "caller_e164", "callee_e164"}) {
    EXPECT_EQ(only_error(row("x", std::string(",\"") + field + "\":5")),
              std::string("invalid_value: ") + field + ": expected a string, got an integer");
  }
  EXPECT_EQ(only_error(row("x", R"(,"destination":"FR")")),
            "invalid_value: destination: expected an object, got a string");
  EXPECT_EQ(only_error(row("x", R"(,"destination":{"country":"FR","rate":0.1})")),
            "invalid_value: destination.rate: expected a string, got a number that is not a 64-bit integer");
  EXPECT_EQ(only_error(row("x", R"(,"related_call_ids":"a b")")),
            "invalid_value: related_call_ids: expected a list, got a string");
  EXPECT_EQ(only_error(row("x", R"(,"related_call_ids":["a",2])")),
            "invalid_value: related_call_ids[1]: expected a string, got an integer");
  EXPECT_EQ(only_error(row("x", R"(,"transfer":{"kind":"refer"})")),
            "invalid_value: transfer: expected a list, got an object");
  EXPECT_EQ(only_error(row("x", R"(,"transfer":[{"kind":"refer"},"bl_xfer"])")),
            "invalid_value: transfer[1]: expected an object, got a string");
  EXPECT_EQ(only_error(row("x", R"(,"transfer":[{"kind":"refer","time":5}])")),
            "invalid_value: transfer[0].time: expected a string, got an integer");
}

TEST(CanonicalImport, BillingDetailsTheRowCarriesAreKept) {
  const std::string details =
      R"(,"rang_at":"2018-01-01T00:00:01.5Z","sip_call_id":"c@h","hangup_disposition":"recv_bye",)"
      R"("hangup_cause_q850":16,"sip_term_phrase":"OK","sip_network_port":5060,"sip_transport":"tls",)"
      R"("accountcode":"ac","trunk":"t","recording_url":"https://r/1","answered_by":"machine",)"
      R"("transfer":[{"kind":"refer","destination":"<sip:1@h>"}],"related_call_ids":["b-1"],)"
      R"("caller_id_number":"0170363950","callee_id_number":"2025550123",)"
      R"("caller_e164":"+33999999999","callee_e164":"+447400123456",)"
      R"("destination":{"name":"Rate deck name","country":"GB","type":"mobile"})";
  const ImportBatch b = import(row("k1", details));
  ASSERT_EQ(b.rows.size(), 1u) << (b.rejected.empty() ? "" : b.rejected[0].message);
  rapidjson::Document want = parse(row("k1", details));
  const rapidjson::Document got = parse(b.rows[0].record.json);
  // Whatever the numbers would give, the row's own values stay.
  for (const auto& m : want.GetObject()) {
    ASSERT_TRUE(got.HasMember(m.name)) << m.name.GetString();
    EXPECT_TRUE(got[m.name] == m.value) << m.name.GetString();
  }
}

TEST(CanonicalImport, MissingNumbersAreDerivedInTheAccountsRegion) {
  ImportOptions options;
  options.numbers.account_regions = {{"acc-paris", "FR"}};
  const auto imported = [&](const std::string& body) {
    const ImportBatch b = parse_import_body(body, "", options);
    EXPECT_EQ(b.rows.size(), 1u) << (b.rejected.empty() ? "" : b.rejected[0].message);
    return b.rows.empty() ? rapidjson::Document() : parse(b.rows[0].record.json);
  };
  // acc-a: the default region, US. +1 202 is Washington: NANP numbers are fixed line or mobile.
  const auto us = imported(row("n1", R"(,"caller_id_number":"1001","callee_id_number":"(202) 555-0123")"));
  EXPECT_EQ(str(us, "caller_e164"), "<absent>");  // an extension
  EXPECT_EQ(str(us, "callee_e164"), "+12025550123");
  ASSERT_TRUE(us.HasMember("destination"));
  EXPECT_EQ(str(us["destination"], "name"), "United States");
  EXPECT_EQ(str(us["destination"], "country"), "US");
  EXPECT_EQ(str(us["destination"], "type"), "fixed_line_or_mobile");
  // acc-paris: national French numbers.
  const auto fr = imported(R"({"call_id":"n2","timestamp":)" + std::string(kNewYear) +
                           R"(,"account_id":"acc-paris","caller_id_number":"0170363950",)"
                           R"("callee_id_number":"06 12 34 56 78"})");
  EXPECT_EQ(str(fr, "caller_e164"), "+33170363950");
  EXPECT_EQ(str(fr, "callee_e164"), "+33612345678");
  EXPECT_EQ(str(fr["destination"], "name"), "France");
  EXPECT_EQ(str(fr["destination"], "type"), "mobile");
  // A given callee_e164 is the number the destination follows.
  const auto given = imported(row("n3", R"(,"callee_id_number":"2025550123","callee_e164":"+4930123456")"));
  EXPECT_EQ(str(given, "callee_e164"), "+4930123456");
  EXPECT_EQ(str(given["destination"], "country"), "DE");
  EXPECT_EQ(str(given["destination"], "type"), "fixed_line");
  // Nothing to read: nothing derived, and the row is kept.
  const auto none = imported(row("n4", R"(,"caller_id_number":"anonymous")"));
  EXPECT_FALSE(none.HasMember("caller_e164"));
  EXPECT_FALSE(none.HasMember("callee_e164"));
  EXPECT_FALSE(none.HasMember("destination"));
}

TEST(CanonicalImport, CustomKeysTakeKazoosSpelling) {
  const ImportBatch b = import(row("k2", R"(,"custom_channel_vars":{"Owner-ID":"o-1","owner_id":"second",)"
                                         R"("Account-ID":"acc-a"},"custom_sip_headers":{"X-Foo-Bar":"fb"},)"
                                         R"("custom_application_vars":{"Campaign":"spring"})"));
  ASSERT_EQ(b.rows.size(), 1u) << (b.rejected.empty() ? "" : b.rejected[0].message);
  const auto doc = parse(b.rows[0].record.json);
  // Of two keys that become one, the first stays.
  EXPECT_EQ(str(doc["custom_channel_vars"], "owner_id"), "o-1");
  EXPECT_EQ(str(doc["custom_channel_vars"], "Owner-ID"), "<absent>");
  EXPECT_EQ(str(doc["custom_channel_vars"], "account_id"), "acc-a");
  EXPECT_EQ(doc["custom_channel_vars"].MemberCount(), 2u);
  EXPECT_EQ(str(doc["custom_sip_headers"], "x_foo_bar"), "fb");
  EXPECT_EQ(str(doc["custom_application_vars"], "campaign"), "spring");
  // An account given only as Kazoo's CCV Account-ID is the row's account.
  const ImportBatch kazoo = import(R"({"call_id":"k3","timestamp":)" + std::string(kNewYear) +
                                   R"(,"custom_channel_vars":{"Account-ID":"acc-k"}})");
  ASSERT_EQ(kazoo.rows.size(), 1u);
  EXPECT_EQ(str(parse(kazoo.rows[0].record.json), "account_id"), "acc-k");
}

// The export's own rows (cdr_csv.h) import back into the same records, under
// the account of ?account_id= when given.
TEST(CanonicalImportCsv, AnExportImportsBackIntoTheSameRecords) {
  const std::vector<std::string> records = {
      R"({"id":"201712-e1","call_id":"e1","account_id":"acc-a","timestamp":)" + std::string(kNewYear) +
          R"(,"channel_created_time":1514764799900000,"duration_seconds":6,"hangup_cause":"NORMAL_CLEARING",)"
          R"("local_sdp":"v=0\r\nc=IN IP4 10.0.0.1\r\n","caller_id_name":"Quote \"Q\", comma",)"
          R"("custom_channel_vars":{"account_id":"acc-a","x":"y"},"custom_sip_headers":{"x_a":"1,2"},)"
          R"("source":"json_cdr","is_loopback":true,"started_at":"2017-12-31T23:59:59.900000Z"})",
      R"({"id":"201801-e2","call_id":"e2","account_id":"acc-a","timestamp":)" + std::string(kNewYear) +
          R"(,"custom_channel_vars":{"account_id":"acc-a"},"source":"esl"})",
  };
  std::string csv = cdr_csv_header();
  for (const auto& r : records) ASSERT_TRUE(append_cdr_csv_row(r, &csv));
  const ImportBatch b = import(csv, "acc-b");  // no Content-Type: found from the header
  EXPECT_EQ(b.format, ImportFormat::kCsv);
  ASSERT_TRUE(b.rejected.empty()) << b.rejected[0].message;
  ASSERT_EQ(b.rows.size(), 2u);
  for (size_t i = 0; i < records.size(); ++i) {
    rapidjson::Document want = parse(records[i]);
    want["account_id"].SetString("acc-b");
    want["custom_channel_vars"]["account_id"].SetString("acc-b");
    want["source"].SetString("import");
    want.AddMember("imported", true, want.GetAllocator());
    EXPECT_TRUE(parse(b.rows[i].record.json) == want) << b.rows[i].record.json;
  }
}

}  // namespace
// Found by fuzz/canonical_import_fuzzer: "is_loopback": false was kept, so
// the row's CSV export ("false") imported back without it (the canonical
// record carries the flag only when true) and the round trip changed it.
TEST(CanonicalImport, AFalseIsLoopbackIsDroppedLikeTheCsvReaderDoes) {
  const ImportBatch b = import(row("c1", R"(,"is_loopback":false)"));
  ASSERT_EQ(b.rows.size(), 1u);
  const auto doc = parse(b.rows[0].record.json);
  EXPECT_FALSE(doc.HasMember("is_loopback"));
  const ImportBatch t = import(row("c2", R"(,"is_loopback":true)"));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_TRUE(parse(t.rows[0].record.json)["is_loopback"].GetBool());

  std::string csv = cdr_csv_header();
  ASSERT_TRUE(append_cdr_csv_row(b.rows[0].record.json, &csv));
  const ImportBatch again = import(csv, "", "text/csv");
  ASSERT_EQ(again.rows.size(), 1u);
  std::string csv_again = cdr_csv_header();
  ASSERT_TRUE(append_cdr_csv_row(again.rows[0].record.json, &csv_again));
  EXPECT_EQ(csv_again, csv);
}

// Found by fuzz/canonical_import_fuzzer: with a name twice, the checks and
// ?account_id= read the first value while jsonb keeps the last, so a row could
// be stored under another account than the one checked.
TEST(CanonicalImport, ANameTwiceInAnObjectIsRefused) {
  EXPECT_EQ(only_error(row("c1", R"(,"account_id":"acc-evil")"), "acc-b"),
            "invalid_json: account_id: the name appears twice in its object");
  EXPECT_EQ(only_error(row("c1", R"(,"custom_channel_vars":{"account_id":"x","account_id":"y"})")),
            "invalid_json: custom_channel_vars.account_id: the name appears twice in its object");
  EXPECT_EQ(only_error(row("c1", R"(,"extra":[{"k":1,"k":2}])")),
            "invalid_json: extra[0].k: the name appears twice in its object");
}

// Found by fuzz/canonical_import_fuzzer: with ?account_id= and no account in
// the row, adding the top-level account_id moved the members, the stale
// lookup of custom_channel_vars skipped creating it, and the account was
// written into RapidJSON's shared null value instead of the record.
TEST(CanonicalImport, OverrideWithoutAnyAccountInTheRowFillsBothPlaces) {
  const std::string body = R"({"call_id":"c1","timestamp":)" + std::string(kNewYear) + R"(,"extra":1})";
  const ImportBatch b = import(body, "acc-b");
  ASSERT_EQ(b.rows.size(), 1u) << (b.rejected.empty() ? "" : b.rejected[0].message);
  const auto doc = parse(b.rows[0].record.json);
  EXPECT_EQ(str(doc, "account_id"), "acc-b");
  ASSERT_TRUE(doc.HasMember("custom_channel_vars"));
  EXPECT_EQ(str(doc["custom_channel_vars"], "account_id"), "acc-b");
}

}  // namespace cdrd
