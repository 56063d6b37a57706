// The call-level row sources (daemon/api/call_row_source.h) against a real
// PostgreSQL, over legs stored by the writer's own path (normalizer ->
// extract_columns -> store_rows: call assembly picks the roots). Four calls
// in account "acct" (base B = two hours ago, whole seconds):
//
//   X  the three-hop chain (tests/support/call_chain.h): user a -> two
//      loopback pairs -> carrier1 b; root a (B .. B+100), answered leg b
//      (B+1.5 .. B+291), outbound
//   Y  one internal leg (B+200 .. B+350), answered; no other leg
//   Z  user a (B+400 .. B+430) -> carrier2 b (B+400.5 .. B+430), neither
//      answered (NO_ANSWER): noanswer, outbound
//   W  carrier3 a (B+600 .. B+700, answered) -> user b (B+600.5 .. B+610,
//      USER_BUSY): inbound
//
// and Y's twin in account "other". Roots end at B+100 (X), B+350 (Y),
// B+430 (Z), B+700 (W): newest first W, Z, Y, X. Root durations 100, 150,
// 30, 100.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "adapters/freeswitch/normalize.h"
#include "daemon/api/call_row_source.h"
#include "daemon/api/record_view.h"
#include "daemon/api/wavix/wavix_cdr.h"
#include "daemon/api/wavix/wavix_query.h"
#include "daemon/db/batch_sql.h"
#include "daemon/db/call_store.h"
#include "daemon/db/cdr_row.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"

namespace cdrd {
namespace {

using test::ChainFormat;
using test::ChainLeg;

constexpr int64_t kSecond = 1000000;

int64_t base_s() {
  static const int64_t base =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
      7200;
  return base;
}

// A call's uuids: <prefix>-0000-4000-8000-00000000000a (root), ...0b.
std::string uuid_of(const std::string& prefix, const std::string& tail) {
  return prefix + "-0000-4000-8000-" + std::string(12 - tail.size(), '0') + tail;
}

CdrRow row_of(const std::map<std::string, std::string>& v) {
  NormalizeOptions options;
  options.node = "cdrd-test";
  const NormalizeResult result = normalize_json_cdr(test::chain_json_cdr(v), options);
  EXPECT_TRUE(result.ok()) << v.at("uuid") << ": " << result.error.message;
  CdrRow row;
  std::string error;
  EXPECT_TRUE(extract_columns(result.record, &row, &error)) << error;
  return row;
}

// A leg of a hand-made call (json_cdr), starting `start_ms` after `base`.
std::map<std::string, std::string> leg_variables(const std::string& uuid, const std::string& account, int64_t base,
                                                 int64_t start_ms, int64_t end_s, bool answered,
                                                 const std::string& cause,
                                                 const std::map<std::string, std::string>& extra) {
  const ChainLeg leg{uuid, ChainFormat::kJson, start_ms, end_s, extra};
  auto v = test::chain_variables(leg, account, base * kSecond);
  if (!answered) v.erase("answer_uepoch");
  v["hangup_cause"] = cause;
  return v;
}

void store(pqxx::connection& conn, std::vector<CdrRow> rows) {
  pqxx::work tx(conn);
  std::vector<CdrRow*> pointers;
  pointers.reserve(rows.size());
  for (auto& r : rows) pointers.push_back(&r);
  CallStepOutcome calls;
  store_rows(tx, pointers, nullptr, UpsertMode::kRicherWins, &calls);
  tx.commit();
}

std::string call_id_of(const std::string& record) {
  const RecordView r(record, "record");
  return std::string(r.str("call_id").value_or(""));
}

struct Ids {
  std::string root;
  std::string answered;  // "" for none
};

std::vector<Ids> ids_of(const CallPage& page) {
  std::vector<Ids> out;
  for (const CallRow& row : page.rows)
    out.push_back({call_id_of(row.root), row.answered ? call_id_of(*row.answered) : ""});
  return out;
}

bool operator==(const Ids& a, const Ids& b) { return a.root == b.root && a.answered == b.answered; }
void PrintTo(const Ids& ids, std::ostream* os) { *os << "{" << ids.root << ", " << ids.answered << "}"; }

const std::string kXa = "a0000000-0000-4000-8000-00000000000a";
const std::string kXb = "a0000000-0000-4000-8000-00000000000b";
const std::string kXloop = "a0000000-0000-4000-8000-0000000001a1";  // X's first loopback half
const std::string kYa = uuid_of("b0000000", "a");
const std::string kZa = uuid_of("c0000000", "a");
const std::string kZb = uuid_of("c0000000", "b");
const std::string kWa = uuid_of("d0000000", "a");
const std::string kWb = uuid_of("d0000000", "b");

class CallRowSourcePg : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = std::make_unique<pqxx::connection>(test::create_migrated_database("call_rows"));
    create_staging_table(*conn_);
    create_call_tables(*conn_);
    const int64_t b = base_s();
    std::vector<CdrRow> rows;
    // X: the chain as it is.
    for (const ChainLeg& leg : test::three_hop_chain()) {
      rows.push_back(row_of(test::chain_variables(leg, "acct", b * kSecond)));
    }
    // Y (and its twin in another account): one internal leg.
    const std::map<std::string, std::string> user = {
        {"direction", "inbound"}, {"channel_name", "sofia/internal/1000@10.0.0.5"}, {"destination_number", "1001"}};
    rows.push_back(row_of(leg_variables(kYa, "acct", b + 200, 0, 150, true, "NORMAL_CLEARING", user)));
    rows.push_back(row_of(leg_variables(kYa, "other", b + 200, 0, 150, true, "NORMAL_CLEARING", user)));
    // Z: a user's call out through carrier2 that nobody answered.
    rows.push_back(row_of(leg_variables(kZa, "acct", b + 400, 0, 30, false, "NO_ANSWER", user)));
    rows.push_back(row_of(leg_variables(kZb, "acct", b + 400, 500, 30, false, "NO_ANSWER",
                                        {{"direction", "outbound"},
                                         {"channel_name", "sofia/external/33170363950@carrier.example"},
                                         {"sip_gateway_name", "carrier2"},
                                         {"originator", kZa},
                                         {"originating_leg_uuid", kZa}})));
    // W: a call in from carrier3, answered by the IVR, to a busy user.
    rows.push_back(row_of(leg_variables(kWa, "acct", b + 600, 0, 100, true, "NORMAL_CLEARING",
                                        {{"direction", "inbound"},
                                         {"channel_name", "sofia/external/14302287001@carrier.example"},
                                         {"sip_gateway_name", "carrier3"},
                                         {"caller_id_number", "+1 (430) 228-7001"},
                                         {"destination_number", "1001"}})));
    rows.push_back(row_of(leg_variables(kWb, "acct", b + 600, 500, 10, false, "USER_BUSY",
                                        {{"direction", "outbound"},
                                         {"channel_name", "sofia/internal/1001@10.0.0.6"},
                                         {"originator", kWa},
                                         {"originating_leg_uuid", kWa}})));
    // One batch per call's worth of legs would do as well; the writer's
    // assembly is tested elsewhere (tests/db/call_assembly_pgtest.cpp).
    store(*conn_, rows);
  }

