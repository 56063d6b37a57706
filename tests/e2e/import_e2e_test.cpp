// End to end: POST /ingest/cdr with the real cdrd and a real PostgreSQL.
// Canonical CDRs in each format are stored tagged as imported and read back
// through the API; bad rows are reported by line and kept; an export of one
// account imports into another without touching the original.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "adapters/canonical/cdr_csv.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};
constexpr long long kGregorianOffset = 62167219200LL;

std::string to_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  value.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// An hour ago, in Gregorian seconds: inside the list API's default window.
long long an_hour_ago() { return static_cast<long long>(std::time(nullptr)) - 3600 + kGregorianOffset; }

std::string month_of(long long gregorian) {
  const std::time_t t = static_cast<std::time_t>(gregorian - kGregorianOffset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[8];
  std::strftime(buf, sizeof buf, "%Y%m", &tm);
  return buf;
}

// A canonical record on one line.
std::string canonical(const std::string& call_id, const std::string& account, long long timestamp,
                      const std::string& extra = "") {
  return R"({"call_id":")" + call_id + R"(","account_id":")" + account + R"(","timestamp":)" +
         std::to_string(timestamp) + R"(,"duration_seconds":42,"billing_seconds":40,"hangup_cause":"NORMAL_CLEARING")" +
         R"(,"caller_id_number":"+15551230000","custom_sip_headers":{"X-Rate":"0.01"})" + extra + "}";
}

HttpResponse post_import(int port, const std::string& body, const std::string& query = "",
                         const std::string& content_type = "application/json") {
  return http_request(port, "POST", "/ingest/cdr" + query, body, {{"Content-Type", content_type}});
}

class ImportE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("import");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
  }
  int port() const { return cdrd_->port(); }

  // GET .../cdrs/{id}, once the writer has stored it.
  rapidjson::Document get_cdr(const std::string& account, const std::string& id) {
    HttpResponse r;
    const bool found = eventually([&] {
      r = http_request(port(), "GET", "/v2/accounts/" + account + "/cdrs/" + id, "", kAllKey);
      return r.status == 200;
    });
    EXPECT_TRUE(found) << account << "/" << id << ": " << r.status << " " << r.body;
    rapidjson::Document doc = parse_json(found ? r.body : "{\"data\":{}}");
    rapidjson::Document data;
    data.CopyFrom(doc["data"], data.GetAllocator());
    return data;
  }

  long long rows(const std::string& where) { return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE " + where); }

  // The writer takes the spool in order: once a record posted after the
  // others is stored, everything before it has been written too.
  void wait_for_writer(const std::string& account) {
    const std::string marker = "marker-" + random_uuid();
    ASSERT_EQ(post_import(port(), canonical(marker, account, an_hour_ago())).status, 200);
    ASSERT_TRUE(eventually([&] { return rows("call_id = '" + marker + "'") == 1; }));
  }

  // The rejects store's files of one request: {".body" text, ".meta.json" text}.
  std::pair<std::string, std::string> kept_reject(const std::string& request_id) {
    std::pair<std::string, std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/rejects")) {
      const std::string name = entry.path().filename().string();
      if (name.find(request_id) == std::string::npos) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".body") == 0) files.first = content;
      if (name.find(".meta.json") != std::string::npos) files.second = content;
    }
    return files;
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

void expect_imported(const rapidjson::Document& d, const std::string& account, const std::string& call_id) {
  ASSERT_TRUE(d.IsObject() && d.HasMember("call_id"));
  EXPECT_EQ(std::string(d["call_id"].GetString()), call_id);
  EXPECT_EQ(std::string(d["account_id"].GetString()), account);
  EXPECT_EQ(std::string(d["custom_channel_vars"]["account_id"].GetString()), account);
  EXPECT_EQ(std::string(d["source"].GetString()), "import");
  EXPECT_TRUE(d["imported"].GetBool());
  EXPECT_EQ(d["duration_seconds"].GetInt(), 42);
  // Stored with Kazoo's key spelling (lower case, '-' as '_'), as the normalizers store them.
  EXPECT_EQ(std::string(d["custom_sip_headers"]["x_rate"].GetString()), "0.01");
  EXPECT_FALSE(d["custom_sip_headers"].HasMember("X-Rate"));
}

