// End to end: the list route's filters, paginate=false and the CSV export
// over HTTP against the real daemon, on 2,500 rows written into its database.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/canonical/cdr_csv.h"
#include "tests/e2e/bulk_cdrs.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};
const std::map<std::string, std::string> kAKey = {{"X-Auth-Token", "a-key"}};
constexpr int kRows = 2500;
// 2021-03-01T00:00:00Z; two rows a second, so the rows span 1,250 s.
constexpr long long kT0 = 1614556800LL + 62167219200LL;
const std::string kWindow = "created_from=" + std::to_string(kT0) + "&created_to=" + std::to_string(kT0 + 3600);

std::string bulk_id(int g) {
  std::string n = std::to_string(g);
  return "bulk-" + std::string(7 - n.size(), '0') + n;
}

std::vector<std::string> ids_of(const rapidjson::Value& data) {
  std::vector<std::string> ids;
  for (const auto& item : data.GetArray()) ids.emplace_back(item["id"].GetString());
  return ids;
}

std::vector<std::string> newest_first(const std::vector<int>& gs) {
  std::vector<std::string> ids;
  for (auto it = gs.rbegin(); it != gs.rend(); ++it) ids.push_back(bulk_id(*it));
  return ids;
}

std::string header(const HttpResponse& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

std::vector<CsvRow> csv_rows(const std::string& body) {
  CsvReader reader(body);
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string error;
  while (reader.next(&row, &error)) rows.push_back(row);
  EXPECT_EQ(error, "");
  return rows;
}

class ReadApiE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_read");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    insert_bulk_cdrs(dsn_, "acct-a", "bulk", kT0, kRows, 2);
    insert_bulk_cdrs(dsn_, "acct-b", "other", kT0, 20, 2);
  }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = kAllKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }
  // Every page of `target` through next_start_key.
  std::vector<std::string> all_pages(const std::string& target) {
    std::vector<std::string> ids;
    std::string key;
    for (int i = 0; i < 1000; ++i) {
      HttpResponse r = get(target + (key.empty() ? "" : "&start_key=" + key));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      const auto doc = parse_json(r.body);
      const auto got = ids_of(doc["data"]);
      ids.insert(ids.end(), got.begin(), got.end());
      if (!doc.HasMember("next_start_key")) return ids;
      key = doc["next_start_key"].GetString();
    }
    return ids;
  }
  void expect_bad(const std::string& target, const std::string& parameter) {
    for (const std::string prefix : {"/v2", "/v1", ""}) {
      HttpResponse r = get(prefix + target);
      EXPECT_EQ(r.status, 400) << prefix + target << ": " << r.body;
      const auto doc = parse_json(r.body);
      ASSERT_TRUE(doc.IsObject() && doc.HasMember("message")) << r.body;
      EXPECT_EQ(std::string(doc["code"].GetString()), "invalid_parameter") << r.body;
      EXPECT_EQ(std::string(doc["message"].GetString()).rfind(parameter, 0), 0u) << r.body;
      EXPECT_TRUE(doc.HasMember("request_id"));
    }
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TEST_F(ReadApiE2E, FiltersSelectRowsUnderEveryPrefix) {
  const std::string list = "/accounts/acct-a/cdrs?" + kWindow;
  for (const std::string prefix : {"/v2", "/v1", ""}) {
    EXPECT_EQ(all_pages(prefix + list + "&filter_caller_id_number=1007&page_size=2"), newest_first({7, 1007, 2007}));
    EXPECT_EQ(all_pages(prefix + list + "&filter_callee_id_number=44200000012*&ascending=true&page_size=3"),
              (std::vector<std::string>{bulk_id(120), bulk_id(121), bulk_id(122), bulk_id(123), bulk_id(124),
                                        bulk_id(125), bulk_id(126), bulk_id(127), bulk_id(128), bulk_id(129)}));
  }
  // Filters AND together: owner o-3 and 3 billed seconds is g = 3 mod 120.
  std::vector<int> gs;
  for (int g = 3; g <= kRows; g += 120) gs.push_back(g);
  EXPECT_EQ(all_pages("/v2" + list + "&filter_custom_channel_vars.owner_id=o-3&filter_billing_seconds=3&page_size=5"),
            newest_first(gs));
  EXPECT_EQ(gs.size(), 21u);
  // acct-b's rows match too; they never show under acct-a.
  EXPECT_EQ(all_pages("/v2" + list + "&filter_id=other-0000001"), std::vector<std::string>{});
  // The interaction route takes them as well (each bulk row is its own call).
  EXPECT_EQ(all_pages("/v2/accounts/acct-a/cdrs/interaction?" + kWindow + "&filter_caller_id_number=1007"),
            newest_first({7, 1007, 2007}));
}

TEST_F(ReadApiE2E, BadParametersAre400NamingTheParameter) {
  const std::string list = "/accounts/acct-a/cdrs?" + kWindow;
  expect_bad(list + "&filter_caller_id_number=*", "filter_caller_id_number");
  expect_bad(list + "&filter_billing_seconds=3*", "filter_billing_seconds");
  expect_bad(list + "&filter_billing_seconds=three", "filter_billing_seconds");
  expect_bad(list + "&filter_billing_seconds=" + url_encode("[3,\"x\"]"), "filter_billing_seconds");
  expect_bad(list + "&filter_hangup_cause=" + url_encode("[{\"a\":1}]"), "filter_hangup_cause");
  expect_bad(list + "&filter_imported=yes", "filter_imported");
  expect_bad(list + "&filter_custom_channel_vars..owner_id=o-1", "filter_custom_channel_vars..owner_id");
  expect_bad(list + "&has_key=", "has_key");
  expect_bad(list + "&paginate=maybe", "paginate");
  expect_bad(list + "&ascending=up", "ascending");
  expect_bad(list + "&descending=yes", "descending");
  expect_bad(list + "&detail=some", "detail");
  expect_bad(list + "&accept=xml", "accept");
  expect_bad(list + "&utc_offset=1h", "utc_offset");
  expect_bad(list + "&tz=Mars/Olympus", "tz");
  expect_bad(list + "&page_size=0", "page_size");
  expect_bad("/accounts/acct-a/cdrs?created_from=yesterday", "created_from");
}

// Kazoo's rules: an unknown parameter is ignored, a filter may name any path
// (a missing field reads as ""), page_size means nothing to a streamed read.
TEST_F(ReadApiE2E, WhatKazooAcceptsIsNotRefused) {
  const std::string list = "/v2/accounts/acct-a/cdrs?" + kWindow;
  for (const std::string none : {"&filter_nope=1", "&filter_account_id=acct-b", "&filter_caller_id_number=",
                                 "&filter_custom_channel_vars.a%27b=1", "&colour=blue&filter_id=bulk-0000001x"}) {
    const HttpResponse r = get(list + none);
    ASSERT_EQ(r.status, 200) << none << ": " << r.body;
    EXPECT_EQ(parse_json(r.body)["data"].Size(), 0u) << none;
  }
  // filter_nope= (empty): every row lacks "nope".
  EXPECT_EQ(all_pages(list + "&filter_nope=&filter_caller_id_number=1007&page_size=2"), newest_first({7, 1007, 2007}));
  const HttpResponse whole = get(list + "&paginate=false&page_size=10&colour=blue");
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(parse_json(whole.body)["data"].Size(), static_cast<size_t>(kRows));
  const HttpResponse csv =
      get(list + "&page_size=10&filter_caller_id_number=1007", {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}});
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv_rows(csv.body).size(), 4u);
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/" + bulk_id(1) + "?filter_leg=A&colour=blue").status, 200);
}

