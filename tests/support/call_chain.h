// A call through three hops, as FreeSWITCH writes its six legs: a user's
// call (a) bridged to loopback la1/lb1, whose dialplan bridges to loopback
// la2/lb2, whose dialplan bridges out to carrier1 (b). Each half names only
// its neighbour (originator, other_loopback_leg_uuid), so only a chain walk
// ties b to a. The documents are what mod_json_cdr, mod_xml_cdr and an ESL
// CHANNEL_HANGUP_COMPLETE (text/event-plain body) carry for each leg. Used by
// tests/db/call_assembly_pgtest.cpp and tests/e2e/esl_e2e_test.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cdrd::test {

enum class ChainFormat { kJson, kXml, kEsl };

struct ChainLeg {
  std::string uuid;
  ChainFormat format;
  int64_t start_offset_ms;  // after the call's base time
  int64_t end_offset_s;
  std::map<std::string, std::string> variables;  // beyond uuid, times, cause and account
};

inline const std::vector<ChainLeg>& three_hop_chain() {
  static const std::vector<ChainLeg> legs = {
      {"a0000000-0000-4000-8000-00000000000a",
       ChainFormat::kJson,
       0,
       100,
       {{"direction", "inbound"},
        {"channel_name", "sofia/internal/1000@10.0.0.5"},
        {"destination_number", "33170363950"}}},
      {"a0000000-0000-4000-8000-0000000001a1",
       ChainFormat::kXml,
       500,
       100,
       {{"direction", "outbound"},
        {"channel_name", "loopback/33170363950-a"},
        {"originator", "a0000000-0000-4000-8000-00000000000a"},
        {"originating_leg_uuid", "a0000000-0000-4000-8000-00000000000a"}}},
      // The other half of the first loopback ends minutes after its partner.
      {"a0000000-0000-4000-8000-0000000001b1",
       ChainFormat::kEsl,
       500,
       280,
       {{"direction", "inbound"},
        {"channel_name", "loopback/33170363950-b"},
        {"other_loopback_leg_uuid", "a0000000-0000-4000-8000-0000000001a1"}}},
      {"a0000000-0000-4000-8000-0000000002a2",
       ChainFormat::kJson,
       1000,
       281,
       {{"direction", "outbound"},
        {"channel_name", "loopback/33170363950-a"},
        {"originator", "a0000000-0000-4000-8000-0000000001b1"},
        {"originating_leg_uuid", "a0000000-0000-4000-8000-0000000001b1"}}},
      {"a0000000-0000-4000-8000-0000000002b2",
       ChainFormat::kXml,
       1000,
       290,
       {{"direction", "inbound"},
        {"channel_name", "loopback/33170363950-b"},
        {"other_loopback_leg_uuid", "a0000000-0000-4000-8000-0000000002a2"}}},
      {"a0000000-0000-4000-8000-00000000000b",
       ChainFormat::kEsl,
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

// Every variable of `leg` in `account`, the call starting at base_us (µs).
inline std::map<std::string, std::string> chain_variables(const ChainLeg& leg, const std::string& account,
                                                          int64_t base_us) {
  constexpr int64_t kSecond = 1000000;
  std::map<std::string, std::string> v = leg.variables;
  v["uuid"] = leg.uuid;
  v["account_id"] = account;
  const int64_t start = base_us + leg.start_offset_ms * 1000;
  v["start_uepoch"] = std::to_string(start);
  v["answer_uepoch"] = std::to_string(start + 2 * kSecond);
  v["end_uepoch"] = std::to_string(base_us + leg.end_offset_s * kSecond);
  v["hangup_cause"] = "NORMAL_CLEARING";
  return v;
}

inline std::string chain_json_cdr(const std::map<std::string, std::string>& v) {
  std::string out = R"({"core-uuid":"c0de0000-0000-4000-8000-000000000001","switchname":"fs1","variables":{)";
  bool first = true;
  for (const auto& [name, value] : v) {
    out += (first ? "\"" : ",\"") + name + "\":\"" + value + "\"";
    first = false;
  }
  return out + "}}";
}

inline std::string chain_xml_cdr(const std::map<std::string, std::string>& v) {
  std::string out = "<?xml version=\"1.0\"?>\n<cdr core-uuid=\"c0de0000-0000-4000-8000-000000000001\"><variables>";
  for (const auto& [name, value] : v) out += "<" + name + ">" + value + "</" + name + ">";
  return out + "</variables></cdr>";
}

// The text/event-plain body (values need no percent-encoding here).
inline std::string chain_esl_body(const std::map<std::string, std::string>& v) {
  std::string body = "Event-Name: CHANNEL_HANGUP_COMPLETE\nUnique-ID: " + v.at("uuid") +
                     "\nFreeSWITCH-Hostname: fs1\nCall-Direction: " + v.at("direction") + "\n";
  for (const auto& [name, value] : v) body += "variable_" + name + ": " + value + "\n";
  return body + "\n";
}

}  // namespace cdrd::test