  RowWindow window(int64_t from_offset = 0, int64_t to_offset = 1000) const {
    RowWindow w;
    w.account_id = "acct";
    w.from_unix = base_s() + from_offset;
    w.to_unix = base_s() + to_offset;
    return w;
  }
  CallPage calls(const RowWindow& w) { return list_calls(*conn_, w); }
  std::vector<Ids> calls_where(RowCondition condition) {
    RowWindow w = window();
    w.conditions.push_back(std::move(condition));
    return ids_of(calls(w));
  }
  std::string scalar(const std::string& sql) {
    pqxx::nontransaction tx(*conn_);
    return tx.exec1(sql)[0].as<std::string>();
  }

  std::unique_ptr<pqxx::connection> conn_;
};

const Ids kX{kXa, kXb};
const Ids kY{kYa, ""};
const Ids kZ{kZa, kZb};
const Ids kW{kWa, kWb};  // W's user leg never answered: the last attempt stands in

TEST_F(CallRowSourcePg, OneRowPerCallWithItsRootAndAnsweredLeg) {
  const CallPage page = calls(window());
  EXPECT_EQ(ids_of(page), (std::vector<Ids>{kW, kZ, kY, kX}));
  EXPECT_EQ(page.total, 4);
  // The legs stored: 6 + 1 + 2 + 2 in acct, and Y's twin.
  EXPECT_EQ(scalar("SELECT count(*) FROM cdrs"), "12");
  EXPECT_EQ(scalar("SELECT count(*) FROM cdrs WHERE call_root"), "5");
}

