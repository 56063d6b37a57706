// api.dialects: only the dialects named are served, in that order; a path of
// a dialect left out is 404, and the others answer as usual.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"Authorization", "Bearer all-key"}};

class DialectsE2E : public ::testing::Test {
 protected:
  void SetUp() override { dsn_ = create_migrated_database("dialects_e2e"); }
  // Each dialect's simplest authorized read: its status tells whether it is mounted.
  std::map<std::string, int> statuses(CdrdProcess& cdrd) {
    const int port = cdrd.port();
    return {
        {"kazoo", http_request(port, "GET", "/v2/accounts/acct-a/cdrs", "", kAllKey).status},
        {"portsip", http_request(port, "GET", "/api/cdrs?account_id=acct-a", "", kAllKey).status},
        {"wavix",
         http_request(port, "GET", "/v1/cdr?account_id=acct-a&from=2026-01-01&to=2026-01-02&type=placed", "", kAllKey)
             .status},
        {"yeti",
         http_request(port, "GET", "/api/rest/customer/v1/incoming-cdrs?account_id=acct-a", "", kAllKey).status},
    };
  }
  TempDir dir_;
  std::string dsn_;
};

TEST_F(DialectsE2E, AllFourByDefault) {
  CdrdProcess cdrd(dir_.path(), dsn_);
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  EXPECT_EQ(statuses(cdrd),
            (std::map<std::string, int>{{"kazoo", 200}, {"portsip", 200}, {"wavix", 200}, {"yeti", 200}}))
      << cdrd.log();
}

TEST_F(DialectsE2E, OnlyTheNamedOnesAreServed) {
  CdrdProcess cdrd(dir_.path(), dsn_);
  cdrd.set_api_extra("  dialects: [wavix, yeti]\n");
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  EXPECT_EQ(statuses(cdrd),
            (std::map<std::string, int>{{"kazoo", 404}, {"portsip", 404}, {"wavix", 200}, {"yeti", 200}}))
      << cdrd.log();
}

}  // namespace
}  // namespace cdrd::test
