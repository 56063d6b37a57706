// filter_<field> on the list and interaction queries (CdrListQuery::filters)
// against rows inserted with plain SQL, the 003 use cases among them, Kazoo's
// crossbar_filter kinds (lists, filter_not_, has_key, key_missing,
// has_value, value_missing, any path), and keyset paging while new rows
// arrive.
#include "daemon/api/cdr_filter.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <tuple>
#include <vector>

#include "daemon/api/cdr_store.h"
#include "daemon/db/migrations.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200LL;
// 2030-05-23T00:00:00Z.
constexpr int64_t kBase = 1905724800LL + kGregorianUnixOffset;

using Ids = std::vector<std::string>;

// Typed columns are filled from the record, as the writer does.
const char* const kInsertSql =
    "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, duration_seconds, billing_seconds, call_direction, "
    "hangup_cause, billing_status, caller_id_number, callee_id_number, from_uri, to_uri, interaction_id, "
    "media_server, leg, source, imported, record) "
    "SELECT r->>'id', to_timestamp((r->>'timestamp')::bigint - 62167219200), (r->>'timestamp')::bigint, "
    "r->>'account_id', r->>'call_id', COALESCE((r->>'duration_seconds')::int, 0), "
    "COALESCE((r->>'billing_seconds')::int, 0), r->>'call_direction', r->>'hangup_cause', r->>'billing_status', "
    "r->>'caller_id_number', r->>'callee_id_number', r->>'from_uri', r->>'to_uri', r->>'interaction_id', "
    "r->>'media_server', r->>'leg', COALESCE(r->>'source', 'json_cdr'), COALESCE((r->>'imported')::boolean, false), r "
    "FROM (SELECT $1::jsonb AS r) s";

std::string record(const std::string& id, const std::string& account, int64_t ts, const std::string& members) {
  return "{\"id\":\"" + id + "\",\"call_id\":\"" + id + "\",\"account_id\":\"" + account +
         "\",\"timestamp\":" + std::to_string(ts) + "," + members + "}";
}

// Five legs of acct-a and one of acct-b that matches what r1 matches.
const std::vector<std::string> kRecords = {
    record("r1", "acct-a", kBase + 10,
           R"("caller_id_number":"1001","callee_id_number":"442079460001","to":"sip:442079460001@pbx.example.com",
              "from":"sip:1001@pbx.example.com","request":"sip:442079460001@10.0.0.1:5060",
              "from_uri":"sip:1001@198.51.100.4","to_uri":"sip:442079460001@pbx.example.com",
              "media_server":"fs1","media_server_ip":"10.0.0.1","sip_network_ip":"198.51.100.4",
              "local_rtp_ip":"10.0.0.1","remote_rtp_ip":"192.0.2.7","billing_seconds":30,"duration_seconds":31,
              "hangup_cause":"NORMAL_CLEARING","billing_status":"answered","call_direction":"inbound",
              "custom_channel_vars":{"owner_id":"o-1","account_id":"acct-a"})"),
    record("r2", "acct-a", kBase + 20,
           R"("caller_id_number":"1002","callee_id_number":"442079460002","to":"sip:442079460002@pbx.example.com",
              "from_uri":"sip:1002@198.51.100.5","media_server":"fs2","media_server_ip":"10.0.0.2",
              "sip_network_ip":"198.51.100.5","local_rtp_ip":"10.0.0.2","remote_rtp_ip":"192.0.2.8",
              "billing_seconds":0,"hangup_cause":"USER_BUSY","billing_status":"busy","source":"import",
              "imported":true,"custom_channel_vars":{"owner_id":"o-2"})"),
    record("r3", "acct-a", kBase + 30,
           R"("caller_id_number":"1001","callee_id_number":"13125550100","to":"sip:13125550100@pbx.example.com",
              "from_uri":"sip:1001@198.51.100.4","media_server":"fs1","media_server_ip":"10.0.0.1",
              "sip_network_ip":"198.51.100.4","local_rtp_ip":"10.0.0.1","remote_rtp_ip":"203.0.113.9",
              "billing_seconds":30,"hangup_cause":"NORMAL_CLEARING","billing_status":"answered",
              "interaction_id":"call-3","leg":"A","custom_channel_vars":{"owner_id":"o-1"})"),
    record("r5", "acct-a", kBase + 40,
           R"("caller_id_number":"1001","callee_id_number":"442079460003","to":"sip:442079460003@pbx.example.com",
              "media_server":"fs2","media_server_ip":"10.0.0.2","billing_seconds":30,
              "hangup_cause":"NORMAL_CLEARING","billing_status":"answered","interaction_id":"call-3","leg":"B",
              "custom_channel_vars":{"owner_id":"o-3"})"),
    record("r4", "acct-b", kBase + 15,
           R"("caller_id_number":"1001","callee_id_number":"442079460001","to":"sip:442079460001@pbx.example.com",
              "media_server_ip":"10.0.0.1","remote_rtp_ip":"192.0.2.7","billing_seconds":30,
              "custom_channel_vars":{"owner_id":"o-1"})"),
};

