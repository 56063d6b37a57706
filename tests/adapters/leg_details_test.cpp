// The billing details' pure functions (leg_details.h) on hand-written
// variables: the forms no sample carries (several transfers, AMD, trunk
// rules, recording templates, attended-transfer uuids).
#include "adapters/freeswitch/leg_details.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace cdrd {
namespace {

using Views = std::vector<std::string_view>;

// Variables from name/value pairs; the strings must outlive the lookups, so
// they are string literals here.
ChannelVariables vars(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  ChannelVariables v;
  for (const auto& [name, value] : pairs) v.add(name, value);
  v.seal();
  return v;
}

TrunkRules::Network network(const char* cidr, const char* trunk) {
  TrunkRules::Network n;
  std::string why;
  EXPECT_TRUE(parse_cidr(cidr, &n.network, &why)) << why;
  n.trunk = trunk;
  return n;
}

TEST(LegDetails, VariableItems) {
  EXPECT_EQ(variable_items("one"), Views{"one"});
  EXPECT_EQ(variable_items(""), Views{});
  EXPECT_EQ(variable_items("ARRAY::a|:b|:c"), (Views{"a", "b", "c"}));
  // Empty items are skipped; a '|' alone is part of an item.
  EXPECT_EQ(variable_items("ARRAY::|:x|y|:"), Views{"x|y"});
}

TEST(LegDetails, TransferHistoryEntries) {
  // Three entries as FreeSWITCH pushes them (switch_ivr.c, switch_ivr_bridge.c).
  const auto entries = parse_transfer_history(
      "ARRAY::1515666344:b4300942-e809-4393-99cb-d39a1bc3c219:bl_xfer:1002/default/XML"
      "|:1515666350:c1c2c3c4-0000-4000-8000-000000000001:att_xfer:1002@10.0.0.1/1003@10.0.0.1"
      "|:1515666360:d1d2d3d4-0000-4000-8000-000000000002:uuid_br:f52c26f1-b018-4963-bf6d-a3111d1a0320");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].epoch, 1515666344);
  EXPECT_EQ(entries[0].uuid, "b4300942-e809-4393-99cb-d39a1bc3c219");
  EXPECT_EQ(entries[0].kind, "bl_xfer");
  EXPECT_EQ(entries[0].destination, "1002/default/XML");
  EXPECT_EQ(entries[1].kind, "att_xfer");
  EXPECT_EQ(entries[1].destination, "1002@10.0.0.1/1003@10.0.0.1");
  EXPECT_EQ(entries[2].epoch, 1515666360);
  EXPECT_EQ(entries[2].kind, "uuid_br");
  EXPECT_EQ(entries[2].destination, "f52c26f1-b018-4963-bf6d-a3111d1a0320");
  // The destination keeps its own ':'; a bad epoch is no time; an entry without three ':' is skipped.
  const auto odd = parse_transfer_history("ARRAY::x:u:bl_xfer:sip:1002@h:5060|:1:2:3");
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_EQ(odd[0].epoch, 0);
  EXPECT_EQ(odd[0].destination, "sip:1002@h:5060");
  EXPECT_TRUE(parse_transfer_history("").empty());
}

TEST(LegDetails, KazooKeySpelling) {
  EXPECT_EQ(kazoo_key("Owner-ID"), "owner_id");    // ecallmgr_Owner-ID once the prefix is gone
  EXPECT_EQ(kazoo_key("X-Foo-Bar"), "x_foo_bar");  // sip_h_X-Foo-Bar
  EXPECT_EQ(kazoo_key("already_kazoo"), "already_kazoo");
  EXPECT_EQ(kazoo_key("Caf\xC3\x89-X"), "caf\xC3\x89_x");  // bytes outside ASCII stay
}