TEST_F(ImportE2E, ObjectArrayAndNdjsonAreStoredAsImportsAndReadBack) {
  const long long ts = an_hour_ago();
  const std::string month = month_of(ts);
  const std::string one = "one-" + random_uuid();
  const std::string object = canonical(one, "acct-i", ts, R"(,"id":")" + month + "-" + one + R"(","extra":[1,"x"])");
  HttpResponse r = post_import(port(), object);
  ASSERT_EQ(r.status, 200) << r.body;
  auto reply = parse_json(r.body);
  EXPECT_EQ(std::string(reply["status"].GetString()), "success");
  EXPECT_EQ(reply["data"]["accepted"].GetInt(), 1);
  EXPECT_EQ(reply["data"]["rejected"].Size(), 0u);

  const std::string a1 = "arr-" + random_uuid(), a2 = "arr-" + random_uuid();
  const std::string element =
      "{\n  \"call_id\": \"" + a2 + "\",\n  \"account_id\": \"acct-i\",\n  \"timestamp\": " + std::to_string(ts) +
      ",\n  \"duration_seconds\": 42,\n  \"custom_sip_headers\": " + "{\"X-Rate\": \"0.01\"}\n}";
  r = post_import(port(), "[\n" + canonical(a1, "acct-i", ts) + ",\n" + element + "\n]\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["accepted"].GetInt(), 2);

  const std::string n1 = "nd-" + random_uuid(), n2 = "nd-" + random_uuid();
  r = post_import(port(), canonical(n1, "acct-other", ts) + "\n\n" + canonical(n2, "acct-other", ts) + "\n",
                  "?account_id=acct-i", "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["accepted"].GetInt(), 2);

  const auto d = get_cdr("acct-i", month + "-" + one);
  expect_imported(d, "acct-i", one);
  EXPECT_EQ(d["extra"][1].GetString(), std::string("x"));
  for (const auto& call : {a1, n1, n2}) expect_imported(get_cdr("acct-i", month + "-" + call), "acct-i", call);
  const auto e = get_cdr("acct-i", month + "-" + a2);
  EXPECT_EQ(std::string(e["source"].GetString()), "import");
  EXPECT_TRUE(e["imported"].GetBool());

  // The row's own text is its raw document; the typed columns are filled.
  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  const auto row = tx.exec_params1(
      "SELECT raw, raw_format, source, imported, duration_seconds FROM cdrs "
      "WHERE call_id = $1",
      a2);
  EXPECT_EQ(row[0].as<std::string>(), element);
  EXPECT_EQ(row[1].as<std::string>(), "json");
  EXPECT_EQ(row[2].as<std::string>(), "import");
  EXPECT_TRUE(row[3].as<bool>());
  EXPECT_EQ(row[4].as<int>(), 42);
  EXPECT_EQ(tx.exec_params1("SELECT raw FROM cdrs WHERE call_id = $1", one)[0].as<std::string>(), object);
  EXPECT_EQ(rows("account_id = 'acct-other'"), 0);
}

TEST_F(ImportE2E, GoodRowsAreStoredAndBadRowsListedByLineAndKept) {
  const long long ts = an_hour_ago();
  const std::string g1 = "good-" + random_uuid(), g2 = "good-" + random_uuid(), g3 = "good-" + random_uuid();
  const std::string no_call = R"({"account_id":"acct-m","timestamp":)" + std::to_string(ts) + "}";
  const std::string bad_seconds = canonical("bad-" + random_uuid(), "acct-m", ts, R"(,"ringing_seconds":"3")");
  const std::string body = canonical(g1, "acct-m", ts) + "\n" + no_call + "\n" + canonical(g2, "acct-m", ts) + "\n\n" +
                           bad_seconds + "\n" + canonical(g3, "acct-m", ts) + "\n";
  const HttpResponse r = post_import(port(), body);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto reply = parse_json(r.body);
  EXPECT_EQ(reply["data"]["accepted"].GetInt(), 3);
  const auto& rejected = reply["data"]["rejected"];
  ASSERT_EQ(rejected.Size(), 2u);
  EXPECT_EQ(rejected[0]["line"].GetInt(), 2);
  EXPECT_EQ(std::string(rejected[0]["code"].GetString()), "missing_field");
  EXPECT_EQ(std::string(rejected[0]["message"].GetString()), "call_id: required (the leg's uuid)");
  EXPECT_EQ(rejected[1]["line"].GetInt(), 5);
  EXPECT_EQ(std::string(rejected[1]["code"].GetString()), "invalid_value");
  EXPECT_EQ(std::string(rejected[1]["message"].GetString()),
            "ringing_seconds: expected an integer from 0 to 2147483647, got a string");

  ASSERT_TRUE(eventually([&] { return rows("account_id = 'acct-m'") == 3; }));
  EXPECT_EQ(rows("account_id = 'acct-m' AND call_id IN ('" + g1 + "', '" + g2 + "', '" + g3 + "')"), 3);

  const std::string request_id = reply["request_id"].GetString();
  const auto [kept_body, meta] = kept_reject(request_id);
  EXPECT_EQ(kept_body, no_call + "\n" + bad_seconds + "\n");
  const auto m = parse_json(meta);
  EXPECT_EQ(std::string(m["route"].GetString()), "/ingest/cdr");
  EXPECT_EQ(std::string(m["code"].GetString()), "rejected_rows");
  EXPECT_EQ(std::string(m["message"].GetString()),
            "2 of 5 rows rejected (ndjson); line 2: missing_field: call_id: required (the leg's uuid); line 5: "
            "invalid_value: ringing_seconds: expected an integer from 0 to 2147483647, got a string");
}

TEST_F(ImportE2E, NoValidRowIs400AndBodiesOfNoFormatAre415) {
  const long long ts = an_hour_ago();
  const std::string body = "[\n" + canonical("no-ts-" + random_uuid(), "acct-n", 62167219199LL) + ",\n" +
                           R"({"call_id":"x","timestamp":)" + std::to_string(ts) + "}\n]";
  HttpResponse r = post_import(port(), body);
  ASSERT_EQ(r.status, 400) << r.body;
  auto reply = parse_json(r.body);
  EXPECT_EQ(std::string(reply["code"].GetString()), "invalid_rows");
  EXPECT_TRUE(reply.HasMember("request_id"));
  ASSERT_EQ(reply["rejected"].Size(), 2u);
  EXPECT_EQ(reply["rejected"][0]["line"].GetInt(), 2);
  EXPECT_EQ(reply["rejected"][1]["line"].GetInt(), 3);
  EXPECT_EQ(std::string(reply["rejected"][1]["code"].GetString()), "missing_field");
  EXPECT_FALSE(kept_reject(reply["request_id"].GetString()).first.empty());

  // One bad object: its own code, like the other ingest routes.
  r = post_import(port(), R"({"call_id":"x","account_id":"acct-n","timestamp":"soon"})");
  ASSERT_EQ(r.status, 400) << r.body;
  reply = parse_json(r.body);
  EXPECT_EQ(std::string(reply["code"].GetString()), "invalid_value");
  EXPECT_EQ(std::string(reply["message"].GetString()), "line 1: timestamp: expected an integer, got a string");

  r = post_import(port(), "call_id;timestamp\nx;1\n", "", "text/plain");
  ASSERT_EQ(r.status, 415) << r.body;
  reply = parse_json(r.body);
  EXPECT_EQ(std::string(reply["code"].GetString()), "unsupported_format");
  EXPECT_EQ(kept_reject(reply["request_id"].GetString()).first, "call_id;timestamp\nx;1\n");

  r = post_import(port(), "  \n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "empty_body");
  r = post_import(port(), canonical("q-" + random_uuid(), "acct-n", ts), "?account_id=");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(std::string(parse_json(r.body)["message"].GetString()), "account_id: the query parameter is empty");
  EXPECT_EQ(http_request(port(), "GET", "/ingest/cdr").status, 405);

  wait_for_writer("acct-n");
  EXPECT_EQ(rows("account_id = 'acct-n'"), 1);  // the marker only
}

// Account A's records, read through the list API and posted back with
// ?account_id=B: B gets the same records (but for the account, the source
// and the import tag), A keeps its own unchanged, and a repeat adds nothing.
TEST_F(ImportE2E, AnExportOfOneAccountImportsIntoAnotherAndLeavesTheOriginal) {
  for (int i = 0; i < 3; ++i) {
    const HttpResponse r = http_request(port(), "POST", "/ingest/freeswitch/json", unique_cdr(random_uuid(), "acct-a"),
                                        {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // The samples end in 2018: list them in a window around the 2017 sample's end.
  const auto list_a = [&] {
    HttpResponse r = http_request(
        port(), "GET", "/v2/accounts/acct-a/cdrs?created_from=63682800000&created_to=63682900000&detail=full", "",
        kAllKey);
    return r;
  };
  HttpResponse before;
  ASSERT_TRUE(eventually([&] {
    before = list_a();
    return before.status == 200 && parse_json(before.body)["data"].Size() == 3;
  })) << before.body;
  const auto a_doc = parse_json(before.body);
  std::string ndjson;
  std::string array = "[";
  for (const auto& item : a_doc["data"].GetArray()) {
    EXPECT_EQ(std::string(item["source"].GetString()), "json_cdr");
    ndjson += to_text(item) + "\n";
    array += (array.size() > 1 ? ",\n" : "\n") + to_text(item);
  }
  array += "\n]";

  HttpResponse r = post_import(port(), ndjson, "?account_id=acct-b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["accepted"].GetInt(), 3);
  HttpResponse b_list;
  const auto list_b = [&] {
    return http_request(port(), "GET",
                        "/v2/accounts/acct-b/cdrs?created_from=63682800000&created_to=63682900000&detail=full", "",
                        kAllKey);
  };
  ASSERT_TRUE(eventually([&] {
    b_list = list_b();
    return b_list.status == 200 && parse_json(b_list.body)["data"].Size() == 3;
  })) << b_list.body;

  // Equal but for account_id (both places), source and imported. EraseMember
  // keeps the order of the other members, so the texts compare.
  const auto without_tags = [](const rapidjson::Value& record) {
    rapidjson::Document d;
    d.CopyFrom(record, d.GetAllocator());
    d.EraseMember("account_id");
    d.EraseMember("source");
    d.EraseMember("imported");
    d["custom_channel_vars"].EraseMember("account_id");
    return to_text(d);
  };
  const auto b_doc = parse_json(b_list.body);
  ASSERT_EQ(b_doc["data"].Size(), a_doc["data"].Size());
  for (rapidjson::SizeType i = 0; i < b_doc["data"].Size(); ++i) {
    const auto& a = a_doc["data"][i];
    const auto& b = b_doc["data"][i];
    EXPECT_EQ(std::string(b["id"].GetString()), a["id"].GetString());
    EXPECT_EQ(std::string(b["account_id"].GetString()), "acct-b");
    EXPECT_EQ(std::string(b["custom_channel_vars"]["account_id"].GetString()), "acct-b");
    EXPECT_EQ(std::string(b["source"].GetString()), "import");
    EXPECT_TRUE(b["imported"].GetBool());
    EXPECT_EQ(without_tags(b), without_tags(a));
  }

  // Again, as an array: nothing new for B, and A is exactly as before.
  r = post_import(port(), array, "?account_id=acct-b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["accepted"].GetInt(), 3);
  wait_for_writer("acct-b");
  EXPECT_EQ(rows("account_id = 'acct-b'"), 4);  // three imports and the marker
  EXPECT_EQ(rows("account_id = 'acct-a' AND source = 'json_cdr' AND NOT imported"), 3);
  const auto after = parse_json(list_a().body);
  EXPECT_EQ(to_text(after["data"]), to_text(a_doc["data"]));
  EXPECT_EQ(to_text(parse_json(list_b().body)["data"]), to_text(b_doc["data"]));
}

// The CSV round trip: account A's records in the export's CSV format
// (adapters/canonical/cdr_csv.h, what Accept: text/csv returns) imported as
// account B reproduce them; a bad row among them is listed and kept under
// the header, so the kept file is a CSV body of its own.
TEST_F(ImportE2E, CsvInTheExportFormatImportsIntoAnotherAccount) {
  const long long ts = an_hour_ago();
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    const std::string call = "csv-" + random_uuid();
    const std::string extra = R"(,"local_sdp":"v=0\r\nc=IN IP4 10.0.0.)" + std::to_string(i) +
                              R"(\r\n","caller_id_name":"Doe, \"J\"","is_loopback":true)";
    ASSERT_EQ(post_import(port(), canonical(call, "acct-c", ts, extra)).status, 200);
    ids.push_back(month_of(ts) + "-" + call);
  }
  std::string csv = cdr_csv_header();
  std::vector<rapidjson::Document> originals;
  for (const auto& id : ids) {
    originals.push_back(get_cdr("acct-c", id));
    ASSERT_TRUE(append_cdr_csv_row(to_text(originals.back()), &csv));
  }
  // Line 1 the header, each record then spans 3 lines (the SDP's two CRLFs).
  const std::string bad_row = std::string(cdr_csv_columns().size() - 1, ',') + "\r\n";
  const std::string body = csv + bad_row;
  const HttpResponse r = post_import(port(), body, "?account_id=acct-d", "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto reply = parse_json(r.body);
  EXPECT_EQ(reply["data"]["accepted"].GetInt(), 2);
  ASSERT_EQ(reply["data"]["rejected"].Size(), 1u);
  EXPECT_EQ(reply["data"]["rejected"][0]["line"].GetInt(), 8);
  EXPECT_EQ(std::string(reply["data"]["rejected"][0]["code"].GetString()), "missing_field");
  EXPECT_EQ(kept_reject(reply["request_id"].GetString()).first, cdr_csv_header() + bad_row);

  for (size_t i = 0; i < ids.size(); ++i) {
    const auto copy = get_cdr("acct-d", ids[i]);
    rapidjson::Document want;
    want.CopyFrom(originals[i], want.GetAllocator());
    want["account_id"].SetString("acct-d");
    want["custom_channel_vars"]["account_id"].SetString("acct-d");
    EXPECT_TRUE(copy == want) << to_text(copy) << "\n" << to_text(want);
  }
  pqxx::connection conn(dsn_);
  pqxx::nontransaction tx(conn);
  const auto raw = tx.exec_params1("SELECT raw, raw_format FROM cdrs WHERE account_id = 'acct-d' AND id = $1", ids[1]);
  std::string second_line;
  ASSERT_TRUE(append_cdr_csv_row(to_text(originals[1]), &second_line));
  EXPECT_EQ(raw[0].as<std::string>(), second_line.substr(0, second_line.size() - 2));  // the row, without its CRLF
  EXPECT_EQ(raw[1].as<std::string>(), "csv");
  EXPECT_EQ(rows("account_id = 'acct-c'"), 2);
}

// The round trip over HTTP: GET with Accept: text/csv from account A, POST
// that CSV to /ingest/cdr?account_id=E, GET E's CSV: the same rows, column by
// column, but for the account (also inside custom_channel_vars), the source
// and the import tag.
TEST_F(ImportE2E, TheCsvExportOfOneAccountImportsIntoAnother) {
  for (int i = 0; i < 3; ++i) {
    const HttpResponse r = http_request(port(), "POST", "/ingest/freeswitch/json", unique_cdr(random_uuid(), "acct-x"),
                                        {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  const auto export_csv = [&](const std::string& account) {
    return http_request(port(), "GET",
                        "/v2/accounts/" + account + "/cdrs?created_from=63682800000&created_to=63682900000&detail=full",
                        "", {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}});
  };
  const auto rows_of = [](const std::string& csv) {
    std::vector<std::vector<std::string>> rows;
    CsvReader reader(csv);
    CsvRow row;
    std::string error;
    while (reader.next(&row, &error)) rows.push_back(row.fields);
    EXPECT_EQ(error, "");
    return rows;
  };
  HttpResponse a;
  ASSERT_TRUE(eventually([&] {
    a = export_csv("acct-x");
    return a.status == 200 && rows_of(a.body).size() == 4;
  })) << a.body;
  EXPECT_EQ(a.headers["content-type"], "text/csv; charset=utf-8");

  HttpResponse r = post_import(port(), a.body, "?account_id=acct-e", "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["accepted"].GetInt(), 3);
  HttpResponse e;
  ASSERT_TRUE(eventually([&] {
    e = export_csv("acct-e");
    return e.status == 200 && rows_of(e.body).size() == 4;
  })) << e.body;

  const auto a_rows = rows_of(a.body);
  const auto e_rows = rows_of(e.body);
  ASSERT_EQ(a_rows[0], e_rows[0]);  // the header
  const std::vector<std::string>& header = a_rows[0];
  for (size_t i = 1; i < a_rows.size(); ++i) {
    ASSERT_EQ(a_rows[i].size(), header.size());
    ASSERT_EQ(e_rows[i].size(), header.size());
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string& column = header[c];
      if (column == "account_id") {
        EXPECT_EQ(a_rows[i][c], "acct-x");
        EXPECT_EQ(e_rows[i][c], "acct-e");
      } else if (column == "custom_channel_vars") {
        EXPECT_EQ(replace_all(a_rows[i][c], "acct-x", "acct-e"), e_rows[i][c]);
      } else if (column == "source") {
        EXPECT_EQ(a_rows[i][c], "json_cdr");
        EXPECT_EQ(e_rows[i][c], "import");
      } else if (column == "imported") {
        EXPECT_EQ(a_rows[i][c], "");
        EXPECT_EQ(e_rows[i][c], "true");
      } else {
        EXPECT_EQ(a_rows[i][c], e_rows[i][c]) << column;
      }
    }
  }
  // A is untouched.
  EXPECT_EQ(export_csv("acct-x").body, a.body);
}

}  // namespace
}  // namespace cdrd::test
