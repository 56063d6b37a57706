#include "adapters/freeswitch/leg_details.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>

namespace cdrd {
namespace {

constexpr std::string_view kArrayPrefix = "ARRAY::";
constexpr std::string_view kArraySeparator = "|:";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// 8-4-4-4-12 hex digits: what switch_uuid_format() writes.
bool looks_like_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

// Calls `f` with each item of variable_items(value), without a vector.
template <typename F>
void for_each_item(std::string_view value, F f) {
  if (value.substr(0, kArrayPrefix.size()) != kArrayPrefix) {
    if (!value.empty()) f(value);
    return;
  }
  value.remove_prefix(kArrayPrefix.size());
  for (;;) {
    const size_t end = value.find(kArraySeparator);
    const std::string_view item = value.substr(0, end);
    if (!item.empty()) f(item);
    if (end == std::string_view::npos) break;
    value.remove_prefix(end + kArraySeparator.size());
  }
}

}  // namespace

std::vector<std::string_view> variable_items(std::string_view value) {
  std::vector<std::string_view> items;
  for_each_item(value, [&](std::string_view item) { items.push_back(item); });
  return items;
}

std::vector<TransferEntry> parse_transfer_history(std::string_view value) {
  std::vector<TransferEntry> entries;
  for_each_item(value, [&](std::string_view item) {
    const size_t first = item.find(':');
    const size_t second = first == std::string_view::npos ? first : item.find(':', first + 1);
    const size_t third = second == std::string_view::npos ? second : item.find(':', second + 1);
    if (third == std::string_view::npos) return;
    TransferEntry e;
    const std::string_view epoch = item.substr(0, first);
    int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(epoch.data(), epoch.data() + epoch.size(), seconds);
    if (ec == std::errc() && end == epoch.data() + epoch.size() && seconds > 0) e.epoch = seconds;
    e.uuid = item.substr(first + 1, second - first - 1);
    e.kind = item.substr(second + 1, third - second - 1);
    e.destination = item.substr(third + 1);
    entries.push_back(e);
  });
  return entries;
}

std::string kazoo_key(std::string_view key) {
  std::string out(key);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (c == '-') {
      c = '_';
    }
  }
  return out;
}

bool expand_url_template(std::string_view url_template, const ChannelVariables& v, std::string* out) {
  out->clear();
  size_t pos = 0;
  while (pos < url_template.size()) {
    const size_t open = url_template.find('{', pos);
    const size_t close = open == std::string_view::npos ? open : url_template.find('}', open + 1);
    if (close == std::string_view::npos) {
      out->append(url_template.substr(pos));
      break;
    }
    out->append(url_template.substr(pos, open - pos));
    const std::string_view value = v.get(url_template.substr(open + 1, close - open - 1));
    if (value.empty()) return false;
    out->append(value);
    pos = close + 1;
  }
  return !out->empty();
}

std::string_view find_trunk(const ChannelVariables& v, const TrunkRules& rules, std::string_view network_ip) {
  for (const std::string& name : rules.variables) {
    const std::string_view value = v.get(name);
    if (!value.empty()) return value;
  }
  if (!rules.by_network.empty() && !network_ip.empty()) {
    // An IPv6 address may come in brackets, as in a SIP URI.
    if (network_ip.size() > 2 && network_ip.front() == '[' && network_ip.back() == ']') {
      network_ip = network_ip.substr(1, network_ip.size() - 2);
    }
    IpAddress address;
    if (parse_ip_address(network_ip, &address)) {
      for (const TrunkRules::Network& n : rules.by_network) {
        if (cidr_contains(n.network, address)) return n.trunk;
      }
    }
  }
  const std::string_view profile = v.get("sofia_profile_name");
  if (!profile.empty() && !rules.by_profile.empty()) {
    const auto it = rules.by_profile.find(std::string(profile));
    if (it != rules.by_profile.end()) return it->second;
  }
  return {};
}

std::string_view answered_by(const ChannelVariables& v) {
  const std::string_view amd = v.get("amd_result");
  if (equals_ignoring_case(amd, "HUMAN")) return "human";
  if (equals_ignoring_case(amd, "MACHINE")) return "machine";
  if (equals_ignoring_case(v.get("avmd_detect"), "TRUE")) return "machine";
  return {};
}

