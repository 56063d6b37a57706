// End to end, mod_xml_cdr route: the real cdrd binary, a real PostgreSQL.
// POST /ingest/freeswitch/xml (raw XML and the `cdr=` form) -> spool ->
// writer -> cdrs -> GET /v2/accounts/{account}/cdrs/{id}.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};

constexpr char kTiny[] = "xml_cdr_tinycdr_2009_originator_cancel.xml";
constexpr char kDocs[] = "xml_cdr_fsdocs_2014_refused_unanswered.xml";
// Ids worked out by hand: YYYYMM of start_uepoch (UTC) + "-" + uuid.
// tinycdr: start_uepoch 1242921226180441 = 2009-05-21T15:53:46Z, the caller
// profile's uuid (FreeSWITCH 1.0 wrote no <uuid> variable).
constexpr char kTinyId[] = "200905-91353230-461f-11de-aa7f-b10b4edc0c92";
// fsdocs: start_uepoch 1399273898421766 = 2014-05-05T07:11:38Z.
constexpr char kDocsId[] = "201405-80183ec8-d424-11e3-8fb2-65b6c3cdac7d";

// encode=false: the document as it is.
HttpResponse post_raw(int port, const std::string& xml) {
  return http_request(port, "POST", "/ingest/freeswitch/xml", xml,
                      {{"Content-Type", "application/x-www-form-plaintext"}});
}

// encode=true (mod_xml_cdr's default): `cdr=<url-encoded XML>`. With
// `plus_for_space`, spaces are '+' as an HTML form sends them.
HttpResponse post_form(int port, const std::string& xml, bool plus_for_space = false) {
  std::string encoded = url_encode(xml);
  if (plus_for_space) encoded = replace_all(encoded, "%20", "+");
  return http_request(port, "POST", "/ingest/freeswitch/xml", "cdr=" + encoded,
                      {{"Content-Type", "application/x-www-form-urlencoded"}});
}

std::string text(const rapidjson::Value& object, const char* name) {
  if (!object.HasMember(name) || !object[name].IsString()) return "<absent>";
  return object[name].GetString();
}

long long number(const rapidjson::Value& object, const char* name) {
  if (!object.HasMember(name) || !object[name].IsInt64()) return -1;
  return object[name].GetInt64();
}

