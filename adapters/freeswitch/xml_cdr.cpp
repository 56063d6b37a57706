// mod_xml_cdr documents -> ChannelData -> canonical record.
#include <pugixml.hpp>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/normalize.h"
#include "adapters/freeswitch/percent_decode.h"
#include "adapters/freeswitch/record_builder.h"

namespace cdrd {
namespace {

using pugi::xml_node;

// FreeSWITCH url-encodes every variable value of an XML CDR
// (switch_ivr_generate_xml_cdr); the decoded copies must outlive the build,
// and a deque keeps them where they are as it grows.
class DecodedValues {
 public:
  std::string_view decode(std::string_view text) {
    if (text.find('%') == std::string_view::npos) return text;
    return values_.emplace_back(percent_decode(text, PlusMeans::kPlus));
  }

 private:
  std::deque<std::string> values_;
};

// The element's text (PCDATA or CDATA); pugixml's strings live in the document.
std::string_view child_text(const xml_node& parent, const char* name) { return parent.child(name).text().get(); }

// Caller profiles are written unencoded (switch_ivr_set_xml_profile_data);
// only XML escapes apply, which pugixml has already undone.
void read_profile(const xml_node& profile, PartyProfile* out) {
  out->uuid = child_text(profile, "uuid");
  out->caller_id_name = child_text(profile, "caller_id_name");
  out->caller_id_number = child_text(profile, "caller_id_number");
  out->callee_id_name = child_text(profile, "callee_id_name");
  out->callee_id_number = child_text(profile, "callee_id_number");
  out->destination_number = child_text(profile, "destination_number");
}

void read_times(const xml_node& times, ProfileTimes* out) {
  out->created = decimal_or_zero(child_text(times, "created_time"));
  out->progress = decimal_or_zero(child_text(times, "progress_time"));
  out->answered = decimal_or_zero(child_text(times, "answered_time"));
  out->hangup = decimal_or_zero(child_text(times, "hangup_time"));
}

// The first profile under <caller_profile><role>: one
// <role_caller_profile> element per originated / originating channel.
xml_node party_profile(const xml_node& caller_profile, const char* role) {
  for (const xml_node& profile : caller_profile.child(role).children()) {
    if (profile.type() == pugi::node_element) return profile;
  }
  return {};
}

// Same choice as for mod_json_cdr: every <callflow> is one caller profile,
// newest first, and profile_index (an attribute here) names the current one.
void read_callflows(const std::vector<xml_node>& callflows, ChannelData* data) {
  if (callflows.empty()) return;
  xml_node latest = callflows.front();
  int64_t latest_index = decimal_or_zero(latest.attribute("profile_index").value());
  for (const xml_node& cf : callflows) {
    const int64_t index = decimal_or_zero(cf.attribute("profile_index").value());
    if (index > latest_index) {
      latest = cf;
      latest_index = index;
    }
  }
  if (const xml_node profile = latest.child("caller_profile")) read_profile(profile, &data->caller);
  if (const xml_node times = latest.child("times")) read_times(times, &data->times);

  // An originator makes this a B-leg, so it wins over an originatee (a B-leg
  // can itself originate, e.g. on a transfer).
  std::vector<xml_node> order{latest};
  for (const xml_node& cf : callflows) {
    if (cf != latest) order.push_back(cf);
  }
  for (const bool originator : {true, false}) {
    for (const xml_node& cf : order) {
      if (const xml_node other = party_profile(cf.child("caller_profile"), originator ? "originator" : "originatee")) {
        read_profile(other, &data->other_leg);
        data->other_leg_is_originator = originator;
        // FreeSWITCH creates every originated channel as outbound.
        if (!originator) data->other_leg.direction = "outbound";
        return;
      }
    }
  }
}

void read_variables(const xml_node& variables, DecodedValues* decoded, ChannelVariables* out) {
  for (const xml_node& variable : variables.children()) {
    if (variable.type() != pugi::node_element) continue;
    out->add(variable.name(), decoded->decode(variable.text().get()));
  }
}

NormalizeResult refuse(const char* code, std::string message) {
  NormalizeResult result;
  result.error.code = code;
  result.error.message = std::move(message);
  return result;
}

}  // namespace

NormalizeResult normalize_xml_cdr(std::string_view xml, const NormalizeOptions& options, std::string_view uuid_param) {
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) return refuse("empty_body", "the XML CDR is empty");
  // pugixml ends the document at a NUL byte and would accept what precedes it.
  if (const void* nul = std::memchr(xml.data(), '\0', xml.size())) {
    return refuse("invalid_xml", "XML parse error at offset " +
                                     std::to_string(static_cast<const char*>(nul) - xml.data()) +
                                     ": NUL byte in the document");
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    return refuse("invalid_xml",
                  "XML parse error at offset " + std::to_string(parsed.offset) + ": " + parsed.description());
  }
  const xml_node root = doc.document_element();
  if (std::strcmp(root.name(), "cdr") != 0) {
    return refuse("invalid_xml", std::string("the root element is <") + root.name() + ">, not <cdr>");
  }
  const xml_node variables = root.child("variables");
  if (!variables) return refuse("missing_field", "variables is missing");

  ChannelData data;
  DecodedValues decoded;
  // Before 1.2 (no channel_data, no core-uuid) the direction and the
  // instance are simply not in the document.
  data.core_uuid = root.attribute("core-uuid").value();
  data.switchname = root.attribute("switchname").value();
  data.direction = child_text(root.child("channel_data"), "direction");
  read_variables(variables, &decoded, &data.variables);
  std::vector<xml_node> callflows;
  for (const xml_node& cf : root.children("callflow")) callflows.push_back(cf);
  read_callflows(callflows, &data);
  // FreeSWITCH 1.0 did not list `uuid` among the variables; the caller
  // profile always names the leg. Added last, so a real variable wins.
  if (!data.caller.uuid.empty()) data.variables.add("uuid", data.caller.uuid);
  data.variables.seal();

  return normalized_record(data, options, RecordSource{"xml_cdr", "variables."}, uuid_param, xml, "xml");
}

}  // namespace cdrd