std::vector<std::string_view> diversions(const ChannelVariables& v) {
  return diversions(v.with_prefix("sip_i_"), v.with_prefix("sip_h_"), v.with_prefix("sip_rh_"));
}

std::vector<std::string_view> diversions(const std::vector<ChannelVariables::Entry>& sip_i,
                                         const std::vector<ChannelVariables::Entry>& sip_h,
                                         const std::vector<ChannelVariables::Entry>& sip_rh) {
  static constexpr std::string_view kName = "diversion";
  std::vector<std::string_view> out;
  for (const auto& [prefix, variables] :
       {std::pair{std::string_view("sip_i_"), &sip_i}, std::pair{std::string_view("sip_h_"), &sip_h},
        std::pair{std::string_view("sip_rh_"), &sip_rh}}) {
    for (const auto& [name, value] : *variables) {
      if (value.empty() || !equals_ignoring_case(name.substr(prefix.size()), kName)) continue;
      if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(value);
    }
  }
  return out;
}

std::vector<std::string_view> related_call_ids(const ChannelData& data, std::string_view call_id) {
  const ChannelVariables& v = data.variables;
  std::vector<std::string_view> ids;
  ids.reserve(32);  // room for the usual few without growing
  ids.push_back(data.other_leg.uuid);
  // Variables whose value is another channel's uuid: the bridge partner
  // (switch_ivr_bridge.c), the originating leg (switch_ivr_originate.c), the
  // A-leg (call_uuid), mod_loopback's halves, and the legs of an attended
  // transfer (mod_sofia: att_xfer_kill_uuid, refer_uuid; Kazoo reads
  // att_xfer_replaced_by).
  for (std::string_view name :
       {"bridge_uuid", "last_bridge_to", "signal_bond", "originator", "originating_leg_uuid", "origination_uuid",
        "call_uuid", "other_loopback_leg_uuid", "loopback_from_uuid", "other_loopback_from_uuid", "other_leg_true_id",
        "att_xfer_replaced_by", "att_xfer_kill_uuid", "refer_uuid"}) {
    for_each_item(v.get(name), [&](std::string_view item) { ids.push_back(item); });
  }
  // mod_dptools' att_xfer: "xfer_uuids" holds two uuids separated by a space.
  std::string_view xfer = v.get("xfer_uuids");
  while (!xfer.empty()) {
    const size_t space = xfer.find(' ');
    ids.push_back(xfer.substr(0, space));
    xfer = space == std::string_view::npos ? std::string_view() : xfer.substr(space + 1);
  }
  // mod_sofia's transfer_to: "att:<uuid>", "satt:<uuid>", "blind:<uuid or extension>".
  const std::string_view transfer_to = v.get("transfer_to");
  const size_t colon = transfer_to.find(':');
  if (colon != std::string_view::npos && looks_like_uuid(transfer_to.substr(colon + 1))) {
    ids.push_back(transfer_to.substr(colon + 1));
  }
  // uuid_br entries name the channel the leg was bridged to; the entries' own
  // uuid is a caller profile's id, which no other leg has as its call_id.
  for (const TransferEntry& e : parse_transfer_history(v.get("transfer_history"))) {
    if (e.kind == "uuid_br") ids.push_back(e.destination);
  }
  ids.erase(std::remove_if(ids.begin(), ids.end(), [&](std::string_view id) { return id.empty() || id == call_id; }),
            ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string check_url_template(std::string_view url_template) {
  size_t pos = 0;
  for (;;) {
    const size_t open = url_template.find_first_of("{}", pos);
    if (open == std::string_view::npos) return {};
    if (url_template[open] == '}') return "a '}' at offset " + std::to_string(open) + " closes no '{'";
    const size_t close = url_template.find_first_of("{}", open + 1);
    if (close == std::string_view::npos || url_template[close] == '{') {
      return "the '{' at offset " + std::to_string(open) + " is not closed by a '}'";
    }
    if (close == open + 1) return "an empty variable name '{}' at offset " + std::to_string(open);
    pos = close + 1;
  }
}

}  // namespace cdrd