// The body kept in state_dir/rejects for `request_id`, "<none>" when none is.
std::string rejected_body(const std::string& state_dir, const std::string& request_id) {
  for (const auto& entry : std::filesystem::directory_iterator(state_dir + "/rejects")) {
    const std::string name = entry.path().filename().string();
    if (name.find(request_id) != std::string::npos && name.size() > 5 &&
        name.compare(name.size() - 5, 5, ".body") == 0) {
      std::ifstream in(entry.path(), std::ios::binary);
      return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
  }
  return "<none>";
}

class XmlE2E : public ::testing::Test {
 protected:
  void SetUp() override { dsn_ = create_migrated_database("xml_e2e"); }
  std::unique_ptr<CdrdProcess> start_cdrd(const std::string& extra_yaml = "") {
    auto p = std::make_unique<CdrdProcess>(dir_.path(), dsn_, extra_yaml);
    EXPECT_TRUE(p->start()) << p->log();
    return p;
  }
  // GET one CDR, waiting for the writer; the "data" object's JSON, or an empty document.
  rapidjson::Document read_back(int port, const std::string& account, const std::string& id) {
    const std::string path = "/v2/accounts/" + account + "/cdrs/" + id;
    HttpResponse r;
    const bool found = eventually([&] {
      r = http_request(port, "GET", path, "", kAllKey);
      return r.status == 200;
    });
    EXPECT_TRUE(found) << path << ": " << r.status << " " << r.body;
    return parse_json(found ? r.body : "{}");
  }
  long long rows(const std::string& where) { return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE " + where); }

  TempDir dir_;
  std::string dsn_;
};

TEST_F(XmlE2E, BothSamplesRawAndAsFormAreStoredAndReadBack) {
  auto cdrd = start_cdrd();
  const std::string tiny = read_sample(kTiny);
  const std::string docs = read_sample(kDocs);
  HttpResponse r = post_raw(cdrd->port(), tiny);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(text(parse_json(r.body), "status"), "success");
  EXPECT_EQ(post_form(cdrd->port(), tiny).status, 200);
  EXPECT_EQ(post_form(cdrd->port(), docs, true).status, 200);
  EXPECT_EQ(post_raw(cdrd->port(), docs).status, 200);

  {
    SCOPED_TRACE(kTiny);
    const rapidjson::Document doc = read_back(cdrd->port(), "192.168.6.32", kTinyId);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("data"));
    const rapidjson::Value& d = doc["data"];
    EXPECT_EQ(text(d, "id"), kTinyId);
    EXPECT_EQ(text(d, "call_id"), "91353230-461f-11de-aa7f-b10b4edc0c92");
    // no account variable: domain_name "192.168.6.32"
    EXPECT_EQ(text(d, "account_id"), "192.168.6.32");
    // end_uepoch 1242921227691068 -> 1242921227 + 62167219200
    EXPECT_EQ(number(d, "timestamp"), 63410140427);
    EXPECT_EQ(number(d, "channel_created_time"), 1242921226180441);
    // 1242921227 - 1242921226 = 1; never answered; progress in the start second
    EXPECT_EQ(number(d, "duration_seconds"), 1);
    EXPECT_EQ(number(d, "billing_seconds"), 0);
    EXPECT_EQ(number(d, "ringing_seconds"), 0);
    // last_app bridge: bridge_hangup_cause before hangup_cause ORIGINATOR_CANCEL
    EXPECT_EQ(text(d, "hangup_cause"), "NORMAL_CLEARING");
    EXPECT_EQ(text(d, "hangup_code"), "sip:487");
    EXPECT_EQ(text(d, "sip_term_status"), "487");
    EXPECT_EQ(text(d, "disposition"), "SUCCESS");
    EXPECT_EQ(text(d, "billing_status"), "noanswer");  // its own hangup_cause is ORIGINATOR_CANCEL
    EXPECT_EQ(text(d, "call_direction"), "<absent>");
    EXPECT_EQ(text(d, "caller_id_name"), "Jayson Vaughn");
    EXPECT_EQ(text(d, "caller_id_number"), "1000");
    EXPECT_EQ(text(d, "callee_id_number"), "2622");
    EXPECT_EQ(text(d, "other_leg_call_id"), "913d2a1c-461f-11de-aa7f-b10b4edc0c92");
    EXPECT_EQ(text(d, "from_uri"), "1000@192.168.6.32");
    EXPECT_EQ(text(d, "to_uri"), "2622@192.168.6.32");
    EXPECT_EQ(text(d, "leg"), "A");
    EXPECT_EQ(text(d, "source"), "xml_cdr");
    EXPECT_EQ(text(d, "node"), "e2e-node");
  }
  {
    SCOPED_TRACE(kDocs);
    const rapidjson::Document doc = read_back(cdrd->port(), "default", kDocsId);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("data"));
    const rapidjson::Value& d = doc["data"];
    EXPECT_EQ(text(d, "id"), kDocsId);
    EXPECT_EQ(text(d, "call_id"), "80183ec8-d424-11e3-8fb2-65b6c3cdac7d");
    // no account variable, no domain_name: the default account
    EXPECT_EQ(text(d, "account_id"), "default");
    // end_uepoch 1399273898421766 -> 1399273898 + 62167219200
    EXPECT_EQ(number(d, "timestamp"), 63566493098);
    EXPECT_EQ(number(d, "channel_created_time"), 1399273898421766);
    // refused at once: start == end, no answer, no progress
    EXPECT_EQ(number(d, "duration_seconds"), 0);
    EXPECT_EQ(number(d, "billing_seconds"), 0);
    EXPECT_EQ(number(d, "ringing_seconds"), 0);
    EXPECT_EQ(text(d, "hangup_cause"), "NORMAL_CLEARING");
    EXPECT_EQ(text(d, "hangup_code"), "<absent>");
    EXPECT_EQ(text(d, "disposition"), "DELAYED NEGOTIATION");
    EXPECT_EQ(text(d, "billing_status"), "failed");
    EXPECT_EQ(text(d, "call_direction"), "inbound");
    EXPECT_EQ(text(d, "caller_id_number"), "8009");
    EXPECT_EQ(text(d, "callee_id_number"), "003468888646444");
    EXPECT_EQ(text(d, "other_leg_call_id"), "<absent>");
    EXPECT_EQ(text(d, "from_uri"), "8009@XX.XX.XXX.XXX");
    EXPECT_EQ(text(d, "to_uri"), "003468888646444@XX.XX.XXX.XXX");
    EXPECT_EQ(text(d, "leg"), "A");
    EXPECT_EQ(text(d, "source"), "xml_cdr");
  }

  // Four acknowledged posts, all written, two legs.
  ASSERT_TRUE(eventually([&] {
    return http_request(cdrd->port(), "GET", "/metrics").body.find("\ncdrd_written_total 4\n") != std::string::npos;
  }));
  EXPECT_EQ(rows("true"), 2);
  EXPECT_EQ(rows("source = 'xml_cdr' AND raw_format = 'xml'"), 2);
  // The stored original is the XML document, whichever transport carried it.
  EXPECT_EQ(rows("id = '" + std::string(kTinyId) + "' AND raw LIKE '<?xml version=\"1.0\"?>%'"), 1);
  const std::string metrics = http_request(cdrd->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("cdrd_received_total{source=\"xml_cdr\"} 4\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("cdrd_received_total{source=\"json_cdr\"} 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\ncdrd_ack_seconds_count 4\n"), std::string::npos) << metrics;
}

TEST_F(XmlE2E, BadXmlIs400NamingTheProblemAndTheBodyIsKept) {
  auto cdrd = start_cdrd();
  const std::string docs = read_sample(kDocs);
  // Cut inside the first <uuid> value of <variables>.
  const size_t cut = docs.find("80183ec8") + 4;
  const std::string truncated = docs.substr(0, cut);
  HttpResponse r = post_raw(cdrd->port(), truncated);
  ASSERT_EQ(r.status, 400) << r.body;
  rapidjson::Document error = parse_json(r.body);
  EXPECT_EQ(text(error, "code"), "invalid_xml");
  // pugixml's description, at the last byte it read.
  EXPECT_EQ(text(error, "message"),
            "XML parse error at offset " + std::to_string(cut - 1) + ": Start-end tags mismatch");
  const std::string request_id = text(error, "request_id");
  EXPECT_EQ(r.headers["x-request-id"], request_id);
  EXPECT_EQ(rejected_body(cdrd->state_dir(), request_id), truncated);

  // The same problem through the form: the rejects store keeps the body as sent.
  const std::string form = "cdr=" + url_encode(truncated);
  r = http_request(cdrd->port(), "POST", "/ingest/freeswitch/xml", form,
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 400) << r.body;
  error = parse_json(r.body);
  EXPECT_EQ(text(error, "code"), "invalid_xml");
  EXPECT_EQ(rejected_body(cdrd->state_dir(), text(error, "request_id")), form);

  // A CDR with neither a <uuid> variable nor a caller profile uuid.
  std::string no_uuid = replace_all(docs, "<uuid>", "<uuid_gone>");
  no_uuid = replace_all(no_uuid, "</uuid>", "</uuid_gone>");
  r = post_raw(cdrd->port(), no_uuid);
  ASSERT_EQ(r.status, 400) << r.body;
  error = parse_json(r.body);
  EXPECT_EQ(text(error, "code"), "missing_field");
  EXPECT_EQ(text(error, "message"), "variables.uuid is missing");

  // A form without the cdr field.
  r = http_request(cdrd->port(), "POST", "/ingest/freeswitch/xml", "xml=" + url_encode(docs));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(text(parse_json(r.body), "message"), "the body is a form without a cdr field");

  // Only POST.
  EXPECT_EQ(http_request(cdrd->port(), "GET", "/ingest/freeswitch/xml").status, 405);

  const std::string metrics = http_request(cdrd->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("\ncdrd_rejected_total 4\n"), std::string::npos) << metrics;
  EXPECT_EQ(rows("true"), 0);
}

TEST_F(XmlE2E, ConfiguredDomainsMapTheAccount) {
  auto cdrd = start_cdrd(
      "accounts:\n"
      "  domain_variables: [domain_name, sip_to_host]\n"
      "  domains:\n"
      "    192.168.6.32: acct-lab\n"
      "    XX.XX.XXX.XXX: acct-masked\n");
  ASSERT_EQ(post_form(cdrd->port(), read_sample(kTiny)).status, 200);
  ASSERT_EQ(post_raw(cdrd->port(), read_sample(kDocs)).status, 200);
  // tinycdr: domain_name "192.168.6.32" -> acct-lab
  const rapidjson::Document tiny = read_back(cdrd->port(), "acct-lab", kTinyId);
  ASSERT_TRUE(tiny.IsObject() && tiny.HasMember("data"));
  EXPECT_EQ(text(tiny["data"], "account_id"), "acct-lab");
  // fsdocs: no domain_name; sip_to_host "XX.XX.XXX.XXX" -> acct-masked
  const rapidjson::Document docs = read_back(cdrd->port(), "acct-masked", kDocsId);
  ASSERT_TRUE(docs.IsObject() && docs.HasMember("data"));
  EXPECT_EQ(text(docs["data"], "account_id"), "acct-masked");
  EXPECT_EQ(rows("account_id = 'acct-lab' AND id = '" + std::string(kTinyId) + "'"), 1);
  EXPECT_EQ(rows("account_id = 'acct-masked' AND id = '" + std::string(kDocsId) + "'"), 1);
  // Under no other account.
  EXPECT_EQ(http_request(cdrd->port(), "GET", "/v2/accounts/default/cdrs/" + std::string(kDocsId), "", kAllKey).status,
            404);
}

}  // namespace
}  // namespace cdrd::test