TEST_F(ReadApiE2E, PaginateFalseSendsTheWholeWindowInOrder) {
  for (const bool ascending : {false, true}) {
    const HttpResponse r =
        get("/v2/accounts/acct-a/cdrs?" + kWindow + "&paginate=false" + (ascending ? "&ascending=true" : ""));
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    EXPECT_EQ(header(r, "transfer-encoding"), "chunked");
    EXPECT_EQ(header(r, "content-type"), "application/json");
    const auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject() && doc["data"].IsArray()) << r.body.substr(0, 500);
    EXPECT_EQ(doc["page_size"].GetUint64(), static_cast<uint64_t>(kRows));
    EXPECT_FALSE(doc.HasMember("next_start_key"));
    EXPECT_EQ(std::string(doc["status"].GetString()), "success");
    EXPECT_EQ(doc["request_id"].GetString(), header(r, "x-request-id"));
    EXPECT_TRUE(doc.HasMember("timestamp"));
    const auto ids = ids_of(doc["data"]);
    ASSERT_EQ(ids.size(), static_cast<size_t>(kRows));
    for (int i = 0; i < kRows; ++i) EXPECT_EQ(ids[i], bulk_id(ascending ? i + 1 : kRows - i)) << i;
    // Kazoo's rows: bulk row g has owner o-<g mod 10>.
    EXPECT_EQ(std::string(doc["data"][0]["owner_id"].GetString()), ascending ? "o-1" : "o-0");
    EXPECT_EQ(std::string(doc["data"][0]["direction"].GetString()), "inbound");
    EXPECT_FALSE(doc["data"][0].HasMember("account_id"));
  }
  // With a filter, and from a start_key: the rest of the window after it.
  const HttpResponse filtered =
      get("/v1/accounts/acct-a/cdrs?" + kWindow + "&paginate=false&filter_caller_id_number=1007");
  ASSERT_EQ(filtered.status, 200);
  EXPECT_EQ(ids_of(parse_json(filtered.body)["data"]), newest_first({7, 1007, 2007}));
  const auto first = parse_json(get("/v2/accounts/acct-a/cdrs?" + kWindow + "&page_size=1000").body);
  const std::string key = first["next_start_key"].GetString();
  const auto rest = parse_json(get("/v2/accounts/acct-a/cdrs?" + kWindow + "&paginate=false&start_key=" + key).body);
  EXPECT_EQ(rest["page_size"].GetUint64(), static_cast<uint64_t>(kRows - 1000));
  EXPECT_EQ(std::string(rest["start_key"].GetString()), key);
  EXPECT_EQ(std::string(rest["data"][0]["id"].GetString()), bulk_id(kRows - 1000));
}

