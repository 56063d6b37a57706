// Unit tests of the ingest guard (daemon/ingest/ingest_guard.h): CIDR parsing
// and matching, basic-auth header parsing, the verdicts, and the config
// loader's checks of ingest.allow_from and the listeners' TLS pairs.
#include "daemon/ingest/ingest_guard.h"

#include <gtest/gtest.h>

#include "daemon/config/config.h"
#include "daemon/http/http_listener.h"

namespace cdrd {
namespace {

std::string b64(const std::string& s) {
  // Fixed vectors (RFC 4648 alphabet) keep the test independent of the code under test.
  static const std::map<std::string, std::string> known = {
      {"fs1:secret", "ZnMxOnNlY3JldA=="}, {"fs1:wrong", "ZnMxOndyb25n"}, {"nobody:secret", "bm9ib2R5OnNlY3JldA=="},
      {"fs1secret", "ZnMxc2VjcmV0"},      {"fs1:", "ZnMxOg=="},          {"fs1:pa:ss", "ZnMxOnBhOnNz"},
  };
  return known.at(s);
}

bool contains(const std::string& cidr, const std::string& address) {
  CidrBlock block;
  std::string why;
  EXPECT_TRUE(parse_cidr(cidr, &block, &why)) << cidr << ": " << why;
  IpAddress a;
  EXPECT_TRUE(parse_ip_address(address, &a)) << address;
  return cidr_contains(block, a);
}

TEST(CidrTest, Ipv4Blocks) {
  EXPECT_TRUE(contains("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(contains("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(contains("192.168.1.0/24", "192.168.1.77"));
  EXPECT_FALSE(contains("192.168.1.0/24", "192.168.2.77"));
  EXPECT_TRUE(contains("172.16.0.0/12", "172.31.255.255"));
  EXPECT_FALSE(contains("172.16.0.0/12", "172.32.0.0"));
  EXPECT_TRUE(contains("192.0.2.7/32", "192.0.2.7"));
  EXPECT_FALSE(contains("192.0.2.7/32", "192.0.2.6"));
  EXPECT_TRUE(contains("192.0.2.7", "192.0.2.7"));  // a plain address is /32
  EXPECT_FALSE(contains("192.0.2.7", "192.0.2.8"));
  EXPECT_TRUE(contains("0.0.0.0/0", "203.0.113.9"));
  EXPECT_TRUE(contains("10.1.2.3/8", "10.9.9.9"));  // host bits under the prefix are ignored
}

TEST(CidrTest, Ipv6Blocks) {
  EXPECT_TRUE(contains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(contains("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(contains("::1/128", "::1"));
  EXPECT_FALSE(contains("::1/128", "::2"));
  EXPECT_TRUE(contains("::1", "::1"));  // a plain address is /128
  EXPECT_TRUE(contains("::/0", "fe80::1"));
  EXPECT_TRUE(contains("2001:db8:abcd:12::/63", "2001:db8:abcd:13::5"));
  EXPECT_FALSE(contains("2001:db8:abcd:12::/63", "2001:db8:abcd:14::5"));
}

TEST(CidrTest, FamiliesDoNotMix) {
  EXPECT_FALSE(contains("::/0", "127.0.0.1"));  // IPv6 "any" is not IPv4 "any"
  EXPECT_FALSE(contains("0.0.0.0/0", "::1"));
}

TEST(CidrTest, MappedPeersCompareAsIpv4) {
  IpAddress a;
  ASSERT_TRUE(parse_ip_address("::ffff:127.0.0.1", &a));
  EXPECT_FALSE(a.v6);
  EXPECT_EQ(a.bytes[0], 127);
  EXPECT_EQ(a.bytes[3], 1);
  EXPECT_TRUE(contains("127.0.0.0/8", "::ffff:127.0.0.1"));
  EXPECT_FALSE(contains("10.0.0.0/8", "::ffff:127.0.0.1"));
  // A mapped CIDR with a prefix inside the IPv4 part is the IPv4 CIDR.
  EXPECT_TRUE(contains("::ffff:10.0.0.0/104", "10.20.30.40"));
  EXPECT_FALSE(contains("::ffff:10.0.0.0/104", "11.0.0.1"));
}

TEST(CidrTest, BadEntriesAreRefusedWithTheirText) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0/8",
                          "10.0.0.256", "localhost", "[::1]", "::1%lo", "10.0.0.0/ 8", "10.0.0.0/8x", "1.2.3.4/0008"}) {
    CidrBlock block;
    std::string why;
    EXPECT_FALSE(parse_cidr(bad, &block, &why)) << bad;
    EXPECT_NE(why.find("'" + std::string(bad) + "'"), std::string::npos) << why;
  }
  CidrBlock block;
  std::string why;
  ASSERT_FALSE(parse_cidr("10.0.0.0/33", &block, &why));
  EXPECT_EQ(why, "'10.0.0.0/33': the prefix length must be 0..32");
}

TEST(BasicAuthTest, ParsesUserAndPassword) {
  std::string user, password, why;
  ASSERT_TRUE(parse_basic_auth("Basic " + b64("fs1:secret"), &user, &password, &why)) << why;
  EXPECT_EQ(user, "fs1");
  EXPECT_EQ(password, "secret");
  // The scheme is case-insensitive; the password may hold colons; it may be empty.
  ASSERT_TRUE(parse_basic_auth("bAsIc  " + b64("fs1:pa:ss"), &user, &password, &why)) << why;
  EXPECT_EQ(user, "fs1");
  EXPECT_EQ(password, "pa:ss");
  ASSERT_TRUE(parse_basic_auth("Basic " + b64("fs1:"), &user, &password, &why)) << why;
  EXPECT_EQ(password, "");
}

TEST(BasicAuthTest, RefusesMalformedHeaders) {
  std::string user, password, why;
  EXPECT_FALSE(parse_basic_auth("Bearer " + b64("fs1:secret"), &user, &password, &why));
  EXPECT_EQ(why, "the Authorization header must use the Basic scheme");
  EXPECT_FALSE(parse_basic_auth("Basicx " + b64("fs1:secret"), &user, &password, &why));
  EXPECT_EQ(why, "the Authorization header must use the Basic scheme");
  EXPECT_FALSE(parse_basic_auth("Basic", &user, &password, &why));
  EXPECT_EQ(why, "the Basic credentials are not valid base64");
  EXPECT_FALSE(parse_basic_auth("Basic ZnMxOnNlY3JldA", &user, &password, &why));  // padding missing
  EXPECT_EQ(why, "the Basic credentials are not valid base64");
  EXPECT_FALSE(parse_basic_auth("Basic ZnMx*nNlY3JldA==", &user, &password, &why));
  EXPECT_EQ(why, "the Basic credentials are not valid base64");
  EXPECT_FALSE(parse_basic_auth("Basic Zg==ZnMx", &user, &password, &why));  // '=' inside
  EXPECT_EQ(why, "the Basic credentials are not valid base64");
  EXPECT_FALSE(parse_basic_auth("Basic " + b64("fs1secret"), &user, &password, &why));
  EXPECT_EQ(why, "the Basic credentials have no ':' between user and password");
}

IngestGuard make_guard(const std::map<std::string, std::string>& users, const std::vector<std::string>& cidrs) {
  IngestGuard guard;
  std::string error;
  EXPECT_TRUE(IngestGuard::make(users, cidrs, &guard, &error)) << error;
  return guard;
}

TEST(IngestGuardTest, NothingConfiguredAllowsEveryone) {
  const IngestGuard guard = make_guard({}, {});
  EXPECT_EQ(guard.check("203.0.113.9", "").status, 0);
  EXPECT_EQ(guard.check("", "Basic garbage").status, 0);
}

TEST(IngestGuardTest, BasicAuthVerdicts) {
  const IngestGuard guard = make_guard({{"fs1", "secret"}, {"fs2", "other"}}, {});
  EXPECT_EQ(guard.check("127.0.0.1", "Basic " + b64("fs1:secret")).status, 0);
  const auto missing = guard.check("127.0.0.1", "");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.code, "unauthorized");
  EXPECT_EQ(missing.reason, "auth");
  EXPECT_EQ(missing.message, "ingest needs HTTP basic auth (ingest.basic_auth)");
  const auto wrong = guard.check("127.0.0.1", "Basic " + b64("fs1:wrong"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.message, "the ingest user name or password is wrong");
  const auto unknown = guard.check("127.0.0.1", "Basic " + b64("nobody:secret"));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.message, wrong.message);  // does not say which part is wrong
  const auto other_user = guard.check("127.0.0.1", "Basic ZnMyOnNlY3JldA==");
  EXPECT_EQ(other_user.status, 401);  // "fs2:secret": fs2's password is "other"
  const auto malformed = guard.check("127.0.0.1", "Basic !!!!");
  EXPECT_EQ(malformed.status, 401);
  EXPECT_EQ(malformed.message, "the Basic credentials are not valid base64");
  const auto bearer = guard.check("127.0.0.1", "Bearer all-key");
  EXPECT_EQ(bearer.status, 401);
  EXPECT_EQ(bearer.message, "the Authorization header must use the Basic scheme");
}

TEST(IngestGuardTest, AllowListVerdicts) {
  const IngestGuard guard = make_guard({}, {"10.0.0.0/8", "2001:db8::/32", "192.0.2.7"});
  EXPECT_EQ(guard.check("10.1.2.3", "").status, 0);
  EXPECT_EQ(guard.check("::ffff:10.1.2.3", "").status, 0);
  EXPECT_EQ(guard.check("2001:db8::5", "").status, 0);
  EXPECT_EQ(guard.check("192.0.2.7", "").status, 0);
  const auto refused = guard.check("127.0.0.1", "");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.code, "forbidden");
  EXPECT_EQ(refused.reason, "address");
  EXPECT_EQ(refused.message, "address 127.0.0.1 may not post CDRs (ingest.allow_from)");
  EXPECT_EQ(guard.check("fe80::1%eth0", "").status, 403);
  EXPECT_EQ(guard.check("", "").status, 403);  // an unknown peer is refused, never let through
  EXPECT_EQ(guard.check("not-an-address", "").status, 403);
}

TEST(IngestGuardTest, AddressIsCheckedBeforeCredentials) {
  const IngestGuard guard = make_guard({{"fs1", "secret"}}, {"10.0.0.0/8"});
  EXPECT_EQ(guard.check("127.0.0.1", "Basic " + b64("fs1:secret")).status, 403);
  EXPECT_EQ(guard.check("10.0.0.1", "").status, 401);
  EXPECT_EQ(guard.check("10.0.0.1", "Basic " + b64("fs1:secret")).status, 0);
}

TEST(IngestGuardTest, MakeNamesTheBadEntry) {
  IngestGuard guard;
  std::string error;
  EXPECT_FALSE(IngestGuard::make({}, {"10.0.0.0/8", "10.0.0.0/40"}, &guard, &error));
  EXPECT_EQ(error, "ingest.allow_from[1]: '10.0.0.0/40': the prefix length must be 0..32");
}

TEST(ListenerRoutingTest, FamiliesAndRoles) {
  EXPECT_EQ(route_family("/ingest/freeswitch/json"), RouteFamily::kIngest);
  EXPECT_EQ(route_family("/ingest/cdr"), RouteFamily::kIngest);
  EXPECT_EQ(route_family("/ingestion"), RouteFamily::kReadApi);
  EXPECT_EQ(route_family("/metrics"), RouteFamily::kOperations);
  EXPECT_EQ(route_family("/v2/accounts/a/cdrs"), RouteFamily::kReadApi);
  EXPECT_EQ(route_family("/api_auth"), RouteFamily::kReadApi);
  EXPECT_TRUE(listener_serves(ListenerRole::kAll, RouteFamily::kReadApi));
  EXPECT_TRUE(listener_serves(ListenerRole::kIngest, RouteFamily::kIngest));
  EXPECT_FALSE(listener_serves(ListenerRole::kIngest, RouteFamily::kReadApi));
  EXPECT_TRUE(listener_serves(ListenerRole::kIngest, RouteFamily::kOperations));
  EXPECT_FALSE(listener_serves(ListenerRole::kReadApi, RouteFamily::kIngest));
  EXPECT_TRUE(listener_serves(ListenerRole::kReadApi, RouteFamily::kOperations));
}

bool load(const std::string& yaml, Config* config, std::string* error) {
  return load_config_text("state_dir: /tmp/cdrd-guard-test\nnode_name: t\n" + yaml, "cdrd.yaml", {}, config, error);
}

TEST(IngestConfigTest, AllowFromIsCheckedAtLoad) {
  Config config;
  std::string error;
  ASSERT_TRUE(load("ingest:\n  allow_from: [10.0.0.0/8, \"::1\"]\n  basic_auth: {fs1: secret}\n", &config, &error))
      << error;
  EXPECT_EQ(config.ingest_allow_from, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_FALSE(load("ingest:\n  allow_from:\n    - 10.0.0.0/8\n    - 300.1.1.1\n", &config, &error));
  EXPECT_EQ(error,
            "cdrd.yaml:4: ingest.allow_from[1]: '300.1.1.1' is not an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/8, "
            "2001:db8::/32)");
}

TEST(IngestConfigTest, TlsCertNeedsItsKey) {
  Config config;
  std::string error;
  EXPECT_FALSE(load("listen:\n  http_tls_cert: /etc/cdrd/cert.pem\n", &config, &error));
  EXPECT_EQ(error,
            "cdrd.yaml:4: listen.http_tls_cert and listen.http_tls_key go together: listen.http_tls_cert is set, "
            "listen.http_tls_key is not");
  EXPECT_FALSE(load("listen:\n  api: 127.0.0.1:8081\n  api_tls_key: /k.pem\n", &config, &error));
  EXPECT_EQ(error,
            "cdrd.yaml:5: listen.api_tls_cert and listen.api_tls_key go together: listen.api_tls_key is set, "
            "listen.api_tls_cert is not");
  EXPECT_FALSE(load("listen:\n  api_tls_cert: /c.pem\n  api_tls_key: /k.pem\n", &config, &error));
  EXPECT_EQ(error, "cdrd.yaml:4: listen.api_tls_cert is set but listen.api is \"\" (no separate read API listener)");
  EXPECT_TRUE(load("listen:\n  api: 127.0.0.1:8081\n  api_tls_cert: /c.pem\n  api_tls_key: /k.pem\n", &config, &error))
      << error;
}

TEST(IngestConfigTest, ListenerSpecsFollowListenApi) {
  Config config;
  config.listen_http = "127.0.0.1:8080";
  auto specs = listener_specs(config);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].role, ListenerRole::kAll);
  config.listen_api = "127.0.0.1:8081";
  config.listen_api_tls_cert = "/c.pem";
  config.listen_api_tls_key = "/k.pem";
  specs = listener_specs(config);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].key, "listen.http");
  EXPECT_EQ(specs[0].role, ListenerRole::kIngest);
  EXPECT_EQ(specs[0].tls_cert, "");
  EXPECT_EQ(specs[1].key, "listen.api");
  EXPECT_EQ(specs[1].role, ListenerRole::kReadApi);
  EXPECT_EQ(specs[1].tls_cert, "/c.pem");
}

}  // namespace
}  // namespace cdrd
