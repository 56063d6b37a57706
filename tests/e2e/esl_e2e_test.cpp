// End to end over ESL: the real cdrd binary connects to the test ESL server
// (a mod_event_socket stand-in), and the hangup events it receives end up in
// PostgreSQL and in the read API; ESL and mod_json_cdr for the same leg are
// one row.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "tests/adapters/esl_test_input.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/esl/esl_test_server.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};

// Hand-derived from the plain samples: id = month (UTC) of
// variable_start_uepoch + Unique-ID, account from variable_domain_name,
// duration from variable_duration.
struct EslExpectation {
  const char* file;
  const char* id;
  const char* call_id;
  const char* account;
  const char* hangup_cause;
  int duration_seconds;
};
const EslExpectation kPlain[] = {
    {"esl_hangup_plain_cgrates_2014.txt", "201404-37e9b766-5256-4e4b-b1ed-3767b930fec8",
     "37e9b766-5256-4e4b-b1ed-3767b930fec8", "192.168.56.66", "NORMAL_CLEARING", 18},
    {"esl_hangup_plain_cgrates_2015.txt", "201507-e3133bf7-dcde-4daf-9663-9a79ffcef5ad",
     "e3133bf7-dcde-4daf-9663-9a79ffcef5ad", "cgrates.org", "NORMAL_CLEARING", 66},
    {"esl_hangup_plain_cgrates_2018a.txt", "201803-a511b320-18a2-425f-b574-81a088fcd70a",
     "a511b320-18a2-425f-b574-81a088fcd70a", "192.168.56.202", "MANAGER_REQUEST", 5},
    {"esl_hangup_plain_cgrates_2018b.txt", "201803-5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4",
     "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4", "192.168.56.202", "NORMAL_CLEARING", 30},
};
const EslExpectation& k2018b = kPlain[3];

class EslE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("esl_e2e");
    ASSERT_TRUE(server_.start());
  }
  std::unique_ptr<CdrdProcess> start_cdrd(const std::string& extra_yaml = "") {
    const std::string yaml =
        "freeswitch:\n  - name: fs1\n    host: 127.0.0.1\n    port: " + std::to_string(server_.port()) +
        "\n    password: e2e-secret\n" + extra_yaml;
    server_.set_password("e2e-secret");
    auto p = std::make_unique<CdrdProcess>(dir_.path(), dsn_, yaml);
    EXPECT_TRUE(p->start()) << p->log();
    return p;
  }
  long long rows(const std::string& where) { return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE " + where); }
  std::string metrics(const CdrdProcess& cdrd) { return http_request(cdrd.port(), "GET", "/metrics").body; }
  bool connected(const CdrdProcess& cdrd) {
    return metrics(cdrd).find("cdrd_esl_connected{node=\"fs1\"} 1\n") != std::string::npos;
  }

  TempDir dir_;
  std::string dsn_;
  EslTestServer server_;
};