TEST(LegDetails, RecordingUrlTemplate) {
  const ChannelVariables v = vars({{"record_path", "2024/05"}, {"record_name", "abc.mp3"}, {"uuid", "u-1"}});
  std::string url;
  EXPECT_TRUE(expand_url_template("https://rec.example/{record_path}/{record_name}", v, &url));
  EXPECT_EQ(url, "https://rec.example/2024/05/abc.mp3");
  EXPECT_TRUE(expand_url_template("{uuid}", v, &url));
  EXPECT_EQ(url, "u-1");
  // A variable the leg lacks: no URL at all.
  EXPECT_FALSE(expand_url_template("https://rec.example/{record_path}/{record_file}", v, &url));
  EXPECT_TRUE(expand_url_template("https://rec.example/static", v, &url));
  EXPECT_EQ(url, "https://rec.example/static");

  EXPECT_EQ(check_url_template("https://rec.example/{record_path}/{record_name}"), "");
  EXPECT_EQ(check_url_template(""), "");
  EXPECT_EQ(check_url_template("x{a"), "the '{' at offset 1 is not closed by a '}'");
  EXPECT_EQ(check_url_template("x{a{b}"), "the '{' at offset 1 is not closed by a '}'");
  EXPECT_EQ(check_url_template("x{}"), "an empty variable name '{}' at offset 1");
  EXPECT_EQ(check_url_template("{a}}"), "a '}' at offset 3 closes no '{'");
}

TEST(LegDetails, TrunkRulesFirstMatchWins) {
  TrunkRules rules;  // defaults: sip_gateway_name, ecallmgr_Resource-ID
  rules.by_network = {network("198.51.100.0/24", "net-v4"), network("198.51.100.7", "never: the /24 comes first"),
                      network("2001:db8:5::/48", "net-v6")};
  rules.by_profile = {{"external", "by-profile"}};
  const auto trunk = [&](std::initializer_list<std::pair<const char*, const char*>> pairs,
                         std::string_view network_ip) {
    return std::string(find_trunk(vars(pairs), rules, network_ip));
  };

  // 1. the gateway, 2. Kazoo's resource, 3. the network, 4. the profile.
  EXPECT_EQ(trunk({{"sip_gateway_name", "gw-a"}, {"ecallmgr_Resource-ID", "res-b"}, {"sofia_profile_name", "external"}},
                  "198.51.100.7"),
            "gw-a");
  EXPECT_EQ(trunk({{"ecallmgr_Resource-ID", "res-b"}, {"sofia_profile_name", "external"}}, "198.51.100.7"), "res-b");
  EXPECT_EQ(trunk({{"sofia_profile_name", "external"}}, "198.51.100.7"), "net-v4");
  EXPECT_EQ(trunk({{"sofia_profile_name", "external"}}, "2001:db8:5:1::9"), "net-v6");
  EXPECT_EQ(trunk({{"sofia_profile_name", "external"}}, "[2001:db8:5::1]"), "net-v6");
  EXPECT_EQ(trunk({{"sofia_profile_name", "external"}}, "2001:db8:6::1"), "by-profile");
  EXPECT_EQ(trunk({{"sofia_profile_name", "external"}}, "198.51.101.7"), "by-profile");
  // An IPv4-mapped address matches the IPv4 network.
  EXPECT_EQ(trunk({}, "::ffff:198.51.100.9"), "net-v4");
  // Nothing matches: no trunk. A masked address is no address.
  EXPECT_EQ(trunk({{"sofia_profile_name", "internal"}}, "192.0.2.1"), "");
  EXPECT_EQ(trunk({{"sofia_profile_name", "internal"}}, "XX.XX.XXX.XXX"), "");
  // The variables are configurable, [] skips that rule.
  rules.variables = {"my_trunk"};
  EXPECT_EQ(trunk({{"sip_gateway_name", "gw-a"}, {"my_trunk", "mine"}}, ""), "mine");
  rules.variables = {};
  EXPECT_EQ(trunk({{"sip_gateway_name", "gw-a"}}, "198.51.100.1"), "net-v4");
}

