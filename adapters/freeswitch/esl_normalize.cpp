// ESL CHANNEL_HANGUP_COMPLETE events -> ChannelData -> canonical record.
#include <string>

#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/normalize.h"
#include "adapters/freeswitch/record_builder.h"

namespace cdrd {
namespace {

constexpr std::string_view kVariablePrefix = "variable_";

// One party's headers: the leg's own under "Caller-", the other leg's under
// "Other-Leg-", with the same names after the prefix. The names are spelled
// out whole: these run for every event.
struct PartyHeaders {
  std::string_view uuid, caller_id_name, caller_id_number, callee_id_name, callee_id_number, destination_number,
      direction;
};
constexpr PartyHeaders kCaller{"Caller-Unique-ID",      "Caller-Caller-ID-Name",   "Caller-Caller-ID-Number",
                               "Caller-Callee-ID-Name", "Caller-Callee-ID-Number", "Caller-Destination-Number",
                               "Caller-Direction"};
constexpr PartyHeaders kOtherLeg{"Other-Leg-Unique-ID",        "Other-Leg-Caller-ID-Name",
                                 "Other-Leg-Caller-ID-Number", "Other-Leg-Callee-ID-Name",
                                 "Other-Leg-Callee-ID-Number", "Other-Leg-Destination-Number",
                                 "Other-Leg-Direction"};

// The event's headers other than the channel variables, by name (the first
// of a repeated name, as EslEvent::header()).
using HeaderIndex = ChannelVariables;

void read_party(const HeaderIndex& headers, const PartyHeaders& names, PartyProfile* out) {
  out->uuid = headers.get(names.uuid);
  out->caller_id_name = headers.get(names.caller_id_name);
  out->caller_id_number = headers.get(names.caller_id_number);
  out->callee_id_name = headers.get(names.callee_id_name);
  out->callee_id_number = headers.get(names.callee_id_number);
  out->destination_number = headers.get(names.destination_number);
  out->direction = headers.get(names.direction);
}

void read_caller_profile(const HeaderIndex& headers, ChannelData* data) {
  read_party(headers, kCaller, &data->caller);
  data->times.created = decimal_or_zero(headers.get("Caller-Channel-Created-Time"));
  data->times.progress = decimal_or_zero(headers.get("Caller-Channel-Progress-Time"));
  data->times.answered = decimal_or_zero(headers.get("Caller-Channel-Answered-Time"));
  data->times.hangup = decimal_or_zero(headers.get("Caller-Channel-Hangup-Time"));
}

// The event carries one other party: "Other-Type" says whether it originated
// this leg (originator: this is a B-leg) or was originated by it (originatee).
void read_other_leg(const HeaderIndex& headers, ChannelData* data) {
  read_party(headers, kOtherLeg, &data->other_leg);
  data->other_leg_is_originator = headers.get("Other-Type") == "originator";
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
  HeaderIndex headers;
  variables.reserve(event.headers.size() + 4);
  headers.reserve(event.headers.size());
  for (size_t i = 0; i < event.headers.size(); ++i) {
    const std::string_view name = event.headers.name(i);
    if (name.size() > kVariablePrefix.size() && name.substr(0, kVariablePrefix.size()) == kVariablePrefix) {
      variables.add(name.substr(kVariablePrefix.size()), event.headers.value(i));
    } else {
      headers.add(name, event.headers.value(i));
    }
  }
  headers.seal();
  // Channel facts the event also gives as headers, for events whose
  // variables lack them; seal() keeps the variables' own values, added first.
  // The *_uepoch variables and the caller profile's times are the same
  // microsecond clock readings (switch_channel_set_timestamps), so a leg
  // gets one id and one timestamp whichever route delivers it.
  variables.add("uuid", headers.get("Unique-ID"));
  variables.add("start_uepoch", headers.get("Caller-Channel-Created-Time"));
  variables.add("end_uepoch", headers.get("Caller-Channel-Hangup-Time"));
  variables.add("channel_name", headers.get("Channel-Name"));
  variables.seal();

  read_caller_profile(headers, &data);
  read_other_leg(headers, &data);
  data.direction = headers.get("Call-Direction");
  data.switchname = headers.get("FreeSWITCH-Hostname");
  data.core_uuid = headers.get("Core-UUID");
  data.host_ipv4 = headers.get("FreeSWITCH-IPv4");

  return normalized_record(data, options, RecordSource{"esl", "variable_"}, {}, event.raw, "esl");
}

}  // namespace cdrd
