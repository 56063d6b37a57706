// Call assembly against a real PostgreSQL (daemon/db/call_store.h): a call
// through three hops (user -> loopback -> loopback -> carrier), its six legs
// made by the real mod_json_cdr, mod_xml_cdr and ESL normalizers, written in
// every one of the 720 arrival orders, each leg in a batch of its own (the
// worst case: every later leg re-links rows already stored). Each order is
// an account of its own in one database, so the orders cannot see each other.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/normalize.h"
#include "daemon/db/call_store.h"
#include "daemon/db/cdr_row.h"
#include "tests/support/pg_server.h"

namespace cdrd {
namespace {

constexpr int64_t kSecond = 1000000;

enum class Format { kJson, kXml, kEsl };

struct LegSpec {
  std::string uuid;
  Format format;
  int64_t start_offset_ms;
  int64_t end_offset_s;
  std::map<std::string, std::string> variables;  // beyond uuid, times and account
};

// 2 hours ago: the current month's partition exists (the writer's
// ensure_partitions is not running here; migrations create cdrs_default only,
// which takes any month too).
int64_t base_us() {
  static const int64_t base =
      (std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
       7200) *
      kSecond;
  return base;
}

const std::vector<LegSpec>& chain() {
  static const std::vector<LegSpec> legs = {
      {"a0000000-0000-4000-8000-00000000000a",
       Format::kJson,
       0,
       100,
       {{"direction", "inbound"}, {"channel_name", "sofia/internal/1000@10.0.0.5"}, {"destination_number", "33170363950"}}},
      {"a0000000-0000-4000-8000-0000000001a1",
       Format::kXml,
       500,
       100,
       {{"direction", "outbound"},
        {"channel_name", "loopback/33170363950-a"},
        {"originator", "a0000000-0000-4000-8000-00000000000a"},
        {"originating_leg_uuid", "a0000000-0000-4000-8000-00000000000a"}}},
      // The other half of the first loopback ends minutes after its partner.
      {"a0000000-0000-4000-8000-0000000001b1",
       Format::kEsl,
       500,
       280,
       {{"direction", "inbound"},
        {"channel_name", "loopback/33170363950-b"},
        {"other_loopback_leg_uuid", "a0000000-0000-4000-8000-0000000001a1"}}},
      {"a0000000-0000-4000-8000-0000000002a2",
       Format::kJson,
       1000,
       281,
       {{"direction", "outbound"},
        {"channel_name", "loopback/33170363950-a"},
        {"originator", "a0000000-0000-4000-8000-0000000001b1"},
        {"originating_leg_uuid", "a0000000-0000-4000-8000-0000000001b1"}}},
      {"a0000000-0000-4000-8000-0000000002b2",
       Format::kXml,
       1000,
       290,
       {{"direction", "inbound"},
        {"channel_name", "loopback/33170363950-b"},
        {"other_loopback_leg_uuid", "a0000000-0000-4000-8000-0000000002a2"}}},
      {"a0000000-0000-4000-8000-00000000000b",
       Format::kEsl,
       1500,
       291,
       {{"direction", "outbound"},
        {"channel_name", "sofia/external/33170363950@carrier.example"},
        {"sip_gateway_name", "carrier1"},
        {"originator", "a0000000-0000-4000-8000-0000000002b2"},
        {"originating_leg_uuid", "a0000000-0000-4000-8000-0000000002b2"}}},
  };
  return legs;
}

std::map<std::string, std::string> all_variables(const LegSpec& leg, const std::string& account) {
  std::map<std::string, std::string> v = leg.variables;
  v["uuid"] = leg.uuid;
  v["account_id"] = account;
  const int64_t start = base_us() + leg.start_offset_ms * 1000;
  v["start_uepoch"] = std::to_string(start);
  v["answer_uepoch"] = std::to_string(start + 2 * kSecond);
  v["end_uepoch"] = std::to_string(base_us() + leg.end_offset_s * kSecond);
  v["hangup_cause"] = "NORMAL_CLEARING";
  return v;
}

std::string json_document(const std::map<std::string, std::string>& v) {
  std::string out = R"({"core-uuid":"c0de0000-0000-4000-8000-000000000001","switchname":"fs1","variables":{)";
  bool first = true;
  for (const auto& [name, value] : v) {
    out += (first ? "\"" : ",\"") + name + "\":\"" + value + "\"";
    first = false;
  }
  return out + "}}";
}

std::string xml_document(const std::map<std::string, std::string>& v) {
  std::string out = "<?xml version=\"1.0\"?>\n<cdr core-uuid=\"c0de0000-0000-4000-8000-000000000001\"><variables>";
  for (const auto& [name, value] : v) out += "<" + name + ">" + value + "</" + name + ">";
  return out + "</variables></cdr>";
}

EslEvent esl_event(const std::map<std::string, std::string>& v) {
  std::string body = "Event-Name: CHANNEL_HANGUP_COMPLETE\nUnique-ID: " + v.at("uuid") +
                     "\nFreeSWITCH-Hostname: fs1\nCall-Direction: " + v.at("direction") + "\n";
  for (const auto& [name, value] : v) body += "variable_" + name + ": " + value + "\n";
  body += "\n";
  EslFrame frame;
  frame.headers = {{"Content-Length", std::to_string(body.size())}, {"Content-Type", "text/event-plain"}};
  frame.body = body;
  EslEvent event;
  std::string error;
  EXPECT_TRUE(parse_esl_event(frame, &event, &error)) << error;
  return event;
}

CdrRow row_of(const LegSpec& leg, const std::string& account) {
  NormalizeOptions options;
  options.node = "cdrd-test";
  const auto v = all_variables(leg, account);
  NormalizeResult result;
  switch (leg.format) {
    case Format::kJson:
      result = normalize_json_cdr(json_document(v), options);
      break;
    case Format::kXml:
      result = normalize_xml_cdr(xml_document(v), options);
      break;
    case Format::kEsl:
      result = normalize_esl_event(esl_event(v), options);
      break;
  }
  EXPECT_TRUE(result.ok()) << leg.uuid << ": " << result.error.message;
  CdrRow row;
  std::string error;
  EXPECT_TRUE(extract_columns(result.record, &row, &error)) << error;
  return row;
}

// One batch, as the writer stores it, in `tx`.
void store(pqxx::transaction_base& tx, std::vector<CdrRow> rows) {
  std::vector<CdrRow*> pointers;
  for (auto& r : rows) pointers.push_back(&r);
  CallStepOutcome calls;
  store_rows(tx, pointers, nullptr, UpsertMode::kRicherWins, &calls);
}

void store(pqxx::connection& conn, std::vector<CdrRow> rows) {
  pqxx::work tx(conn);
  store(tx, std::move(rows));
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
  // (call_id, interaction_id column, record's interaction_id, direction_class column, record's direction_class)
  pqxx::result legs(const std::string& account) {
    pqxx::nontransaction tx(*conn_);
    return tx.exec_params(
        "SELECT call_id, interaction_id, record->>'interaction_id', direction_class, record->>'direction_class',"
        " leg_interaction_id, trunk FROM cdrs WHERE account_id = $1 ORDER BY call_id",
        account);
  }
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(CallAssemblyPg, ThreeHopChainIsOneInteractionInEveryArrivalOrder) {
  const std::string a_uuid = chain()[0].uuid;
  std::vector<size_t> order(chain().size());
  std::iota(order.begin(), order.end(), size_t{0});
  int k = 0;
  do {
    const std::string account = "order-" + std::to_string(k++);
    {
      // One transaction per order (fast), one batch per leg: each batch sees
      // the rows of those before it as stored, as separate commits would.
      pqxx::work tx(*conn_);
      for (size_t i : order) store(tx, {row_of(chain()[i], account)});
      tx.commit();
    }
    const pqxx::result rows = legs(account);
    ASSERT_EQ(rows.size(), 6U) << account;
    for (const auto& r : rows) {
      const std::string call_id = r[0].as<std::string>();
      EXPECT_EQ(r[1].as<std::string>(), a_uuid) << account << " " << call_id;
      EXPECT_EQ(r[2].as<std::string>(), a_uuid) << account << " " << call_id;
      EXPECT_EQ(r[3].as<std::string>(), "outbound") << account << " " << call_id;
      EXPECT_EQ(r[4].as<std::string>(), "outbound") << account << " " << call_id;
    }
    if (HasFailure()) return;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(k, 720);
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

  store(*conn_, {row_of(chain()[2], account)});
  rows = legs(account);
  ASSERT_EQ(rows.size(), 6U);
  for (const auto& r : rows) {
    EXPECT_EQ(r[1].as<std::string>(), chain()[0].uuid) << r[0].as<std::string>();
    EXPECT_EQ(r[2].as<std::string>(), chain()[0].uuid) << r[0].as<std::string>();
  }
  // leg_interaction_id keeps what each leg named itself.
  std::map<std::string, std::string> own;
  for (const auto& r : rows) own[r[0].as<std::string>()] = r[5].is_null() ? "" : r[5].as<std::string>();
  EXPECT_EQ(own[chain()[5].uuid], chain()[4].uuid);
  EXPECT_EQ(own[chain()[2].uuid], chain()[2].uuid);
  pqxx::nontransaction tx(*conn_);
  EXPECT_EQ(tx.exec_params1("SELECT count(DISTINCT call_id) FROM cdr_links WHERE account_id = $1", account)[0]
                .as<int>(),
            6);
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