TEST_F(CallRowSourcePg, OffsetLimitAndTheTotal) {
  RowWindow w = window();
  w.offset = 1;
  w.limit = 2;
  CallPage page = calls(w);
  EXPECT_EQ(ids_of(page), (std::vector<Ids>{kZ, kY}));
  EXPECT_EQ(page.total, 4);
  w.offset = 4;
  page = calls(w);
  EXPECT_TRUE(page.rows.empty());
  EXPECT_EQ(page.total, 4);
  // Without the count.
  w.offset = 3;
  page = list_calls(*conn_, w, false);
  EXPECT_EQ(ids_of(page), (std::vector<Ids>{kX}));
  EXPECT_EQ(page.total, 0);
  // Oldest first.
  w = window();
  w.order_by = "c.ts, c.id";
  EXPECT_EQ(ids_of(calls(w)), (std::vector<Ids>{kX, kY, kZ, kW}));
}

TEST_F(CallRowSourcePg, TheWindowIsTheRootsEndBothEndsInclusive) {
  // X's root ends at B+100 (its carrier leg at B+291 does not count).
  EXPECT_EQ(ids_of(calls(window(100, 100))), (std::vector<Ids>{kX}));
  EXPECT_EQ(ids_of(calls(window(101, 699))), (std::vector<Ids>{kZ, kY}));
  EXPECT_EQ(ids_of(calls(window(101, 700))), (std::vector<Ids>{kW, kZ, kY}));
  EXPECT_EQ(ids_of(calls(window(200, 300))), (std::vector<Ids>{}));
  EXPECT_EQ(calls(window(200, 300)).total, 0);
  // Another account's calls never show.
  RowWindow other = window();
  other.account_id = "other";
  EXPECT_EQ(ids_of(calls(other)), (std::vector<Ids>{kY}));
}

TEST_F(CallRowSourcePg, EachConditionOperator) {
  using Op = RowCondition::Op;
  EXPECT_EQ(calls_where({"c.direction_class", Op::kEq, {"outbound"}, ""}), (std::vector<Ids>{kZ, kX}));
  EXPECT_EQ(calls_where({"c.direction_class", Op::kIn, {"inbound", "internal"}, ""}), (std::vector<Ids>{kW, kY}));
  EXPECT_EQ(calls_where({"c.duration_seconds", Op::kGt, {"100"}, "bigint"}), (std::vector<Ids>{kY}));
  EXPECT_EQ(calls_where({"c.duration_seconds", Op::kGte, {"100"}, "bigint"}), (std::vector<Ids>{kW, kY, kX}));
  EXPECT_EQ(calls_where({"c.duration_seconds", Op::kLt, {"100"}, "bigint"}), (std::vector<Ids>{kZ}));
  EXPECT_EQ(calls_where({"c.duration_seconds", Op::kLte, {"30"}, "bigint"}), (std::vector<Ids>{kZ}));
  EXPECT_EQ(calls_where({"c.call_id", Op::kPrefix, {"c000"}, ""}), (std::vector<Ids>{kZ}));
  EXPECT_EQ(calls_where({"c.trunk", Op::kContains, {"rrier3"}, ""}), (std::vector<Ids>{kW}));
  EXPECT_EQ(calls_where({"c.billing_status", Op::kEq, {"noanswer"}, ""}), (std::vector<Ids>{kZ}));
  // Two conditions AND together; the total counts what they select.
  RowWindow w = window();
  w.conditions.push_back({"c.direction_class", Op::kEq, {"outbound"}, ""});
  w.conditions.push_back({"c.billing_status", Op::kEq, {"answered"}, ""});
  const CallPage page = calls(w);
  EXPECT_EQ(ids_of(page), (std::vector<Ids>{kX}));
  EXPECT_EQ(page.total, 1);
  // A value that looks like SQL is a value.
  EXPECT_EQ(calls_where({"c.call_id", Op::kEq, {"x' OR '1'='1"}, ""}), (std::vector<Ids>{}));
}

