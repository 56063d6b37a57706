// ESL CHANNEL_HANGUP_COMPLETE events -> ChannelData -> canonical record.
#include <string>

#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/normalize.h"
#include "adapters/freeswitch/record_builder.h"

namespace cdrd {
namespace {

constexpr std::string_view kVariablePrefix = "variable_";

int64_t header_uepoch(const EslEvent& event, std::string_view name) { return decimal_or_zero(event.header(name)); }

// One party's headers: the leg's own under "Caller-", the other leg's under
// "Other-Leg-", with the same names after the prefix.
void read_party(const EslEvent& event, std::string_view prefix, PartyProfile* out) {
  const auto get = [&](std::string_view name) { return event.header(std::string(prefix).append(name)); };
  out->uuid = get("Unique-ID");
  out->caller_id_name = get("Caller-ID-Name");
  out->caller_id_number = get("Caller-ID-Number");
  out->callee_id_name = get("Callee-ID-Name");
  out->callee_id_number = get("Callee-ID-Number");
  out->destination_number = get("Destination-Number");
  out->direction = get("Direction");
}

void read_caller_profile(const EslEvent& event, ChannelData* data) {
  read_party(event, "Caller-", &data->caller);
  data->times.created = header_uepoch(event, "Caller-Channel-Created-Time");
  data->times.progress = header_uepoch(event, "Caller-Channel-Progress-Time");
  data->times.answered = header_uepoch(event, "Caller-Channel-Answered-Time");
  data->times.hangup = header_uepoch(event, "Caller-Channel-Hangup-Time");
}

// The event carries one other party: "Other-Type" says whether it originated
// this leg (originator: this is a B-leg) or was originated by it (originatee).
void read_other_leg(const EslEvent& event, ChannelData* data) {
  read_party(event, "Other-Leg-", &data->other_leg);
  data->other_leg_is_originator = event.header("Other-Type") == "originator";
}

}  // namespace

NormalizeResult normalize_esl_event(const EslEvent& event, const NormalizeOptions& options) {
  if (event.name() != "CHANNEL_HANGUP_COMPLETE") {
    NormalizeResult result;
    result.error.code = "not_a_hangup";
    result.error.message = "ESL event " + std::string(event.name()) + " is not CHANNEL_HANGUP_COMPLETE";
    return result;
  }
  ChannelData data;
  ChannelVariables& variables = data.variables;
  variables.reserve(event.headers.size());
  for (const auto& [name, value] : event.headers) {
    if (name.size() > kVariablePrefix.size() && name.compare(0, kVariablePrefix.size(), kVariablePrefix) == 0) {
      variables.add(std::string_view(name).substr(kVariablePrefix.size()), value);
    }
  }
  // Channel facts the event also gives as headers, for events whose
  // variables lack them; seal() keeps the variables' own values, added first.
  // The *_uepoch variables and the caller profile's times are the same
  // microsecond clock readings (switch_channel_set_timestamps), so a leg
  // gets one id and one timestamp whichever route delivers it.
  variables.add("uuid", event.header("Unique-ID"));
  variables.add("start_uepoch", event.header("Caller-Channel-Created-Time"));
  variables.add("end_uepoch", event.header("Caller-Channel-Hangup-Time"));
  variables.add("channel_name", event.header("Channel-Name"));
  variables.seal();

  read_caller_profile(event, &data);
  read_other_leg(event, &data);
  data.direction = event.header("Call-Direction");
  data.switchname = event.header("FreeSWITCH-Hostname");
  data.core_uuid = event.header("Core-UUID");
  data.host_ipv4 = event.header("FreeSWITCH-IPv4");

  return normalized_record(data, options, RecordSource{"esl", "variable_"}, {}, event.raw, "esl");
}

}  // namespace cdrd
