// mod_json_cdr documents -> ChannelData -> canonical record.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>
#include <string>
#include <vector>

#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/normalize.h"
#include "adapters/freeswitch/percent_decode.h"
#include "adapters/freeswitch/record_builder.h"

namespace cdrd {
namespace {

// Numbers stay text: variables are strings in every FreeSWITCH version, and
// in-situ parsing leaves every string in our own buffer, so decoding the
// values in place costs no allocation.
constexpr unsigned kParseFlags = rapidjson::kParseNumbersAsStringsFlag;

using Value = rapidjson::Value;

std::string_view string_member(const Value& object, const char* name) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::string_view as_view(const Value& string) { return {string.GetString(), string.GetStringLength()}; }

int64_t int_member(const Value& object, const char* name) { return decimal_or_zero(string_member(object, name)); }

void read_profile(const Value& profile, PartyProfile* out) {
  out->uuid = string_member(profile, "uuid");
  out->caller_id_name = string_member(profile, "caller_id_name");
  out->caller_id_number = string_member(profile, "caller_id_number");
  out->callee_id_name = string_member(profile, "callee_id_name");
  out->callee_id_number = string_member(profile, "callee_id_number");
  out->destination_number = string_member(profile, "destination_number");
}

void read_times(const Value& times, ProfileTimes* out) {
  out->created = int_member(times, "created_time");
  out->progress = int_member(times, "progress_time");
  out->answered = int_member(times, "answered_time");
  out->hangup = int_member(times, "hangup_time");
}

// The first profile under caller_profile.<role>: 1.6+ writes
// {"<role>_caller_profiles": [...]}, older versions a single object.
const Value* party_profile(const Value& caller_profile, const char* role) {
  const auto it = caller_profile.FindMember(role);
  if (it == caller_profile.MemberEnd() || !it->value.IsObject()) return nullptr;
  for (const auto& m : it->value.GetObject()) {
    if (m.value.IsObject()) return &m.value;
    if (m.value.IsArray()) {
      for (const auto& p : m.value.GetArray()) {
        if (p.IsObject()) return &p;
      }
    }
  }
  return nullptr;
}

// Pre-1.6 documents repeat the key `callflow` (one per caller profile),
// 1.6+ ones hold an array; both list the newest profile first.
void collect_callflows(const Value& value, std::vector<const Value*>* out) {
  if (value.IsObject()) {
    out->push_back(&value);
  } else if (value.IsArray()) {
    for (const auto& item : value.GetArray()) {
      if (item.IsObject()) out->push_back(&item);
    }
  }
}

void read_callflows(const std::vector<const Value*>& callflows, ChannelData* data) {
  if (callflows.empty()) return;
  // The leg's current profile: the highest profile_index, the first on a tie.
  const Value* latest = callflows.front();
  int64_t latest_index = int_member(*latest, "profile_index");
  for (const Value* cf : callflows) {
    const int64_t index = int_member(*cf, "profile_index");
    if (index > latest_index) {
      latest = cf;
      latest_index = index;
    }
  }
  const auto profile = latest->FindMember("caller_profile");
  if (profile != latest->MemberEnd() && profile->value.IsObject()) read_profile(profile->value, &data->caller);
  const auto times = latest->FindMember("times");
  if (times != latest->MemberEnd() && times->value.IsObject()) read_times(times->value, &data->times);

  // The other leg: an originator makes this a B-leg, so it wins over an
  // originatee (a B-leg can itself originate, e.g. on a transfer).
  std::vector<const Value*> order{latest};
  for (const Value* cf : callflows) {
    if (cf != latest) order.push_back(cf);
  }
  for (const bool originator : {true, false}) {
    for (const Value* cf : order) {
      const auto cp = cf->FindMember("caller_profile");
      if (cp == cf->MemberEnd() || !cp->value.IsObject()) continue;
      if (const Value* other = party_profile(cp->value, originator ? "originator" : "originatee")) {
        read_profile(*other, &data->other_leg);
        data->other_leg_is_originator = originator;
        // FreeSWITCH creates every originated channel as outbound.
        if (!originator) data->other_leg.direction = "outbound";
        return;
      }
    }
  }
}

void read_variables(Value& variables, ChannelVariables* out) {
  out->reserve(variables.MemberCount());
  for (auto& m : variables.GetObject()) {
    if (m.value.IsString()) {
      // In-situ parsing: the string lives in our buffer, so it may be decoded where it is.
      char* text = const_cast<char*>(m.value.GetString());
      const size_t size = percent_decode_in_place(text, m.value.GetStringLength(), PlusMeans::kPlus);
      out->add(as_view(m.name), std::string_view(text, size));
    } else if (m.value.IsBool()) {
      out->add(as_view(m.name), m.value.GetBool() ? "true" : "false");
    }
  }
  out->seal();
}

NormalizeResult refuse(const char* code, std::string message) {
  NormalizeResult result;
  result.error.code = code;
  result.error.message = std::move(message);
  return result;
}

}  // namespace

NormalizeResult normalize_json_cdr(std::string_view json, const NormalizeOptions& options,
                                   std::string_view uuid_param) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return refuse("empty_body", "the JSON CDR is empty");
  // The in-situ parser stops at a NUL byte and would accept what precedes it.
  if (const void* nul = std::memchr(json.data(), '\0', json.size())) {
    return refuse("invalid_json", "JSON parse error at offset " +
                                      std::to_string(static_cast<const char*>(nul) - json.data()) +
                                      ": NUL byte in the document");
  }
  std::string buffer(json);
  rapidjson::Document doc;
  doc.ParseInsitu<kParseFlags>(buffer.data());
  if (doc.HasParseError()) {
    return refuse("invalid_json", "JSON parse error at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                                      rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return refuse("invalid_json", "the JSON CDR is not a JSON object");

  ChannelData data;
  Value* variables = nullptr;
  std::vector<const Value*> callflows;
  for (auto& m : doc.GetObject()) {
    const std::string_view name = as_view(m.name);
    if (name == "variables") {
      if (variables == nullptr) variables = &m.value;
    } else if (name == "callflow") {
      collect_callflows(m.value, &callflows);
    } else if (name == "switchname" && m.value.IsString()) {
      data.switchname = as_view(m.value);
    } else if (name == "core-uuid" && m.value.IsString()) {
      data.core_uuid = as_view(m.value);
    } else if (name == "channel_data" && m.value.IsObject()) {
      data.direction = string_member(m.value, "direction");
    }
  }
  if (variables == nullptr) return refuse("missing_field", "variables is missing");
  if (!variables->IsObject()) return refuse("invalid_json", "variables is not a JSON object");
  read_variables(*variables, &data.variables);
  read_callflows(callflows, &data);

  return normalized_record(data, options, RecordSource{"json_cdr", "variables."}, uuid_param, json, "json");
}

}  // namespace cdrd