// detail=full: the stored records, and the CSV POST /ingest/cdr reads back.
TEST_F(ReadApiE2E, FullCsvExportParsesBackToTheSameRecords) {
  const HttpResponse json = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&paginate=false&detail=full");
  ASSERT_EQ(json.status, 200);
  const auto doc = parse_json(json.body);
  for (const std::string accept : {"text/csv", "application/octet-stream"}) {
    const HttpResponse r =
        get("/v2/accounts/acct-a/cdrs?" + kWindow + "&detail=full", {{"X-Auth-Token", "all-key"}, {"Accept", accept}});
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    EXPECT_EQ(header(r, "content-type"), "text/csv; charset=utf-8");
    EXPECT_EQ(header(r, "transfer-encoding"), "chunked");
    EXPECT_EQ(header(r, "content-disposition"), "attachment; filename=\"result.csv\"");
    EXPECT_EQ(r.body.compare(0, cdr_csv_header().size(), cdr_csv_header()), 0);
    // The SDPs' CRLFs and the caller name's comma and quotes are quoted.
    EXPECT_NE(r.body.find(",\"Caller, \"\"2500\"\" Ltd\","), std::string::npos);
    const auto rows = csv_rows(r.body);
    ASSERT_EQ(rows.size(), static_cast<size_t>(kRows + 1));
    // Row by row, the same records as the JSON list, newest first.
    for (int i = 0; i < kRows; ++i) {
      std::string record, error;
      ASSERT_TRUE(cdr_csv_row_to_json(rows[0].fields, rows[i + 1].fields, &record, &error)) << error;
      rapidjson::Document got;
      got.Parse(record);
      ASSERT_EQ(got, doc["data"][i]) << i << ": " << record;
    }
  }
  // A filter, and start_key resuming after a page.
  const HttpResponse filtered = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&filter_caller_id_number=1007&detail=full",
                                    {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}});
  const auto frows = csv_rows(filtered.body);
  ASSERT_EQ(frows.size(), 4u);
  EXPECT_EQ(frows[1].fields[0], bulk_id(2007));
  EXPECT_EQ(frows[3].fields[0], bulk_id(7));
  const auto page = parse_json(get("/v2/accounts/acct-a/cdrs?" + kWindow + "&page_size=100").body);
  const HttpResponse rest =
      get("/v2/accounts/acct-a/cdrs?" + kWindow + "&detail=full&start_key=" + page["next_start_key"].GetString(),
          {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}});
  const auto rrows = csv_rows(rest.body);
  ASSERT_EQ(rrows.size(), static_cast<size_t>(kRows - 100 + 1));
  EXPECT_EQ(rrows[1].fields[0], bulk_id(kRows - 100));
}

TEST_F(ReadApiE2E, CsvOfOneCdrAndOfTheLegsOfACall) {
  const std::map<std::string, std::string> csv = {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}};
  HttpResponse r = get("/v2/accounts/acct-a/cdrs/" + bulk_id(42), csv);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(header(r, "content-disposition"), "attachment; filename=\"result.csv\"");
  auto rows = csv_rows(r.body);
  ASSERT_EQ(rows.size(), 2u);
  std::string record, error;
  ASSERT_TRUE(cdr_csv_row_to_json(rows[0].fields, rows[1].fields, &record, &error)) << error;
  rapidjson::Document got;
  got.Parse(record);
  EXPECT_EQ(got, parse_json(get("/v2/accounts/acct-a/cdrs/" + bulk_id(42)).body)["data"]);

  r = get("/v1/accounts/acct-a/cdrs/legs/" + bulk_id(42), csv);  // interaction_id = its own id
  ASSERT_EQ(r.status, 200) << r.body;
  rows = csv_rows(r.body);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].fields[0], bulk_id(42));
  // Not found stays a JSON error.
  r = get("/v2/accounts/acct-a/cdrs/nope", csv);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "not_found");
}

TEST_F(ReadApiE2E, StreamedReadsKeepToTheKeysAccounts) {
  HttpResponse r = get("/v2/accounts/acct-b/cdrs?" + kWindow + "&paginate=false", kAKey);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "forbidden");
  const HttpResponse csv =
      get("/v2/accounts/acct-b/cdrs?" + kWindow, {{"X-Auth-Token", "a-key"}, {"Accept", "text/csv"}});
  EXPECT_EQ(csv.status, 403);
  const HttpResponse own =
      get("/v2/accounts/acct-b/cdrs?" + kWindow, {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}});
  EXPECT_EQ(csv_rows(own.body).size(), 21u);
}

}  // namespace
}  // namespace cdrd::test
