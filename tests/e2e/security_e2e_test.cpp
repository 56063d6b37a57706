// End to end: securing ingest (issue 5 item 6) on the real cdrd binary.
// Separate listeners for ingest and the read API, HTTP basic auth and a CIDR
// allow-list on the ingest routes (reloaded by SIGHUP), and TLS through
// libevent's bufferevent_openssl, checked with a real OpenSSL client that
// verifies the daemon's certificate.
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/e2e/tls_client.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};
// base64("fs1:secret"), base64("fs1:wrong"), base64("mallory:secret")
const std::string kGoodAuth = "Basic ZnMxOnNlY3JldA==";
const std::string kWrongPassword = "Basic ZnMxOndyb25n";
const std::string kUnknownUser = "Basic bWFsbG9yeTpzZWNyZXQ=";

std::string metric_line(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, name.size() + 1, name + " ") == 0) return line.substr(name.size() + 1);
  }
  return "(absent)";
}

size_t files_in(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

// `cdrd --check-config --config FILE`: exit code and stderr.
int check_config(const std::string& config_path, std::string* output) {
  CommandResult r = run_command(std::string(CDRD_BINARY) + " --check-config --config " + config_path);
  *output = std::move(r.output);
  return r.exit_code;
}

// Records answers in the format tests/openapi/check_responses.py reads (see
// openapi_e2e_test.cpp) and runs it with --partial on docs/openapi.yaml.
class DocumentCheck {
 public:
  DocumentCheck() { w_.StartArray(); }
  void add(const std::string& method, const std::string& path, const HttpResponse& r) {
    w_.StartObject();
    w_.Key("method");
    w_.String(method);
    w_.Key("path");
    w_.String(path);
    w_.Key("target");
    w_.String(path);
    w_.Key("status");
    w_.Int(r.status);
    w_.Key("content_type");
    const auto ct = r.headers.find("content-type");
    w_.String(ct == r.headers.end() ? "" : ct->second);
    w_.Key("headers");
    w_.StartObject();
    for (const auto& [name, value] : r.headers) {
      w_.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      w_.String(value);
    }
    w_.EndObject();
    w_.Key("body");
    w_.String(r.body);
    w_.EndObject();
  }
  // The checker's exit code; *output has what it printed.
  int run(const std::string& dir, std::string* output) {
    w_.EndArray();
    const std::string records = dir + "/security_records.json";
    std::ofstream(records) << buffer_.GetString();
    CommandResult r =
        run_command("/usr/bin/python3 " + std::string(CDRD_SOURCE_DIR) + "/tests/openapi/check_responses.py " +
                    std::string(CDRD_SOURCE_DIR) + "/docs/openapi.yaml " + records + " --partial");
    *output = std::move(r.output);
    return r.exit_code;
  }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buffer_};
};

class SecurityE2E : public ::testing::Test {
 protected:
  void SetUp() override { dsn_ = create_migrated_database("security"); }
  long long rows(const std::string& where) { return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE " + where); }

  TempDir dir_;
  std::string dsn_;
};

TEST_F(SecurityE2E, SeparateListenersServeOnlyTheirRoutes) {
  const int api_port = free_port();
  CdrdProcess cdrd(dir_.path(), dsn_);
  cdrd.set_listen_extra("  api: 127.0.0.1:" + std::to_string(api_port) + "\n");
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  const std::string http_at = "listen.http (127.0.0.1:" + std::to_string(cdrd.port()) + ")";
  const std::string api_at = "listen.api (127.0.0.1:" + std::to_string(api_port) + ")";

  const std::string uuid = random_uuid();
  const HttpResponse posted = http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid));
  ASSERT_EQ(posted.status, 200) << posted.body;
  ASSERT_TRUE(eventually([&] { return rows("call_id = '" + uuid + "'") == 1; }));

  // The read API answers on listen.api only.
  const std::string get = "/v2/accounts/default/cdrs/201801-" + uuid;
  const HttpResponse read = http_request(api_port, "GET", get, "", kAllKey);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(std::string(parse_json(read.body)["data"]["call_id"].GetString()), uuid);
  for (const std::string& target : {get, std::string("/accounts/default/cdrs"), std::string("/v1/api_auth")}) {
    const HttpResponse r = http_request(cdrd.port(), target == "/v1/api_auth" ? "PUT" : "GET", target, "", kAllKey);
    EXPECT_EQ(r.status, 404) << target;
    const auto body = parse_json(r.body);
    EXPECT_EQ(std::string(body["code"].GetString()), "not_found");
    EXPECT_EQ(std::string(body["message"].GetString()),
              "the read API is not served on listen.http; it is on " + api_at);
    EXPECT_EQ(std::string(body["request_id"].GetString()), r.headers.at("x-request-id"));
  }
  // Ingest answers on listen.http only.
  for (const char* target : {"/ingest/freeswitch/json", "/ingest/freeswitch/xml", "/ingest/cdr"}) {
    const HttpResponse r = http_request(api_port, "POST", target, unique_cdr(random_uuid()));
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(std::string(parse_json(r.body)["message"].GetString()),
              "ingest is not served on listen.api; it is on " + http_at);
  }
  EXPECT_EQ(rows("true"), 1);
  // Operations on both.
  for (const int port : {cdrd.port(), api_port}) {
    EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200) << port;
    EXPECT_EQ(http_request(port, "GET", "/readyz").status, 200) << port;
    const HttpResponse m = http_request(port, "GET", "/metrics");
    EXPECT_EQ(m.status, 200) << port;
    EXPECT_EQ(metric_line(m.body, "cdrd_received_total{source=\"json_cdr\"}"), "1");
  }
  EXPECT_NE(cdrd.log().find("listen.api: listening on 127.0.0.1:" + std::to_string(api_port) + " (read API)"),
            std::string::npos)
      << cdrd.log();
}