TEST(LegDetails, AnsweredBy) {
  EXPECT_EQ(answered_by(vars({{"amd_result", "HUMAN"}})), "human");
  EXPECT_EQ(answered_by(vars({{"amd_result", "MACHINE"}})), "machine");
  EXPECT_EQ(answered_by(vars({{"amd_result", "machine"}})), "machine");
  EXPECT_EQ(answered_by(vars({{"amd_result", "NOTSURE"}})), "");
  EXPECT_EQ(answered_by(vars({{"avmd_detect", "TRUE"}})), "machine");
  EXPECT_EQ(answered_by(vars({{"avmd_detect", "FALSE"}})), "");
  // mod_amd's verdict wins over a beep.
  EXPECT_EQ(answered_by(vars({{"amd_result", "HUMAN"}, {"avmd_detect", "TRUE"}})), "human");
  EXPECT_EQ(answered_by(vars({})), "");
}

TEST(LegDetails, DiversionHeadersInAnyCase) {
  const ChannelVariables v = vars({{"sip_h_Diversion", "<sip:100@a>;reason=unconditional"},
                                   {"sip_i_diversion", "<sip:200@b>;reason=no-answer"},
                                   {"sip_rh_Diversion", "<sip:200@b>;reason=no-answer"},
                                   {"sip_h_Diversion-Extra", "not a diversion"}});
  EXPECT_EQ(diversions(v), (Views{"<sip:200@b>;reason=no-answer", "<sip:100@a>;reason=unconditional"}));
  EXPECT_TRUE(diversions(vars({})).empty());
}

TEST(LegDetails, RelatedCallIdsOfEveryKind) {
  ChannelData data;
  data.variables = vars({
      {"uuid", "00000000-0000-4000-8000-000000000000"},
      {"call_uuid", "00000000-0000-4000-8000-000000000000"},  // its own: left out
      {"bridge_uuid", "11111111-0000-4000-8000-000000000000"},
      {"last_bridge_to", "11111111-0000-4000-8000-000000000000"},  // the same: once
      {"signal_bond", "22222222-0000-4000-8000-000000000000"},
      {"originator", "33333333-0000-4000-8000-000000000000"},
      {"originating_leg_uuid", "33333333-0000-4000-8000-000000000000"},
      {"other_loopback_leg_uuid", "44444444-0000-4000-8000-000000000000"},
      {"loopback_from_uuid", "55555555-0000-4000-8000-000000000000"},
      {"other_loopback_from_uuid", "66666666-0000-4000-8000-000000000000"},
      {"att_xfer_kill_uuid", "77777777-0000-4000-8000-000000000000"},
      {"refer_uuid", "88888888-0000-4000-8000-000000000000"},
      {"xfer_uuids", "99999999-0000-4000-8000-000000000000 aaaaaaaa-0000-4000-8000-000000000000"},
      {"transfer_to", "att:bbbbbbbb-0000-4000-8000-000000000000"},
      // A uuid_br entry names a channel; the entries' own uuids are caller profiles'.
      {"transfer_history",
       "ARRAY::1515666344:cccccccc-0000-4000-8000-00000000ffff:bl_xfer:1002/default/XML"
       "|:1515666360:dddddddd-0000-4000-8000-00000000ffff:uuid_br:eeeeeeee-0000-4000-8000-000000000000"},
  });
  data.other_leg.uuid = "ffffffff-0000-4000-8000-000000000000";
  EXPECT_EQ(related_call_ids(data, "00000000-0000-4000-8000-000000000000"),
            (Views{"11111111-0000-4000-8000-000000000000", "22222222-0000-4000-8000-000000000000",
                   "33333333-0000-4000-8000-000000000000", "44444444-0000-4000-8000-000000000000",
                   "55555555-0000-4000-8000-000000000000", "66666666-0000-4000-8000-000000000000",
                   "77777777-0000-4000-8000-000000000000", "88888888-0000-4000-8000-000000000000",
                   "99999999-0000-4000-8000-000000000000", "aaaaaaaa-0000-4000-8000-000000000000",
                   "bbbbbbbb-0000-4000-8000-000000000000", "eeeeeeee-0000-4000-8000-000000000000",
                   "ffffffff-0000-4000-8000-000000000000"}));

  // A blind transfer to an extension names no channel; nothing at all gives an empty list.
  ChannelData blind;
  blind.variables = vars({{"transfer_to", "blind:1002"}, {"origination_uuid", "own"}});
  EXPECT_TRUE(related_call_ids(blind, "own").empty());
}

}  // namespace
}  // namespace cdrd