TEST_F(EslE2E, PlainHangupsBecomeRowsReadableByTheApi) {
  EslSessionScript script;
  std::string bytes = heartbeat_event_frame();
  for (const auto& s : kPlain) bytes += frame_plain_event(read_sample(s.file));
  script.after_subscribe.push_back(EslSend{bytes, {}, 900, 3, {}, {}});
  server_.add_session(script);
  auto cdrd = start_cdrd();
  ASSERT_TRUE(eventually([&] { return rows("source = 'esl'") == 4; })) << cdrd->log();
  for (const auto& s : kPlain) {
    SCOPED_TRACE(s.file);
    EXPECT_EQ(rows(std::string("id = '") + s.id + "' AND call_id = '" + s.call_id + "' AND account_id = '" + s.account +
                   "' AND hangup_cause = '" + s.hangup_cause +
                   "' AND duration_seconds = " + std::to_string(s.duration_seconds) + " AND raw_format = 'esl'"),
              1);
  }
  const HttpResponse r = http_request(
      cdrd->port(), "GET", std::string("/v2/accounts/") + k2018b.account + "/cdrs/" + k2018b.id, "", kAllKey);
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = parse_json(r.body);
  const auto& d = doc["data"];
  EXPECT_EQ(std::string(d["id"].GetString()), k2018b.id);
  EXPECT_EQ(std::string(d["call_id"].GetString()), k2018b.call_id);
  EXPECT_EQ(std::string(d["source"].GetString()), "esl");
  EXPECT_EQ(std::string(d["hangup_cause"].GetString()), "NORMAL_CLEARING");
  EXPECT_EQ(d["duration_seconds"].GetInt(), 30);
  EXPECT_EQ(d["billing_seconds"].GetInt(), 21);
  EXPECT_EQ(std::string(d["other_leg_call_id"].GetString()), "9c1afb4f-1d4a-4e45-84a3-d25721981bf5");
  EXPECT_EQ(std::string(d["node"].GetString()), "e2e-node");

  const std::string m = metrics(*cdrd);
  EXPECT_NE(m.find("cdrd_esl_connected{node=\"fs1\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("cdrd_esl_events_total{node=\"fs1\"} 5\n"), std::string::npos) << m;
  EXPECT_NE(m.find("cdrd_esl_auth_failures_total{node=\"fs1\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("cdrd_received_total{source=\"esl\"} 4\n"), std::string::npos) << m;
  const HttpResponse ready = http_request(cdrd->port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, "{\"status\":\"ready\",\"esl\":{\"fs1\":\"connected\"}}");
  const auto commands = server_.commands();
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0], "auth e2e-secret");
  EXPECT_EQ(commands[1], "event plain CHANNEL_HANGUP_COMPLETE HEARTBEAT");

  // SIGTERM: cdrd closes the link and exits cleanly.
  cdrd->signal(SIGTERM);
  EXPECT_EQ(cdrd->wait_exit(), 0) << cdrd->log();
  EXPECT_NE(cdrd->log().find("ESL fs1: stopped"), std::string::npos);
}

// The same leg by ESL (esl_hangup_plain_cgrates_2018b.txt) and by
// mod_json_cdr (json_cdr_cgrates_2018b.json): one row, which keeps the
// richer mod_json_cdr content whichever arrives first.
class EslAndHttpE2E : public EslE2E {
 protected:
  void push_esl_and_wait(const CdrdProcess& cdrd, int esl_events_before) {
    EslSessionScript script;
    script.after_subscribe.push_back(EslSend{frame_plain_event(read_sample(k2018b.file)), {}, 0, 1, {}, {}});
    server_.add_session(script);
    server_.stop();  // the next connection (after the restart) plays the script
    ASSERT_TRUE(server_.start(server_.port()));
    const std::string want = "cdrd_esl_events_total{node=\"fs1\"} " + std::to_string(esl_events_before + 1) + "\n";
    ASSERT_TRUE(eventually([&] { return metrics(cdrd).find(want) != std::string::npos; })) << metrics(cdrd);
  }
  // Every record handed to the spool has been through the writer.
  bool writer_caught_up(const CdrdProcess& cdrd, int records) {
    const std::string m = metrics(cdrd);
    return m.find("cdrd_spool_pending_records 0\n") != std::string::npos &&
           m.find("cdrd_written_total " + std::to_string(records) + "\n") != std::string::npos;
  }
  void expect_one_rich_row(const CdrdProcess& cdrd) {
    EXPECT_EQ(rows(std::string("id = '") + k2018b.id + "'"), 1);
    EXPECT_EQ(rows(std::string("id = '") + k2018b.id + "' AND source = 'json_cdr'"), 1);
    const HttpResponse r = http_request(
        cdrd.port(), "GET", std::string("/v2/accounts/") + k2018b.account + "/cdrs/" + k2018b.id, "", kAllKey);
    ASSERT_EQ(r.status, 200) << r.body;
    auto doc = parse_json(r.body);
    EXPECT_EQ(std::string(doc["data"]["source"].GetString()), "json_cdr");
    EXPECT_EQ(doc["data"]["billing_seconds"].GetInt(), 21);
  }
};

TEST_F(EslAndHttpE2E, EslFirstThenHttpIsOneRowWithTheHttpContent) {
  server_.add_session(EslSessionScript{});
  auto cdrd = start_cdrd();
  ASSERT_TRUE(eventually([&] { return connected(*cdrd); }));
  push_esl_and_wait(*cdrd, 0);
  ASSERT_TRUE(eventually([&] { return rows(std::string("id = '") + k2018b.id + "'") == 1; }));
  const HttpResponse post =
      http_request(cdrd->port(), "POST", "/ingest/freeswitch/json", read_sample("json_cdr_cgrates_2018b.json"),
                   {{"Content-Type", "application/json"}});
  ASSERT_EQ(post.status, 200) << post.body;
  ASSERT_TRUE(eventually([&] { return writer_caught_up(*cdrd, 2); })) << metrics(*cdrd);
  expect_one_rich_row(*cdrd);
}