TEST_F(SecurityE2E, BasicAuthGuardsIngestOnly) {
  CdrdProcess cdrd(dir_.path(), dsn_, "ingest:\n  basic_auth:\n    fs1: secret\n    fs2: other\n");
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  const std::string uuid = random_uuid();
  const std::string cdr = unique_cdr(uuid);

  struct Refused {
    std::map<std::string, std::string> headers;
    std::string message;
  };
  const Refused refused[] = {
      {{}, "ingest needs HTTP basic auth (ingest.basic_auth)"},
      {{{"Authorization", kWrongPassword}}, "the ingest user name or password is wrong"},
      {{{"Authorization", kUnknownUser}}, "the ingest user name or password is wrong"},
      {{{"Authorization", "Basic not*base64"}}, "the Basic credentials are not valid base64"},
      {{{"Authorization", "Bearer all-key"}}, "the Authorization header must use the Basic scheme"},
  };
  for (const Refused& r : refused) {
    const HttpResponse resp = http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", cdr, r.headers);
    EXPECT_EQ(resp.status, 401) << r.message;
    EXPECT_EQ(resp.headers.at("www-authenticate"), "Basic realm=\"cdrd ingest\"");
    const auto body = parse_json(resp.body);
    EXPECT_EQ(std::string(body["code"].GetString()), "unauthorized");
    EXPECT_EQ(std::string(body["message"].GetString()), r.message);
    EXPECT_EQ(std::string(body["request_id"].GetString()), resp.headers.at("x-request-id"));
  }
  // The import route is ingest too.
  EXPECT_EQ(http_request(cdrd.port(), "POST", "/ingest/cdr", R"({"call_id":"x","timestamp":63682885615})").status, 401);

  const HttpResponse ok =
      http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", cdr, {{"Authorization", kGoodAuth}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(eventually([&] { return rows("call_id = '" + uuid + "'") == 1; }));
  EXPECT_EQ(rows("true"), 1);
  // The read API keeps its own credentials; basic auth does not apply to it.
  EXPECT_EQ(http_request(cdrd.port(), "GET", "/v2/accounts/default/cdrs/201801-" + uuid, "", kAllKey).status, 200);
  EXPECT_EQ(http_request(cdrd.port(), "GET", "/healthz").status, 200);

  // Refused requests are counted, and their bodies are not kept.
  const std::string metrics = http_request(cdrd.port(), "GET", "/metrics").body;
  EXPECT_EQ(metric_line(metrics, "cdrd_ingest_refused_total{reason=\"auth\"}"), "6");
  EXPECT_EQ(metric_line(metrics, "cdrd_ingest_refused_total{reason=\"address\"}"), "0");
  EXPECT_EQ(metric_line(metrics, "cdrd_rejected_total"), "0");
  EXPECT_EQ(files_in(dir_.path() + "/rejects"), 0u);
}

