// Call assembly against a real PostgreSQL (daemon/db/call_store.h): a call
// through three hops (user -> loopback -> loopback -> carrier), its six legs
// made by the real mod_json_cdr, mod_xml_cdr and ESL normalizers, written in
// every one of the 720 arrival orders, each leg in a batch of its own (the
// worst case: every later leg re-links rows already stored).
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/normalize.h"
#include "daemon/db/call_store.h"
#include "daemon/db/cdr_row.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"

namespace cdrd {
namespace {

using test::ChainFormat;
using test::ChainLeg;

// 2 hours ago (the writer's ensure_partitions is not running here; the
// rows of any month land in cdrs_default).
int64_t base_us() {
  static const int64_t base =
      (std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
       7200) *
      1000000;
  return base;
}

const std::vector<ChainLeg>& chain() { return test::three_hop_chain(); }

EslEvent esl_event(const std::map<std::string, std::string>& v) {
  const std::string body = test::chain_esl_body(v);
  EslFrame frame;
  frame.headers = {{"Content-Length", std::to_string(body.size())}, {"Content-Type", "text/event-plain"}};
  frame.body = body;
  EslEvent event;
  std::string error;
  EXPECT_TRUE(parse_esl_event(frame, &event, &error)) << error;
  return event;
}

CdrRow row_of(const ChainLeg& leg, const std::string& account) {
  NormalizeOptions options;
  options.node = "cdrd-test";
  const auto v = test::chain_variables(leg, account, base_us());
  NormalizeResult result;
  switch (leg.format) {
    case ChainFormat::kJson:
      result = normalize_json_cdr(test::chain_json_cdr(v), options);
      break;
    case ChainFormat::kXml:
      result = normalize_xml_cdr(test::chain_xml_cdr(v), options);
      break;
    case ChainFormat::kEsl:
      result = normalize_esl_event(esl_event(v), options);
      break;
  }
  EXPECT_TRUE(result.ok()) << leg.uuid << ": " << result.error.message;
  CdrRow row;
  std::string error;
  EXPECT_TRUE(extract_columns(result.record, &row, &error)) << error;
  return row;
}

// One batch, as the writer stores it.
void store(pqxx::connection& conn, std::vector<CdrRow> rows) {
  pqxx::work tx(conn);
  std::vector<CdrRow*> pointers;
  pointers.reserve(rows.size());
  for (auto& r : rows) pointers.push_back(&r);
  CallStepOutcome calls;
  store_rows(tx, pointers, nullptr, UpsertMode::kRicherWins, &calls);
  tx.commit();
}

class CallAssemblyPg : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = test::create_migrated_database("call_assembly");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    create_staging_table(*conn_);
    create_call_tables(*conn_);
  }
  // (call_id, interaction_id column, record's interaction_id, direction_class column, record's direction_class,
  // leg_interaction_id, trunk, call_root)
  pqxx::result legs(const std::string& account) {
    pqxx::nontransaction tx(*conn_);
    return tx.exec_params(
        "SELECT call_id, interaction_id, record->>'interaction_id', direction_class, record->>'direction_class',"
        " leg_interaction_id, trunk, call_root FROM cdrs WHERE account_id = $1 ORDER BY call_id",
        account);
  }
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(CallAssemblyPg, ThreeHopChainIsOneInteractionInEveryArrivalOrder) {
  const std::string a_uuid = chain()[0].uuid;
  std::vector<std::vector<size_t>> orders;
  std::vector<size_t> order(chain().size());
  std::iota(order.begin(), order.end(), size_t{0});
  do {
    orders.push_back(order);
  } while (std::next_permutation(order.begin(), order.end()));
  ASSERT_EQ(orders.size(), 720U);
  // Batch `step` holds leg order[step] of every order, each order in an
  // account of its own (calls never span accounts): every order sees its
  // legs arrive one batch at a time, in its own sequence, and the 720 run
  // side by side in six batches.
  for (size_t step = 0; step < chain().size(); ++step) {
    std::vector<CdrRow> rows;
    for (size_t k = 0; k < orders.size(); ++k)
      rows.push_back(row_of(chain()[orders[k][step]], "order-" + std::to_string(k)));
    store(*conn_, rows);
  }
  for (size_t k = 0; k < orders.size(); ++k) {
    const std::string account = "order-" + std::to_string(k);
    const pqxx::result rows = legs(account);
    ASSERT_EQ(rows.size(), 6U) << account;
    for (const auto& r : rows) {
      const std::string call_id = r[0].as<std::string>();
      EXPECT_EQ(r[1].as<std::string>(), a_uuid) << account << " " << call_id;
      EXPECT_EQ(r[2].as<std::string>(), a_uuid) << account << " " << call_id;
      EXPECT_EQ(r[3].as<std::string>(), "outbound") << account << " " << call_id;
      EXPECT_EQ(r[4].as<std::string>(), "outbound") << account << " " << call_id;
      // The A-leg (chain()[0], the earliest started) stands for the call, whatever came first.
      EXPECT_EQ(r[7].as<bool>(), call_id == a_uuid) << account << " " << call_id;
    }
    if (HasFailure()) return;
  }
}

TEST_F(CallAssemblyPg, AJoiningLegRelinksTwoStoredGroupsAndKeepsEachLegsOwnInteraction) {
  const std::string account = "relink";
  // Everything but the first loopback's second half: two groups.
  for (size_t i : {0, 1, 3, 4, 5}) store(*conn_, {row_of(chain()[i], account)});
  pqxx::result rows = legs(account);
  std::map<std::string, std::string> before;
  for (const auto& r : rows) before[r[0].as<std::string>()] = r[1].as<std::string>();
  EXPECT_EQ(before[chain()[0].uuid], chain()[0].uuid);
  EXPECT_EQ(before[chain()[1].uuid], chain()[0].uuid);
  // The far group's root is the carrier leg (the loopback halves are
  // internal), which names the second loopback's b-half as its interaction.
  EXPECT_EQ(before[chain()[5].uuid], chain()[4].uuid);
  EXPECT_EQ(before[chain()[3].uuid], chain()[4].uuid);
  // Two calls, two roots: the A-leg and the carrier leg.
  std::set<std::string> roots;
  for (const auto& r : rows) {
    if (r[7].as<bool>()) roots.insert(r[0].as<std::string>());
  }
  EXPECT_EQ(roots, (std::set<std::string>{chain()[0].uuid, chain()[5].uuid}));

  // Rows stored before migration 006 have no leg_interaction_id: their
  // interaction_id is the leg's own. A re-link must keep it.
  {
    pqxx::nontransaction tx(*conn_);
    tx.exec_params(
        "UPDATE cdrs SET leg_interaction_id = NULL WHERE account_id = $1 AND "
        "leg_interaction_id = interaction_id",
        account);
  }
  store(*conn_, {row_of(chain()[2], account)});
  rows = legs(account);
  ASSERT_EQ(rows.size(), 6U);
  for (const auto& r : rows) {
    EXPECT_EQ(r[1].as<std::string>(), chain()[0].uuid) << r[0].as<std::string>();
    EXPECT_EQ(r[2].as<std::string>(), chain()[0].uuid) << r[0].as<std::string>();
    // The re-link leaves one root: the carrier leg is no longer one.
    EXPECT_EQ(r[7].as<bool>(), r[0].as<std::string>() == chain()[0].uuid) << r[0].as<std::string>();
  }
  // leg_interaction_id keeps what each leg named itself.
  std::map<std::string, std::string> own;
  for (const auto& r : rows) own[r[0].as<std::string>()] = r[5].is_null() ? "" : r[5].as<std::string>();
  EXPECT_EQ(own[chain()[5].uuid], chain()[4].uuid);
  EXPECT_EQ(own[chain()[4].uuid], chain()[4].uuid);
  EXPECT_EQ(own[chain()[2].uuid], chain()[2].uuid);
  pqxx::nontransaction tx(*conn_);
  EXPECT_EQ(
      tx.exec_params1("SELECT count(DISTINCT call_id) FROM cdr_links WHERE account_id = $1", account)[0].as<int>(), 6);
}

TEST_F(CallAssemblyPg, AllLegsInOneBatchAndAReplayChangeNothing) {
  const std::string account = "one-batch";
  std::vector<CdrRow> rows;
  for (const auto& leg : chain()) rows.push_back(row_of(leg, account));
  store(*conn_, rows);
  store(*conn_, rows);  // a replay after a crash
  const pqxx::result stored = legs(account);
  ASSERT_EQ(stored.size(), 6U);
  for (const auto& r : stored) EXPECT_EQ(r[1].as<std::string>(), chain()[0].uuid);
  for (const auto& r : stored) {
    if (r[0].as<std::string>() == chain()[5].uuid) {
      EXPECT_EQ(r[6].as<std::string>(), "carrier1");
    }
  }
}

}  // namespace
}  // namespace cdrd