void insert(pqxx::connection& conn, const std::string& json) {
  pqxx::work tx(conn);
  tx.exec_params(kInsertSql, json);
  tx.commit();
}

class CdrFilterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dsn_ = new std::string(create_migrated_database("cdr_filter"));
    pqxx::connection conn(*dsn_);
    std::string error;
    ASSERT_TRUE(apply_migrations(conn, nullptr, &error)) << error;
    const auto may = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(kBase - kGregorianUnixOffset));
    ASSERT_TRUE(ensure_partitions(conn, may, 1, &error)) << error;
    for (const std::string& r : kRecords) insert(conn, r);
  }
  static void TearDownTestSuite() {
    delete dsn_;
    dsn_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(dsn_, nullptr);
    store_ = std::make_unique<CdrStore>(*dsn_, 10000);
  }

  static CdrListQuery query(const std::map<std::string, std::string>& filters, const std::string& account = "acct-a") {
    CdrListQuery q;
    q.account_id = account;
    q.from_gregorian = kBase;
    q.to_gregorian = kBase + 100;
    q.page_size = 100;
    for (const auto& [name, value] : filters) {
      CdrFilter f;
      std::string error;
      EXPECT_TRUE(parse_cdr_filter(name, value, &f, &error)) << error;
      q.filters.push_back(f);
    }
    return q;
  }

  static Ids ids_of(const CdrPage& page) {
    Ids ids;
    for (const std::string& r : page.records) {
      rapidjson::Document doc;
      doc.Parse(r);
      ids.emplace_back(doc["id"].GetString());
    }
    return ids;
  }

  Ids list(const std::map<std::string, std::string>& filters, const std::string& account = "acct-a") {
    return ids_of(store_->list(query(filters, account)));
  }

  static std::string* dsn_;
  std::unique_ptr<CdrStore> store_;
};

std::string* CdrFilterTest::dsn_ = nullptr;