TEST_F(SecurityE2E, AllowFromRefusesOtherAddressesUntilReloaded) {
  CdrdProcess cdrd(dir_.path(), dsn_, "ingest:\n  allow_from: [10.0.0.0/8, \"2001:db8::/32\"]\n");
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  const std::string uuid = random_uuid();
  const HttpResponse refused = http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid));
  EXPECT_EQ(refused.status, 403) << refused.body;
  const auto body = parse_json(refused.body);
  EXPECT_EQ(std::string(body["code"].GetString()), "forbidden");
  EXPECT_EQ(std::string(body["message"].GetString()), "address 127.0.0.1 may not post CDRs (ingest.allow_from)");
  // X-Forwarded-For is never believed.
  EXPECT_EQ(
      http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid), {{"X-Forwarded-For", "10.1.2.3"}})
          .status,
      403);
  // Operations and the read API are not limited by ingest.allow_from.
  EXPECT_EQ(http_request(cdrd.port(), "GET", "/readyz").status, 200);
  EXPECT_EQ(http_request(cdrd.port(), "GET", "/v2/accounts/default/cdrs", "", kAllKey).status, 200);
  EXPECT_EQ(
      metric_line(http_request(cdrd.port(), "GET", "/metrics").body, "cdrd_ingest_refused_total{reason=\"address\"}"),
      "2");

  // A bad entry on reload keeps the running list and says why.
  std::string config = read_file(cdrd.config_path());
  const std::string running_list = "[10.0.0.0/8, \"2001:db8::/32\"]";
  ASSERT_NE(config.find(running_list), std::string::npos);
  std::ofstream(cdrd.config_path()) << replace_all(config, running_list, "[127.0.0.0/33]");
  cdrd.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return cdrd.log().find("'127.0.0.0/33': the prefix length must be 0..32") != std::string::npos;
  })) << cdrd.log();
  EXPECT_EQ(http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid)).status, 403);

  std::ofstream(cdrd.config_path()) << replace_all(config, running_list, "[127.0.0.0/8]");
  cdrd.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return cdrd.log().find("SIGHUP: configuration reloaded") != std::string::npos; }))
      << cdrd.log();
  const HttpResponse ok = http_request(cdrd.port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid));
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(eventually([&] { return rows("call_id = '" + uuid + "'") == 1; }));
  EXPECT_EQ(files_in(dir_.path() + "/rejects"), 0u);
}

TEST_F(SecurityE2E, RefusalsMatchTheOpenApiDocument) {
  DocumentCheck check;
  const std::string cdr = unique_cdr(random_uuid());
  const char* routes[] = {"/ingest/freeswitch/json", "/ingest/freeswitch/xml", "/ingest/cdr"};
  {
    CdrdProcess cdrd(dir_.path(), dsn_, "ingest:\n  basic_auth: {fs1: secret}\n");
    ASSERT_TRUE(cdrd.start()) << cdrd.log();
    for (const char* route : routes) {
      const HttpResponse r = http_request(cdrd.port(), "POST", route, cdr, {{"Authorization", kWrongPassword}});
      EXPECT_EQ(r.status, 401) << route;
      check.add("POST", route, r);
    }
  }
  {
    CdrdProcess cdrd(dir_.path(), dsn_, "ingest:\n  allow_from: [192.0.2.0/24]\n");
    ASSERT_TRUE(cdrd.start()) << cdrd.log();
    for (const char* route : routes) {
      const HttpResponse r = http_request(cdrd.port(), "POST", route, cdr);
      EXPECT_EQ(r.status, 403) << route;
      check.add("POST", route, r);
    }
  }
  std::string output;
  EXPECT_EQ(check.run(dir_.path(), &output), 0) << output;
}

class TlsE2E : public SecurityE2E {
 protected:
  void SetUp() override {
    SecurityE2E::SetUp();
    std::string error;
    ASSERT_TRUE(make_test_certificate(dir_.path(), "server", &error)) << error;
    ASSERT_TRUE(make_test_certificate(dir_.path(), "stranger", &error)) << error;
    cert_ = dir_.path() + "/server.crt";
    key_ = dir_.path() + "/server.key";
  }
  std::string tls_keys(const std::string& prefix) {
    return "  " + prefix + "_tls_cert: " + cert_ + "\n  " + prefix + "_tls_key: " + key_ + "\n";
  }
  std::string cert_, key_;
};

