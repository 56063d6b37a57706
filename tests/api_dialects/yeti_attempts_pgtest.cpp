// Yeti's list parameters (yeti_api.h) run through the read core's attempt
// source (call_row_source.h) on the real PostgreSQL: every filter column
// and sort of yeti_api.cpp's fixed table is valid SQL over the attempt leg
// (c) and its root (r), and selects what the document shows. The rows are
// stored as the writer stores them (store_rows: call assembly, row
// numbers): an inbound call of acct-a (the A-leg in through gateway
// carrier-in; B1 rang 1..21 s, no answer; B2 started at 22 s, answered at
// 24 s, ended at 62 s: 38 s) and the same call in acct-b. Expected ids are
// the legs' row_seq, read back by call_id.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "adapters/freeswitch/normalize.h"
#include "daemon/api/call_row_source.h"
#include "daemon/api/yeti/yeti_api.h"
#include "daemon/db/batch_sql.h"
#include "daemon/db/call_store.h"
#include "daemon/db/cdr_row.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"

namespace cdrd {
namespace {

constexpr int64_t kSecond = 1000000;

struct Leg {
  std::string uuid;
  int64_t start_s;
  int64_t answer_s;  // 0 = not answered
  int64_t end_s;
  std::map<std::string, std::string> vars;
};

CdrRow row_of(const Leg& leg, const std::string& account, int64_t base_us) {
  std::map<std::string, std::string> v = leg.vars;
  v["uuid"] = leg.uuid;
  v["account_id"] = account;
  v["start_uepoch"] = std::to_string(base_us + leg.start_s * kSecond);
  v["answer_uepoch"] = leg.answer_s == 0 ? "0" : std::to_string(base_us + leg.answer_s * kSecond);
  v["end_uepoch"] = std::to_string(base_us + leg.end_s * kSecond);
  v["caller_id_number"] = "+33 1 70 36 39 50";
  v["caller_id_name"] = "Front Desk";
  v["destination_number"] = "33170363951";
  v["callee_id_number"] = "33170363951";
  if (v.count("hangup_cause") == 0) v["hangup_cause"] = "NORMAL_CLEARING";
  NormalizeOptions options;
  options.node = "cdrd-test";
  const NormalizeResult result = normalize_json_cdr(test::chain_json_cdr(v), options);
  EXPECT_TRUE(result.ok()) << leg.uuid << ": " << result.error.message;
  CdrRow row;
  std::string error;
  EXPECT_TRUE(extract_columns(result.record, &row, &error)) << error;
  return row;
}

std::vector<Leg> call(const std::string& tag) {
  const std::string a = "d0000000-0000-4000-8000-" + tag + "0000000a";
  const std::map<std::string, std::string> from_a = {
      {"direction", "outbound"}, {"originator", a}, {"originating_leg_uuid", a}};
  std::map<std::string, std::string> b1 = from_a;
  b1["hangup_cause"] = "NO_ANSWER";
  b1["sip_term_status"] = "480";
  b1["sip_network_ip"] = "10.0.0.7";
  std::map<std::string, std::string> b2 = from_a;
  b2["sip_term_status"] = "200";
  b2["sip_call_id"] = "AbCd-1234@pbx";
  b2["sip_user_agent"] = "Yealink T46";
  return {{a, 0, 2, 62, {{"direction", "inbound"}, {"sip_gateway_name", "carrier-in"}}},
          {"d0000000-0000-4000-8000-" + tag + "000000b1", 1, 0, 21, b1},
          {"d0000000-0000-4000-8000-" + tag + "000000b2", 22, 24, 62, b2}};
}

class YetiAttemptsPg : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = test::create_migrated_database("yeti_attempts");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    create_staging_table(*conn_);
    create_call_tables(*conn_);
    now_ =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    base_us_ = (now_ - 7200) * kSecond;
    for (const std::string account : {"acct-a", "acct-b"}) {
      std::vector<CdrRow> rows;
      for (const Leg& leg : call(account == "acct-a" ? "0001" : "0002")) rows.push_back(row_of(leg, account, base_us_));
      pqxx::work tx(*conn_);
      std::vector<CdrRow*> pointers;
      pointers.reserve(rows.size());
      for (auto& r : rows) pointers.push_back(&r);
      CallStepOutcome outcome;
      store_rows(tx, pointers, nullptr, UpsertMode::kRicherWins, &outcome);
      tx.commit();
    }
    b1_ = seq("d0000000-0000-4000-8000-0001000000b1");
    b2_ = seq("d0000000-0000-4000-8000-0001000000b2");
  }
  std::string seq(const std::string& call_id) {
    pqxx::nontransaction tx(*conn_);
    return tx.exec_params1("SELECT row_seq::text FROM cdrs WHERE call_id = $1", call_id)[0].as<std::string>();
  }
  // The ids of acct-a's list for `params`.
  std::vector<std::string> ids(const ApiParams& params) {
    YetiListRequest list;
    YetiError err;
    EXPECT_TRUE(parse_yeti_list(params, now_, 2682000, &list, &err)) << err.detail;
    list.window.account_id = "acct-a";
    const AttemptPage page = list_attempts(*conn_, list.window, yeti_attempt_classes());
    std::vector<std::string> out;
    for (const AttemptRow& row : page.rows) out.push_back(std::to_string(row.seq));
    return out;
  }
  std::string iso(int64_t offset_s, const char* tail = "Z") const {
    const auto t = static_cast<std::time_t>(base_us_ / kSecond + offset_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string(buf) + tail;
  }

  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
  int64_t now_ = 0;
  int64_t base_us_ = 0;
  std::string b1_;
  std::string b2_;
};

using Ids = std::vector<std::string>;

TEST_F(YetiAttemptsPg, TheAttemptsOfTheAccountNewestFirst) {
  EXPECT_EQ(ids({}), (Ids{b2_, b1_}));
  YetiListRequest list;
  YetiError err;
  ASSERT_TRUE(parse_yeti_list({}, now_, 2682000, &list, &err));
  list.window.account_id = "acct-a";
  EXPECT_EQ(list_attempts(*conn_, list.window, yeti_attempt_classes()).total, 2);
  const auto one = attempt_by_seq(*conn_, "acct-a", std::stoll(b2_), yeti_attempt_classes());
  ASSERT_TRUE(one.has_value());
  EXPECT_NE(one->attempt.find("d0000000-0000-4000-8000-0001000000b2"), std::string::npos);
  EXPECT_NE(one->root.find("d0000000-0000-4000-8000-00010000000a"), std::string::npos);
  // acct-b's attempt is not acct-a's.
  EXPECT_FALSE(
      attempt_by_seq(*conn_, "acct-a", std::stoll(seq("d0000000-0000-4000-8000-0002000000b2")), yeti_attempt_classes())
          .has_value());
}

TEST_F(YetiAttemptsPg, EveryFilterColumnSelectsWhatTheDocumentShows) {
  EXPECT_EQ(ids({{"filter[id_eq]", b1_}}), Ids{b1_});
  EXPECT_EQ(ids({{"filter[id_in]", b1_ + "," + b2_}}), (Ids{b2_, b1_}));
  EXPECT_EQ(ids({{"filter[time-start_gteq]", iso(1)}, {"filter[time-start_lt]", iso(22)}}), Ids{b1_});
  EXPECT_EQ(ids({{"filter[time-start_eq]", iso(22, ".000Z")}}), Ids{b2_});
  EXPECT_EQ(ids({{"filter[time-connect_gt]", iso(23)}}), Ids{b2_});
  EXPECT_EQ(ids({{"filter[time-end_lteq]", iso(21)}}), Ids{b1_});
  EXPECT_EQ(ids({{"filter[time-end_gteq]", iso(62)}}), Ids{b2_});
  EXPECT_EQ(ids({{"filter[duration_eq]", "38"}}), Ids{b2_});
  EXPECT_EQ(ids({{"filter[duration_lt]", "1"}}), Ids{b1_});
  EXPECT_EQ(ids({{"filter[success_eq]", "true"}}), Ids{b2_});
  EXPECT_EQ(ids({{"filter[success_eq]", "false"}}), Ids{b1_});
  EXPECT_EQ(ids({{"filter[src-name-out_cont]", "front"}}), (Ids{b2_, b1_}));
  EXPECT_EQ(ids({{"filter[src-prefix-out_start]", "+33 1"}}), (Ids{b2_, b1_}));
  EXPECT_EQ(ids({{"filter[dst-prefix-out_eq]", "33170363951"}}), (Ids{b2_, b1_}));
  // The root's number as digits: "+33 1 70 36 39 50" routes as 33170363950.
  EXPECT_EQ(ids({{"filter[src-prefix-routing_eq]", "33170363950"}}), (Ids{b2_, b1_}));
  EXPECT_EQ(ids({{"filter[src-prefix-routing_start]", "+33"}}), Ids{});
  EXPECT_EQ(ids({{"filter[dst-prefix-routing_in]", "1,33170363951"}}), (Ids{b2_, b1_}));
  EXPECT_EQ(ids({{"filter[legb-disconnect-code_gteq]", "400"}}), Ids{b1_});
  EXPECT_EQ(ids({{"filter[sign-term-ip_eq]", "10.0.0.7"}}), Ids{b1_});
  EXPECT_EQ(ids({{"filter[term-call-id_cont]", "abcd"}}), Ids{b2_});
  EXPECT_EQ(ids({{"filter[legb-user-agent_start]", "yealink"}}), Ids{b2_});
}

TEST_F(YetiAttemptsPg, SortAndPage) {
  EXPECT_EQ(ids({{"sort", "duration"}}), (Ids{b1_, b2_}));
  EXPECT_EQ(ids({{"sort", "-time-end"}}), (Ids{b2_, b1_}));
  EXPECT_EQ(ids({{"sort", "time-start"}}), (Ids{b1_, b2_}));
  EXPECT_EQ(ids({{"sort", "-id"}}), std::stoll(b1_) > std::stoll(b2_) ? (Ids{b1_, b2_}) : (Ids{b2_, b1_}));
  EXPECT_EQ(ids({{"page[size]", "1"}, {"page[number]", "2"}}), Ids{b1_});
  EXPECT_EQ(ids({{"page[size]", "1"}, {"page[number]", "3"}}), Ids{});
}

}  // namespace
}  // namespace cdrd