TEST_F(CallRowSourcePg, CallByRootIdAndByLegUuid) {
  const std::string xa_id = scalar("SELECT id FROM cdrs WHERE account_id = 'acct' AND call_id = '" + kXa + "'");
  const std::string xb_id = scalar("SELECT id FROM cdrs WHERE account_id = 'acct' AND call_id = '" + kXb + "'");
  auto row = call_by_root_id(*conn_, "acct", xa_id);
  ASSERT_TRUE(row);
  EXPECT_EQ(ids_of(CallPage{{*row}, 0}), (std::vector<Ids>{kX}));
  // A B-leg's id names no call; nor does another account.
  EXPECT_FALSE(call_by_root_id(*conn_, "acct", xb_id));
  EXPECT_FALSE(call_by_root_id(*conn_, "other", xa_id));

  for (const std::string& uuid : {kXa, kXb, kXloop}) {
    row = call_by_leg_uuid(*conn_, "acct", uuid);
    ASSERT_TRUE(row) << uuid;
    EXPECT_EQ(ids_of(CallPage{{*row}, 0}), (std::vector<Ids>{kX})) << uuid;
  }
  row = call_by_leg_uuid(*conn_, "acct", kWb);
  ASSERT_TRUE(row);
  EXPECT_EQ(ids_of(CallPage{{*row}, 0}), (std::vector<Ids>{kW}));
  row = call_by_leg_uuid(*conn_, "acct", kYa);
  ASSERT_TRUE(row);
  EXPECT_EQ(ids_of(CallPage{{*row}, 0}), (std::vector<Ids>{kY}));
  EXPECT_FALSE(call_by_leg_uuid(*conn_, "acct", "ffffffff-0000-4000-8000-000000000000"));
  EXPECT_FALSE(call_by_leg_uuid(*conn_, "other", kXb));
}

std::vector<std::pair<std::string, std::string>> attempts_of(const AttemptPage& page) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const AttemptRow& row : page.rows) out.emplace_back(call_id_of(row.attempt), call_id_of(row.root));
  return out;
}

TEST_F(CallRowSourcePg, AttemptsOfInboundAndOutboundCalls) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  const std::vector<std::string> inbound = {"inbound", "internal"};
  const std::vector<std::string> outbound = {"outbound"};
  // Inbound and internal: W's user leg (ends B+610) and Y alone (B+350);
  // W's root is no attempt of its own, loopback halves never are.
  AttemptPage page = list_attempts(*conn_, window(), inbound);
  EXPECT_EQ(attempts_of(page), (Pairs{{kWb, kWa}, {kYa, kYa}}));
  EXPECT_EQ(page.total, 2);
  // Outbound: Z's carrier leg (B+430) and X's (B+291).
  page = list_attempts(*conn_, window(), outbound);
  EXPECT_EQ(attempts_of(page), (Pairs{{kZb, kZa}, {kXb, kXa}}));
  EXPECT_EQ(page.total, 2);
  // The window is the attempt leg's end: X's carrier leg ends at B+291.
  EXPECT_EQ(attempts_of(list_attempts(*conn_, window(291, 291), outbound)), (Pairs{{kXb, kXa}}));
  EXPECT_EQ(attempts_of(list_attempts(*conn_, window(100, 100), outbound)), Pairs{});
  // Offset, limit and a condition.
  RowWindow w = window();
  w.offset = 1;
  w.limit = 1;
  page = list_attempts(*conn_, w, outbound);
  EXPECT_EQ(attempts_of(page), (Pairs{{kXb, kXa}}));
  EXPECT_EQ(page.total, 2);
  w = window();
  w.conditions.push_back({"c.billing_status", RowCondition::Op::kEq, {"busy"}, ""});
  EXPECT_EQ(attempts_of(list_attempts(*conn_, w, inbound)), (Pairs{{kWb, kWa}}));

  // By row number: each attempt's own seq, in its classes only.
  const auto seq_of = [&](const std::string& uuid) {
    return std::stoll(scalar("SELECT row_seq FROM cdrs WHERE account_id = 'acct' AND call_id = '" + uuid + "'"));
  };
  for (const AttemptRow& row : list_attempts(*conn_, window(), inbound).rows) {
    const auto one = attempt_by_seq(*conn_, "acct", row.seq, inbound);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->seq, row.seq);
    EXPECT_EQ(call_id_of(one->attempt), call_id_of(row.attempt));
  }
  auto one = attempt_by_seq(*conn_, "acct", seq_of(kWb), inbound);
  ASSERT_TRUE(one);
  EXPECT_EQ(call_id_of(one->attempt), kWb);
  EXPECT_EQ(call_id_of(one->root), kWa);
  one = attempt_by_seq(*conn_, "acct", seq_of(kYa), inbound);
  ASSERT_TRUE(one);
  EXPECT_EQ(call_id_of(one->root), kYa);
  EXPECT_FALSE(attempt_by_seq(*conn_, "acct", seq_of(kWb), outbound));
  EXPECT_FALSE(attempt_by_seq(*conn_, "other", seq_of(kWb), inbound));
  // A root with other legs, and a loopback half, are no attempts.
  EXPECT_FALSE(attempt_by_seq(*conn_, "acct", seq_of(kWa), inbound));
  EXPECT_FALSE(attempt_by_seq(*conn_, "acct", seq_of(kXloop), outbound));
  one = attempt_by_seq(*conn_, "acct", seq_of(kXb), outbound);
  ASSERT_TRUE(one);
  EXPECT_EQ(call_id_of(one->root), kXa);
}

