// Account resolution (cdr-fields.md, account_id) as configured by
// accounts.variables / domain_variables / domains / default, through both
// CDR normalizers: the same rules must give the same account for either route.
#include <gtest/gtest.h>

#include <functional>
#include <utility>
#include <vector>

#include "adapters/freeswitch/normalize.h"
#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

using Variables = std::vector<std::pair<std::string, std::string>>;

// One CDR route: a base document with no account variable and no domain_name
// (json_cdr_cgrates_2013b, xml_cdr_fsdocs_2014), the given variables put
// first, normalized.
struct Route {
  const char* name;
  std::function<Record(const Variables&, const NormalizeOptions&)> normalize;
};

Record json_with(const Variables& vars, const NormalizeOptions& options) {
  std::string doc = read_sample("json_cdr_cgrates_2013b.json");
  std::string extra;
  for (const auto& [name, value] : vars) extra += (extra.empty() ? "\"" : ",\"") + name + "\":\"" + value + "\"";
  if (!extra.empty()) doc = with_variables(doc, extra);
  return Record(normalize_json_cdr(doc, options));
}

Record xml_with(const Variables& vars, const NormalizeOptions& options) {
  std::string doc = read_sample("xml_cdr_fsdocs_2014_refused_unanswered.xml");
  std::string extra;
  for (const auto& [name, value] : vars) extra += "<" + name + ">" + value + "</" + name + ">";
  const size_t at = doc.find("<variables>") + std::string("<variables>").size();
  return Record(normalize_xml_cdr(doc.substr(0, at) + extra + doc.substr(at), options));
}

class AccountRules : public ::testing::TestWithParam<Route> {
 protected:
  std::string account(const Variables& vars, const NormalizeOptions& options = default_options()) {
    const Record r = GetParam().normalize(vars, options);
    EXPECT_TRUE(r.ok()) << r.result().error.code << ": " << r.result().error.message;
    // The record is filed under the account it also carries in custom_channel_vars.
    EXPECT_EQ(r.sub("custom_channel_vars", "account_id"), r.str("account_id"));
    return r.str("account_id");
  }
};

TEST_P(AccountRules, DefaultVariablesInOrder) {
  // Default accounts.variables: [account_id, ecallmgr_Account-ID].
  EXPECT_EQ(account({{"account_id", "acct-1"}, {"ecallmgr_Account-ID", "acct-2"}}), "acct-1");
  EXPECT_EQ(account({{"ecallmgr_Account-ID", "acct-2"}, {"account_id", "acct-1"}}), "acct-1");
  // Kazoo's channel variable alone.
  EXPECT_EQ(account({{"ecallmgr_Account-ID", "4fa1bd1ac94a4d6ba2f1a3d1d3b3c0de"}}), "4fa1bd1ac94a4d6ba2f1a3d1d3b3c0de");
  // An empty variable is no account: the next one is tried.
  EXPECT_EQ(account({{"account_id", ""}, {"ecallmgr_Account-ID", "acct-2"}}), "acct-2");
}

TEST_P(AccountRules, ConfiguredVariablesInOrder) {
  NormalizeOptions options = default_options();
  options.accounts.variables = {"ecallmgr_Account-ID", "account_id"};
  EXPECT_EQ(account({{"account_id", "acct-1"}, {"ecallmgr_Account-ID", "acct-2"}}, options), "acct-2");
  options.accounts.variables = {"billing_account"};
  EXPECT_EQ(account({{"account_id", "acct-1"}, {"billing_account", "acct-9"}}, options), "acct-9");
  // account_id is no longer an account variable; no domain_name either.
  EXPECT_EQ(account({{"account_id", "acct-1"}}, options), "default");
}

TEST_P(AccountRules, VariableWinsOverTheDomain) {
  NormalizeOptions options = default_options();
  options.accounts.domains = {{"pbx.example.com", "acct-pbx"}};
  EXPECT_EQ(account({{"domain_name", "pbx.example.com"}, {"account_id", "acct-1"}}, options), "acct-1");
}

TEST_P(AccountRules, DomainIsTheAccountUnlessMapped) {
  EXPECT_EQ(account({{"domain_name", "pbx.example.com"}}), "pbx.example.com");
  NormalizeOptions options = default_options();
  options.accounts.domains = {{"pbx.example.com", "acct-pbx"}, {"other.example.com", "acct-other"}};
  EXPECT_EQ(account({{"domain_name", "pbx.example.com"}}, options), "acct-pbx");
  EXPECT_EQ(account({{"domain_name", "other.example.com"}}, options), "acct-other");
  // The map is exact: no suffix or case folding.
  EXPECT_EQ(account({{"domain_name", "PBX.example.com"}}, options), "PBX.example.com");
}

TEST_P(AccountRules, DomainVariablesInOrder) {
  // By default only domain_name: the base documents' SIP hosts are not consulted.
  EXPECT_EQ(account({}), "default");
  NormalizeOptions options = default_options();
  options.accounts.domain_variables = {"sip_to_host", "domain_name"};
  options.accounts.domains = {{"tenant.example.com", "acct-tenant"}};
  EXPECT_EQ(account({{"sip_to_host", "tenant.example.com"}, {"domain_name", "pbx.example.com"}}, options),
            "acct-tenant");
  options.accounts.domain_variables = {"domain_name", "sip_to_host"};
  EXPECT_EQ(account({{"sip_to_host", "tenant.example.com"}, {"domain_name", "pbx.example.com"}}, options),
            "pbx.example.com");
  // An empty list skips the domain step.
  options.accounts.domain_variables = {};
  EXPECT_EQ(account({{"domain_name", "pbx.example.com"}}, options), "default");
}

TEST_P(AccountRules, DomainVariableFromTheDocumentItself) {
  // json_cdr_cgrates_2013b: sip_to_host "ipbx.itsyscom.com";
  // xml_cdr_fsdocs_2014: sip_to_host "XX.XX.XXX.XXX" (masked by the page author).
  NormalizeOptions options = default_options();
  options.accounts.domain_variables = {"domain_name", "sip_to_host"};
  options.accounts.domains = {{"ipbx.itsyscom.com", "acct-itsyscom"}, {"XX.XX.XXX.XXX", "acct-masked"}};
  EXPECT_EQ(account({}, options), std::string(GetParam().name) == "json" ? "acct-itsyscom" : "acct-masked");
}

TEST_P(AccountRules, ConfiguredDefaultAccount) {
  NormalizeOptions options = default_options();
  options.accounts.default_account = "unassigned";
  EXPECT_EQ(account({}, options), "unassigned");
  EXPECT_EQ(account({{"domain_name", "pbx.example.com"}}, options), "pbx.example.com");
}

TEST_P(AccountRules, NoAccountAtAllIsRefused) {
  NormalizeOptions options = default_options();
  options.accounts.default_account = "";
  const Record r = GetParam().normalize({}, options);
  EXPECT_FALSE(r.result().ok());
  EXPECT_EQ(r.result().error.code, "missing_field");
  EXPECT_EQ(r.result().error.message,
            "account_id: no account variable, no SIP domain and no default account is configured");
}

INSTANTIATE_TEST_SUITE_P(BothCdrRoutes, AccountRules,
                         ::testing::Values(Route{"json", json_with}, Route{"xml", xml_with}),
                         [](const ::testing::TestParamInfo<Route>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace cdrd::test
