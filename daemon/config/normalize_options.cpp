#include "daemon/config/normalize_options.h"

namespace cdrd {

NormalizeOptions normalize_options_from(const Config& config) {
  NormalizeOptions o;
  o.node = config.node_name;
  o.app_version = CDRD_VERSION;
  o.accounts.variables = config.account_variables;
  o.accounts.domain_variables = config.account_domain_variables;
  o.accounts.domains = config.account_domains;
  o.accounts.default_account = config.default_account;
  o.numbers.default_region = config.numbers_default_region;
  o.numbers.account_regions = config.numbers_account_regions;
  o.trunks.variables = config.trunk_variables;
  for (const TrunkNetwork& n : config.trunk_networks) {
    TrunkRules::Network network;
    std::string why;
    if (parse_cidr(n.cidr, &network.network, &why)) {
      network.trunk = n.trunk;
      o.trunks.by_network.push_back(std::move(network));
    }
  }
  o.trunks.by_profile = config.trunk_profiles;
  o.recording.variables = config.recording_variables;
  o.recording.url_template = config.recording_url_template;
  return o;
}

}  // namespace cdrd