TEST_F(TlsE2E, IngestAndReadOverVerifiedTls) {
  const int api_port = free_port();
  CdrdProcess cdrd(dir_.path(), dsn_, "ingest:\n  basic_auth: {fs1: secret}\n");
  cdrd.set_listen_extra("  api: 127.0.0.1:" + std::to_string(api_port) + "\n" + tls_keys("http") + tls_keys("api"));
  cdrd.set_probe([&](const std::string& target) { return https_request(cdrd.port(), cert_, "GET", target).status; });
  ASSERT_TRUE(cdrd.start()) << cdrd.log();

  const std::string uuid = random_uuid();
  std::string tls_error;
  const HttpResponse posted = https_request(cdrd.port(), cert_, "POST", "/ingest/freeswitch/json", unique_cdr(uuid),
                                            {{"Authorization", kGoodAuth}}, &tls_error);
  ASSERT_EQ(posted.status, 200) << tls_error << posted.body;
  EXPECT_EQ(std::string(parse_json(posted.body)["status"].GetString()), "success");
  ASSERT_TRUE(eventually([&] { return rows("call_id = '" + uuid + "'") == 1; }));
  const HttpResponse read =
      https_request(api_port, cert_, "GET", "/v2/accounts/default/cdrs/201801-" + uuid, "", kAllKey, &tls_error);
  ASSERT_EQ(read.status, 200) << tls_error << read.body;
  EXPECT_EQ(std::string(parse_json(read.body)["data"]["call_id"].GetString()), uuid);
  // Basic auth works the same inside TLS.
  EXPECT_EQ(https_request(cdrd.port(), cert_, "POST", "/ingest/freeswitch/json", unique_cdr(random_uuid())).status,
            401);

  // Plain HTTP to a TLS listener: no HTTP answer, the connection is closed,
  // and the daemon goes on serving.
  for (const int port : {cdrd.port(), api_port}) {
    const HttpResponse plain = http_request(port, "GET", "/healthz");
    EXPECT_EQ(plain.status, 0) << port << ": " << plain.body;
    const HttpResponse plain_post = http_request(port, "POST", "/ingest/freeswitch/json", unique_cdr(random_uuid()));
    EXPECT_EQ(plain_post.status, 0);
  }
  // A client that does not trust the certificate refuses the handshake.
  const HttpResponse untrusted =
      https_request(cdrd.port(), dir_.path() + "/stranger.crt", "GET", "/healthz", "", {}, &tls_error);
  EXPECT_EQ(untrusted.status, 0);
  EXPECT_NE(tls_error.find("handshake failed"), std::string::npos) << tls_error;
  EXPECT_NE(tls_error.find("certificate"), std::string::npos) << tls_error;

  EXPECT_EQ(https_request(cdrd.port(), cert_, "GET", "/healthz").status, 200);
  EXPECT_EQ(https_request(api_port, cert_, "GET", "/metrics").status, 200);
  EXPECT_EQ(rows("true"), 1);

  // curl, when the machine has it, agrees.
  if (std::system("command -v curl >/dev/null 2>&1") == 0) {
    EXPECT_EQ(run_command("curl -sS -o /dev/null -w '%{http_code}' --cacert " + cert_ +
                          " https://127.0.0.1:" + std::to_string(api_port) + "/healthz")
                  .output,
              "200");
  }
  cdrd.signal(SIGTERM);
  EXPECT_EQ(cdrd.wait_exit(), 0) << cdrd.log();
}

TEST_F(TlsE2E, TlsClientToPlainListenerFails) {
  const int api_port = free_port();
  CdrdProcess cdrd(dir_.path(), dsn_);
  cdrd.set_listen_extra("  api: 127.0.0.1:" + std::to_string(api_port) + "\n" + tls_keys("api"));
  ASSERT_TRUE(cdrd.start()) << cdrd.log();  // probes the plain listen.http
  std::string tls_error;
  const HttpResponse r = https_request(cdrd.port(), cert_, "GET", "/healthz", "", {}, &tls_error);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(tls_error.find("handshake failed"), std::string::npos) << tls_error;
  // Both listeners still answer, each in its own protocol.
  EXPECT_EQ(http_request(cdrd.port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(https_request(api_port, cert_, "GET", "/healthz").status, 200);
}

TEST_F(TlsE2E, BadTlsFilesStopTheStartNamingKeyAndFile) {
  const std::string missing = dir_.path() + "/missing.crt";
  const std::string stranger_key = dir_.path() + "/stranger.key";
  struct Case {
    std::string listen_extra;
    std::string message;
  };
  const Case cases[] = {
      {"  http_tls_cert: " + missing + "\n  http_tls_key: " + key_ + "\n",
       "listen.http_tls_cert: cannot read '" + missing + "': No such file or directory"},
      {"  http_tls_cert: " + key_ + "\n  http_tls_key: " + key_ + "\n",
       "listen.http_tls_cert: '" + key_ + "' is not a PEM certificate chain"},
      {"  http_tls_cert: " + cert_ + "\n  http_tls_key: " + cert_ + "\n",
       "listen.http_tls_key: '" + cert_ + "' is not a PEM private key"},
      {"  http_tls_cert: " + cert_ + "\n  http_tls_key: " + stranger_key + "\n",
       "listen.http_tls_key: the key in '" + stranger_key + "' does not match the certificate in '" + cert_ +
           "' (listen.http_tls_cert)"},
  };
  for (const Case& c : cases) {
    CdrdProcess cdrd(dir_.path(), dsn_);
    cdrd.set_listen_extra(c.listen_extra);
    EXPECT_FALSE(cdrd.start(true, 30));
    EXPECT_NE(cdrd.log().find(c.message), std::string::npos) << cdrd.log();
    std::string output;
    EXPECT_EQ(check_config(cdrd.config_path(), &output), 2) << output;
    EXPECT_NE(output.find(c.message), std::string::npos) << output;
    std::filesystem::remove(dir_.path() + "/cdrd.log");
  }
}

}  // namespace
}  // namespace cdrd::test