TEST_F(EslAndHttpE2E, HttpFirstThenEslIsOneRowWithTheHttpContent) {
  server_.add_session(EslSessionScript{});
  auto cdrd = start_cdrd();
  ASSERT_TRUE(eventually([&] { return connected(*cdrd); }));
  const HttpResponse post =
      http_request(cdrd->port(), "POST", "/ingest/freeswitch/json", read_sample("json_cdr_cgrates_2018b.json"),
                   {{"Content-Type", "application/json"}});
  ASSERT_EQ(post.status, 200) << post.body;
  ASSERT_TRUE(eventually([&] { return rows(std::string("id = '") + k2018b.id + "'") == 1; }));
  push_esl_and_wait(*cdrd, 0);
  ASSERT_TRUE(eventually([&] { return writer_caught_up(*cdrd, 2); })) << metrics(*cdrd);
  expect_one_rich_row(*cdrd);
}

TEST_F(EslE2E, WrongPasswordShowsInMetricsAndReadyz) {
  auto cdrd = start_cdrd();
  server_.set_password("not-what-cdrd-has");
  server_.stop();  // drop the first session so the next one meets the new password
  ASSERT_TRUE(server_.start(server_.port()));
  ASSERT_TRUE(eventually([&] { return server_.auth_failures() >= 1; }));
  ASSERT_TRUE(eventually([&] {
    return http_request(cdrd->port(), "GET", "/readyz").body.find("\"fs1\":\"auth_failed\"") != std::string::npos;
  }));
  EXPECT_EQ(metrics(*cdrd).find("cdrd_esl_auth_failures_total{node=\"fs1\"} 0\n"), std::string::npos);
  EXPECT_NE(cdrd->log().find("wrong password"), std::string::npos);
}

// The libresbc A/B pair of one bridged SBC call, over ESL: the legs route
// returns both, tied by the A-leg's uuid, and the interaction route one row.
// The B-leg names no domain, so the operator maps both to one tenant.
TEST_F(EslE2E, LibresbcLegsAreOneInteraction) {
  const std::string a_leg = "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0";
  const std::string b_leg = "b1072f22-cdab-42c2-bea1-a3f3730098e5";
  EslSessionScript script;
  // B-leg first: the order of arrival must not matter.
  script.after_subscribe.push_back(
      EslSend{frame_event(plain_body_from_decoded_dump(read_sample("esl_hangup_decoded_libresbc_bleg.txt"))) +
                  frame_event(plain_body_from_decoded_dump(read_sample("esl_hangup_decoded_libresbc_aleg.txt"))),
              {},
              700,
              5,
              {},
              {}});
  server_.add_session(script);
  auto cdrd = start_cdrd("accounts:\n  default: sbc-tenant\n  domains:\n    outside.libresbc: sbc-tenant\n");
  ASSERT_TRUE(eventually([&] { return rows("account_id = 'sbc-tenant'") == 2; })) << cdrd->log();

  HttpResponse r = http_request(cdrd->port(), "GET", "/v2/accounts/sbc-tenant/cdrs/legs/" + a_leg, "", kAllKey);
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = parse_json(r.body);
  ASSERT_EQ(doc["data"].Size(), 2u) << r.body;
  // Ordered by start: the A-leg started 20.8 ms before the B-leg
  // (start_uepoch 1621654552783696 vs 1621654552804532).
  const auto& a = doc["data"][0];
  const auto& b = doc["data"][1];
  EXPECT_EQ(std::string(a["call_id"].GetString()), a_leg);
  EXPECT_EQ(std::string(a["leg"].GetString()), "A");
  EXPECT_EQ(std::string(a["other_leg_call_id"].GetString()), b_leg);
  EXPECT_EQ(std::string(b["call_id"].GetString()), b_leg);
  EXPECT_EQ(std::string(b["leg"].GetString()), "B");
  EXPECT_EQ(std::string(b["other_leg_call_id"].GetString()), a_leg);
  EXPECT_EQ(std::string(a["interaction_id"].GetString()), a_leg);
  EXPECT_EQ(std::string(b["interaction_id"].GetString()), a_leg);

  // Both legs end at 1621654556 (+ 62167219200 = 63788873756). detail=full:
  // the stored A-leg with its legs (Kazoo's row has no "legs").
  r = http_request(cdrd->port(), "GET",
                   "/v2/accounts/sbc-tenant/cdrs/interaction?created_from=63788873000&created_to=63788874000"
                   "&detail=full",
                   "", kAllKey);
  ASSERT_EQ(r.status, 200) << r.body;
  doc = parse_json(r.body);
  ASSERT_EQ(doc["data"].Size(), 1u) << r.body;
  EXPECT_EQ(std::string(doc["data"][0]["call_id"].GetString()), a_leg);
  ASSERT_TRUE(doc["data"][0].HasMember("legs")) << r.body;
  EXPECT_EQ(doc["data"][0]["legs"].Size(), 2u);
}