// Wavix's filters (daemon/api/wavix/wavix_query.h) are SQL over the call's
// legs: each must select exactly the calls whose CDR object shows the value.
// By hand: dispositions X answered, Y answered, Z noanswer (neither leg
// answered), W answered (the root did; its user leg was busy); trunks X
// carrier1 (its carrier leg's), Z carrier2 (the leg's), W carrier3 (the
// root's), Y none; W's caller 14302287001, X's callee 33170363950, the
// others' callee 1001.
TEST_F(CallRowSourcePg, WavixFiltersSelectWhatTheObjectShows) {
  const auto wavix = [&](ApiParams params) {
    params.emplace("from", "2000-01-01");
    params.emplace("to", "2000-01-01");
    WavixListQuery q;
    std::string message;
    EXPECT_TRUE(parse_wavix_list_query(params, &q, &message)) << message;
    // The fixture's window instead of whole days around "now".
    q.window.account_id = "acct";
    q.window.from_unix = base_s();
    q.window.to_unix = base_s() + 1000;
    const CallPage page = calls(q.window);
    // The objects agree with the filter that chose them.
    for (const CallRow& row : page.rows) {
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      write_wavix_cdr(w, row);
      rapidjson::Document doc;
      doc.Parse(sb.GetString(), sb.GetSize());
      const auto d = params.find("disposition");
      if (d != params.end() && d->second != "all") {
        EXPECT_EQ(std::string(doc["disposition"].GetString()), d->second);
      }
      const auto t = params.find("sip_trunk");
      if (t != params.end()) {
        EXPECT_EQ(std::string(doc["sip_trunk"].GetString()), t->second);
      }
    }
    return ids_of(page);
  };
  EXPECT_EQ(wavix({{"type", "placed"}}), (std::vector<Ids>{kX}));
  EXPECT_EQ(wavix({{"type", "placed"}, {"disposition", "all"}}), (std::vector<Ids>{kZ, kX}));
  EXPECT_EQ(wavix({{"type", "placed"}, {"disposition", "noanswer"}}), (std::vector<Ids>{kZ}));
  EXPECT_EQ(wavix({{"type", "received"}}), (std::vector<Ids>{kW, kY}));
  EXPECT_EQ(wavix({{"type", "received"}, {"disposition", "busy"}}), (std::vector<Ids>{}));
  EXPECT_EQ(wavix({{"type", "received"}, {"disposition", "failed"}}), (std::vector<Ids>{}));
  EXPECT_EQ(wavix({{"type", "placed"}, {"sip_trunk", "carrier1"}}), (std::vector<Ids>{kX}));
  EXPECT_EQ(wavix({{"type", "placed"}, {"sip_trunk", "carrier2"}, {"disposition", "all"}}), (std::vector<Ids>{kZ}));
  EXPECT_EQ(wavix({{"type", "received"}, {"sip_trunk", "carrier3"}}), (std::vector<Ids>{kW}));
  EXPECT_EQ(wavix({{"type", "received"}, {"sip_trunk", "carrier1"}}), (std::vector<Ids>{}));
  EXPECT_EQ(wavix({{"type", "received"}, {"from_search", "4302287"}}), (std::vector<Ids>{kW}));
  EXPECT_EQ(wavix({{"type", "placed"}, {"to_search", "+33 1703"}}), (std::vector<Ids>{kX}));
  EXPECT_EQ(wavix({{"type", "received"}, {"to_search", "1001"}}), (std::vector<Ids>{kW, kY}));
  EXPECT_EQ(wavix({{"type", "placed"}, {"to_search", "1001"}, {"disposition", "all"}}), (std::vector<Ids>{kZ}));
  // Pages of one.
  EXPECT_EQ(wavix({{"type", "received"}, {"per_page", "1"}, {"page", "2"}}), (std::vector<Ids>{kY}));
}

}  // namespace
}  // namespace cdrd