TEST_F(CdrFilterTest, TypedColumnsExactAndPrefix) {
  EXPECT_EQ(list({}), (Ids{"r5", "r3", "r2", "r1"}));
  EXPECT_EQ(list({{"filter_callee_id_number", "442079460001"}}), Ids{"r1"});
  EXPECT_EQ(list({{"filter_callee_id_number", "4420*"}}), (Ids{"r5", "r2", "r1"}));
  EXPECT_EQ(list({{"filter_caller_id_number", "1001"}}), (Ids{"r5", "r3", "r1"}));
  EXPECT_EQ(list({{"filter_hangup_cause", "USER_BUSY"}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_hangup_cause", "NORMAL*"}}), (Ids{"r5", "r3", "r1"}));
  EXPECT_EQ(list({{"filter_id", "r3"}}), Ids{"r3"});
  EXPECT_EQ(list({{"filter_leg", "B"}}), Ids{"r5"});
  EXPECT_EQ(list({{"filter_source", "import"}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_media_server", "fs*"}}), (Ids{"r5", "r3", "r2", "r1"}));
  EXPECT_EQ(list({{"filter_callee_id_number", "99*"}}), Ids{});
}

TEST_F(CdrFilterTest, IntegerAndBooleanColumnsMatchExactly) {
  EXPECT_EQ(list({{"filter_billing_seconds", "30"}}), (Ids{"r5", "r3", "r1"}));
  EXPECT_EQ(list({{"filter_billing_seconds", "0"}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_duration_seconds", "31"}}), Ids{"r1"});
  EXPECT_EQ(list({{"filter_timestamp", std::to_string(kBase + 20)}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_imported", "true"}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_imported", "false"}}), (Ids{"r5", "r3", "r1"}));
  EXPECT_EQ(list({{"filter_is_loopback", "true"}}), Ids{});
}

// 003: customer, area code/number, to/from destination, media server IP,
// SIP address, RTP address.
TEST_F(CdrFilterTest, UseCasesOf003) {
  // customer: the account is the path's; within it, the owner.
  EXPECT_EQ(list({{"filter_custom_channel_vars.owner_id", "o-1"}}), (Ids{"r3", "r1"}));
  EXPECT_EQ(list({{"filter_custom_channel_vars.owner_id", "o-1"}}, "acct-b"), Ids{"r4"});
  // area code / number
  EXPECT_EQ(list({{"filter_callee_id_number", "1312*"}}), Ids{"r3"});
  // to / from destination
  EXPECT_EQ(list({{"filter_to", "sip:442079460001@pbx.example.com"}}), Ids{"r1"});
  EXPECT_EQ(list({{"filter_to", "sip:4420*"}}), (Ids{"r5", "r2", "r1"}));
  EXPECT_EQ(list({{"filter_from", "sip:1001@*"}}), Ids{"r1"});
  EXPECT_EQ(list({{"filter_request", "sip:442079460001@*"}}), Ids{"r1"});
  EXPECT_EQ(list({{"filter_to_uri", "sip:442079460001@pbx.example.com"}}), Ids{"r1"});
  // media server IP
  EXPECT_EQ(list({{"filter_media_server_ip", "10.0.0.1"}}), (Ids{"r3", "r1"}));
  EXPECT_EQ(list({{"filter_media_server_ip", "10.0.0.*"}}), (Ids{"r5", "r3", "r2", "r1"}));
  // SIP address
  EXPECT_EQ(list({{"filter_sip_network_ip", "198.51.100.4"}}), (Ids{"r3", "r1"}));
  EXPECT_EQ(list({{"filter_from_uri", "sip:1002@*"}}), Ids{"r2"});
  // RTP address: the c= lines of the SDPs
  EXPECT_EQ(list({{"filter_remote_rtp_ip", "192.0.2.7"}}), Ids{"r1"});
  EXPECT_EQ(list({{"filter_remote_rtp_ip", "192.0.2.*"}}), (Ids{"r2", "r1"}));
  EXPECT_EQ(list({{"filter_local_rtp_ip", "10.0.0.2"}}), Ids{"r2"});
}

TEST_F(CdrFilterTest, FiltersAndTogetherAndNeverLeaveTheAccount) {
  EXPECT_EQ(list({{"filter_caller_id_number", "1001"}, {"filter_callee_id_number", "4420*"}}), (Ids{"r5", "r1"}));
  EXPECT_EQ(list({{"filter_caller_id_number", "1001"}, {"filter_billing_seconds", "0"}}), Ids{});
  // r4 (acct-b) matches these too; it never shows up under acct-a.
  EXPECT_EQ(list({{"filter_callee_id_number", "442079460001"}, {"filter_remote_rtp_ip", "192.0.2.7"}}), Ids{"r1"});
  EXPECT_EQ(list({{"filter_id", "r4"}}), Ids{});
  EXPECT_EQ(list({{"filter_callee_id_number", "442079460001"}}, "acct-b"), Ids{"r4"});
}

TEST_F(CdrFilterTest, ValuesAreParametersNotSql) {
  EXPECT_EQ(list({{"filter_caller_id_number", "1001' OR '1'='1"}}), Ids{});
  EXPECT_EQ(list({{"filter_to", "x') OR true --"}}), Ids{});
  EXPECT_EQ(list({{"filter_custom_channel_vars.owner_id", "o-1' OR 'a'='a"}}), Ids{});
  // Not UTF-8: no stored value can match; no rows, no error.
  EXPECT_EQ(list({{"filter_caller_id_number", std::string("\xff\xfe")}}), Ids{});
}

TEST_F(CdrFilterTest, FilteredPagesFollowTheKeysetBothWays) {
  for (const bool ascending : {false, true}) {
    CdrListQuery q = query({{"filter_caller_id_number", "1001"}});
    q.page_size = 1;
    q.ascending = ascending;
    Ids seen;
    for (int i = 0; i < 10; ++i) {
      const CdrPage page = store_->list(q);
      const Ids got = ids_of(page);
      seen.insert(seen.end(), got.begin(), got.end());
      if (!page.next) break;
      q.after = page.next;
    }
    EXPECT_EQ(seen, ascending ? (Ids{"r1", "r3", "r5"}) : (Ids{"r5", "r3", "r1"}));
  }
}

TEST_F(CdrFilterTest, InteractionsFilterOnTheirRepresentativeLeg) {
  // r3 is call-3's A-leg; r5 (its B-leg) is not a row of its own.
  EXPECT_EQ(ids_of(store_->interactions(query({{"filter_caller_id_number", "1001"}}))), (Ids{"r3", "r1"}));
  EXPECT_EQ(ids_of(store_->interactions(query({{"filter_leg", "B"}}))), Ids{});
  EXPECT_EQ(ids_of(store_->interactions(query({{"filter_callee_id_number", "1312*"}}))), Ids{"r3"});
}

// Kazoo's crossbar_filter, run by PostgreSQL: a missing field reads as "",
// a list is any of its members, any path into the record.
TEST_F(CdrFilterTest, KazoosFilterKinds) {
  EXPECT_EQ(list({{"filter_hangup_cause", R"(["USER_BUSY","NO_ANSWER"])"}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_hangup_cause", R"(["USER_BUSY","NORMAL_CLEARING"])"}}), (Ids{"r5", "r3", "r2", "r1"}));
  EXPECT_EQ(list({{"filter_billing_seconds", "[0]"}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_custom_channel_vars.owner_id", R"(["o-2","o-3"])"}}), (Ids{"r5", "r2"}));
  EXPECT_EQ(list({{"filter_not_hangup_cause", "NORMAL_CLEARING"}}), Ids{"r2"});
  EXPECT_EQ(list({{"filter_not_custom_channel_vars.owner_id", "o-1"}}), (Ids{"r5", "r2"}));
  EXPECT_EQ(list({{"filter_not_leg", "A"}}), (Ids{"r5", "r2", "r1"}));  // no leg is "", not A
  EXPECT_EQ(list({{"filter_from", ""}}), (Ids{"r5", "r3", "r2"}));      // only r1 has a from
  EXPECT_EQ(list({{"has_key", "interaction_id"}}), (Ids{"r5", "r3"}));
  EXPECT_EQ(list({{"key_missing", "interaction_id"}}), (Ids{"r2", "r1"}));
  EXPECT_EQ(list({{"has_value", "custom_channel_vars.account_id"}}), Ids{"r1"});
  EXPECT_EQ(list({{"value_missing", "from"}}), (Ids{"r5", "r3", "r2"}));
  // r2 bills 0 seconds: Kazoo's is_empty/1 calls 0 empty.
  EXPECT_EQ(list({{"has_value", "billing_seconds"}}), (Ids{"r5", "r3", "r1"}));
  // A CDR id given as a call id (cb_cdrs:fix_qs_filter_keys/1).
  EXPECT_EQ(list({{"filter_call_id", "203005-r3"}}), Ids{"r3"});
  EXPECT_EQ(list({{"filter_nope", "x"}}), Ids{});
  EXPECT_EQ(list({{"filter_nope", ""}}), (Ids{"r5", "r3", "r2", "r1"}));
  // A user token's restriction.
  CdrListQuery q = query({});
  q.filters.push_back(owner_filter("o-1"));
  EXPECT_EQ(ids_of(store_->list(q)), (Ids{"r3", "r1"}));
}

std::string parse_error(const std::string& name, const std::string& value) {
  CdrFilter f;
  std::string error;
  EXPECT_FALSE(parse_cdr_filter(name, value, &f, &error)) << name << "=" << value;
  return error;
}

TEST(CdrFilterParseTest, RefusesWhatCannotBeAFilterNamingTheParameter) {
  EXPECT_EQ(parse_error("filter_caller_id_number", "*"),
            "filter_caller_id_number: '*' alone matches everything; give a prefix before it or leave the filter out");
  EXPECT_EQ(parse_error("filter_billing_seconds", "3*"),
            "filter_billing_seconds: a prefix ('*') applies only to text fields");
  EXPECT_EQ(parse_error("filter_billing_seconds", "thirty"),
            "filter_billing_seconds: expected a non-negative integer (or a list of them), got 'thirty'");
  EXPECT_EQ(parse_error("filter_billing_seconds", "-1"),
            "filter_billing_seconds: expected a non-negative integer (or a list of them), got '-1'");
  EXPECT_EQ(parse_error("filter_imported", "yes"), "filter_imported: expected true or false, got 'yes'");
  EXPECT_EQ(parse_error("filter_custom_channel_vars.", "x"),
            "filter_custom_channel_vars.: the field after 'filter_' must be a dotted path into the CDR, at most 16 "
            "segments, none empty");
  EXPECT_EQ(parse_error("nope", "x"), "nope: not a filter parameter");
}

TEST(CdrFilterParseTest, BuildsBoundConditions) {
  std::vector<CdrFilter> filters(3);
  std::string error;
  ASSERT_TRUE(parse_cdr_filter("filter_callee_id_number", "4420*", &filters[0], &error));
  ASSERT_TRUE(parse_cdr_filter("filter_custom_channel_vars.owner_id", "o-1", &filters[1], &error));
  ASSERT_TRUE(parse_cdr_filter("filter_billing_seconds", "30", &filters[2], &error));
  std::string sql;
  std::vector<std::string> params = {"acct", "1", "2", "51"};
  append_filter_sql(filters, "c", &sql, &params);
  EXPECT_EQ(sql,
            " AND starts_with(c.callee_id_number, $5) AND (c.record #>> ARRAY[$6::text, $7::text]) = $8"
            " AND c.billing_seconds = $9::bigint");
  EXPECT_EQ(params,
            (std::vector<std::string>{"acct", "1", "2", "51", "4420", "custom_channel_vars", "owner_id", "o-1", "30"}));
}

// Keyset paging never skips or repeats a row that was there when paging
// began, whatever is inserted between pages: before the cursor, after it, at
// its very timestamp, or outside the window.
TEST(CdrKeysetPagingTest, NoRowSkippedOrRepeatedWhileRowsArrive) {
  const std::string dsn = create_migrated_database("cdr_paging");
  pqxx::connection conn(dsn);
  std::string error;
  ASSERT_TRUE(apply_migrations(conn, nullptr, &error)) << error;
  const auto may = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(kBase - kGregorianUnixOffset));
  ASSERT_TRUE(ensure_partitions(conn, may, 1, &error)) << error;
  const int64_t from = kBase + 1000;
  const int64_t to = kBase + 1200;
  std::map<std::string, int64_t> existing;  // id -> timestamp
  for (int i = 0; i < 45; ++i) {
    const std::string id = "p" + std::to_string(100 + i);
    const int64_t ts = from + int64_t{i / 3} * 7;  // three rows per timestamp: ties broken by id
    existing[id] = ts;
    insert(conn, record(id, "acct-p", ts, "\"leg\":\"A\""));
  }
  CdrStore store(dsn, 10000);
  for (const bool ascending : {false, true}) {
    CdrListQuery q;
    q.account_id = "acct-p";
    q.from_gregorian = from;
    q.to_gregorian = to;
    q.page_size = 6;
    q.ascending = ascending;
    std::map<std::string, int> seen;
    std::vector<std::pair<int64_t, std::string>> order;
    int added = 0;
    for (int pages = 0; pages < 100; ++pages) {
      const CdrPage page = store.list(q);
      for (const std::string& r : page.records) {
        rapidjson::Document doc;
        doc.Parse(r);
        const std::string id = doc["id"].GetString();
        ++seen[id];
        order.emplace_back(doc["timestamp"].GetInt64(), id);
      }
      if (!page.next) break;
      CdrCursor cursor;
      ASSERT_TRUE(decode_cursor(encode_cursor(*page.next), &cursor));
      q.after = cursor;
      // New rows: at the cursor's timestamp on both sides of its id, at both
      // ends of the window, and outside it.
      const std::string tag = std::string(ascending ? "a" : "d") + std::to_string(added++);
      for (const auto& [id, ts] : std::vector<std::pair<std::string, int64_t>>{{"n0" + tag, cursor.gregorian_ts},
                                                                               {"pz" + tag, cursor.gregorian_ts},
                                                                               {"new-lo-" + tag, from},
                                                                               {"new-hi-" + tag, to},
                                                                               {"new-out-" + tag, to + 50}}) {
        insert(conn, record(id, "acct-p", ts, "\"leg\":\"B\""));
      }
    }
    for (const auto& [id, ts] : existing) EXPECT_EQ(seen[id], 1) << id << (ascending ? " ascending" : " descending");
    for (const auto& [id, n] : seen) {
      EXPECT_EQ(n, 1) << id;
      EXPECT_EQ(id.rfind("new-out-", 0), std::string::npos) << id;
    }
    for (size_t i = 1; i < order.size(); ++i) {
      if (ascending) {
        EXPECT_LT(order[i - 1], order[i]);
      } else {
        EXPECT_GT(order[i - 1], order[i]);
      }
    }
    EXPECT_GT(added, 5);
  }
}

}  // namespace
}  // namespace cdrd::test