// The three-hop chain of tests/support/call_chain.h through the daemon, by
// every route: a, la2 as mod_json_cdr posts, la1, lb2 as mod_xml_cdr posts,
// lb1 and b over ESL. The HTTP legs go first and are stored as two calls
// ({a, la1} and {la2, lb2}); then lb1 (whose partner la1 ended minutes
// before it) joins them and b hangs on the end: the stored rows are
// re-linked, and the legs route returns all six under a's uuid.
TEST_F(EslE2E, ThreeHopChainOverJsonXmlAndEslIsOneInteraction) {
  const auto& chain = three_hop_chain();
  const int64_t base_us =
      (std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
       3600) *
      1000000;
  std::atomic<bool> http_legs_stored{false};
  EslSessionScript script;
  // The ESL legs wait until the test has seen the HTTP legs stored.
  script.generator = [&](uint64_t index, std::string* bytes) {
    if (index >= 2) return false;
    while (!http_legs_stored.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    *bytes = frame_event(chain_esl_body(chain_variables(chain[index == 0 ? 2 : 5], "chain", base_us)));
    return true;
  };
  server_.add_session(script);
  auto cdrd = start_cdrd();
  for (size_t i : {0, 1, 3, 4}) {
    const auto v = chain_variables(chain[i], "chain", base_us);
    const bool json = chain[i].format == ChainFormat::kJson;
    const HttpResponse r = http_request(
        cdrd->port(), "POST", json ? "/ingest/freeswitch/json" : "/ingest/freeswitch/xml",
        json ? chain_json_cdr(v) : chain_xml_cdr(v), {{"Content-Type", json ? "application/json" : "application/xml"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ASSERT_TRUE(eventually([&] { return rows("account_id = 'chain'") == 4; })) << cdrd->log();
  EXPECT_EQ(rows("account_id = 'chain' AND interaction_id = '" + chain[0].uuid + "'"), 2);
  http_legs_stored = true;
  ASSERT_TRUE(eventually([&] { return rows("account_id = 'chain'") == 6; })) << cdrd->log();
  ASSERT_TRUE(eventually([&] {
    return rows("account_id = 'chain' AND interaction_id = '" + chain[0].uuid + "'") == 6;
  })) << cdrd->log();
  EXPECT_EQ(rows("account_id = 'chain' AND direction_class = 'outbound'"), 6);
  EXPECT_EQ(rows("account_id = 'chain' AND record->>'interaction_id' = '" + chain[0].uuid + "'"), 6);

  const HttpResponse r =
      http_request(cdrd->port(), "GET", "/v2/accounts/chain/cdrs/legs/" + chain[0].uuid, "", kAllKey);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = parse_json(r.body);
  ASSERT_EQ(doc["data"].Size(), 6U) << r.body;
  std::set<std::string> call_ids;
  for (const auto& leg : doc["data"].GetArray()) call_ids.insert(leg["call_id"].GetString());
  for (const auto& leg : chain) EXPECT_EQ(call_ids.count(leg.uuid), 1U) << leg.uuid;
  // Ordered by start: a first; its trunk leg b carries carrier1.
  EXPECT_EQ(std::string(doc["data"][0]["call_id"].GetString()), chain[0].uuid);
  for (const auto& leg : doc["data"].GetArray()) {
    if (std::string(leg["call_id"].GetString()) == chain[5].uuid) {
      EXPECT_EQ(std::string(leg["trunk"].GetString()), "carrier1");
    }
  }
}

}  // namespace
}  // namespace cdrd::test
