// mod_json_cdr documents -> ChannelData -> canonical record.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/json_insitu.h"
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

// The parse of a mod_json_cdr document, sorting its SAX events as they come.
// The first top-level "variables" object goes straight into ChannelVariables
// (its values percent-decoded where they are: in-situ parsing leaves every
// string in our buffer, and the parser never goes back to a string it has
// handed over). "callflow", "channel_data", "switchname" and "core-uuid"
// are forwarded to a DOM, which read_callflows() reads with the rules it
// always had. Everything else (callStats, app_log, a repeated "variables")
// is dropped. So no DOM is built for the variables, most of the document,
// nor for what no rule reads, and the variables are not walked twice.
class CdrFilter : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, CdrFilter> {
 public:
  CdrFilter(rapidjson::Document& dom, ChannelVariables* variables) : dom_(dom), variables_(variables) {}

  bool root_is_object() const { return root_is_object_; }
  bool has_variables() const { return has_variables_; }
  bool variables_are_object() const { return variables_are_object_; }

  bool Null() {
    if (forwarding()) dom_.Null();
    end_scalar();
    return true;
  }
  bool Bool(bool b) {
    if (forwarding()) dom_.Bool(b);
    if (at_variable()) variables_->add(variable_name_, b ? "true" : "false");
    end_scalar();
    return true;
  }
  // kParseNumbersAsStringsFlag: numbers come as their text, as strings do.
  bool RawNumber(const char* text, rapidjson::SizeType length, bool copy) {
    if (forwarding()) dom_.RawNumber(text, length, copy);
    if (at_variable()) add_variable(text, length);
    end_scalar();
    return true;
  }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    if (forwarding()) dom_.String(text, length, copy);
    if (at_variable()) add_variable(text, length);
    end_scalar();
    return true;
  }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    const std::string_view name(text, length);
    if (root_is_object_ && depth_ == 1) {
      if (name == "variables") {
        member_ = has_variables_ ? Member::kDropped : Member::kVariables;
        has_variables_ = true;
      } else if (name == "callflow" || name == "channel_data" || name == "switchname" || name == "core-uuid") {
        member_ = Member::kForwarded;
      } else {
        member_ = Member::kDropped;
      }
    } else if (member_ == Member::kVariables && depth_ == 2) {
      variable_name_ = name;
    }
    if (forwarding()) dom_.Key(text, length, copy);
    return true;
  }
  bool StartObject() { return start(true); }
  bool StartArray() { return start(false); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    if (depth_ == 0) {
      if (root_is_object_) dom_.EndObject(forwarded_members_);
    } else if (forwarding()) {
      dom_.EndObject(members);
    }
    if (depth_ == 1) end_member();
    return true;
  }
  bool EndArray(rapidjson::SizeType items) {
    --depth_;
    if (depth_ > 0 && forwarding()) dom_.EndArray(items);
    if (depth_ == 1) end_member();
    return true;
  }

 private:
  // What becomes of the value of the current top-level member.
  enum class Member { kNone, kVariables, kForwarded, kDropped };

  bool forwarding() const { return member_ == Member::kForwarded; }
  // A scalar value directly in the variables object.
  bool at_variable() const { return member_ == Member::kVariables && depth_ == 2 && variables_are_object_; }

  void add_variable(const char* text, rapidjson::SizeType length) {
    // In situ, the text lies in our own buffer.
    char* value = const_cast<char*>(text);
    variables_->add(variable_name_, std::string_view(value, percent_decode_in_place(value, length, PlusMeans::kPlus)));
  }

  bool start(bool object) {
    if (depth_ == 0) {
      root_is_object_ = object;
      if (object) dom_.StartObject();
    } else if (forwarding()) {
      object ? dom_.StartObject() : dom_.StartArray();
    } else if (member_ == Member::kVariables && depth_ == 1) {
      variables_are_object_ = object;
    }
    ++depth_;
    return true;
  }

  // A scalar ends the value of a top-level member when it is that value.
  void end_scalar() {
    if (depth_ == 1) end_member();
  }
  void end_member() {
    if (member_ == Member::kForwarded) ++forwarded_members_;
    member_ = Member::kNone;
  }

  rapidjson::Document& dom_;
  ChannelVariables* variables_;
  size_t depth_ = 0;  // of open objects and arrays
  bool root_is_object_ = false;
  Member member_ = Member::kNone;
  rapidjson::SizeType forwarded_members_ = 0;
  bool has_variables_ = false;
  bool variables_are_object_ = false;
  std::string_view variable_name_;
};

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
  std::string buffer = padded_copy(json);
  InsituJsonStream stream(buffer.data());
  // The DOM holds only the forwarded members (a few KB): a pool on the stack
  // spares the allocator's first 64 KB chunk.
  alignas(std::max_align_t) char pool[8192];
  rapidjson::MemoryPoolAllocator<> allocator(pool, sizeof pool);
  rapidjson::Document doc(&allocator);
  ChannelData data;
  data.variables.reserve(256);
  CdrFilter filter(doc, &data.variables);
  rapidjson::Reader reader;
  // Populate() takes the DOM's root from its stack when the generator returns true.
  auto parse = [&](rapidjson::Document&) {
    reader.Parse<kParseFlags | rapidjson::kParseInsituFlag>(stream, filter);
    return !reader.HasParseError() && filter.root_is_object();
  };
  doc.Populate(parse);
  if (reader.HasParseError()) {
    return refuse("invalid_json", "JSON parse error at offset " + std::to_string(reader.GetErrorOffset()) + ": " +
                                      rapidjson::GetParseError_En(reader.GetParseErrorCode()));
  }
  if (!filter.root_is_object()) return refuse("invalid_json", "the JSON CDR is not a JSON object");

  std::vector<const Value*> callflows;
  for (const auto& m : doc.GetObject()) {
    const std::string_view name = as_view(m.name);
    if (name == "callflow") {
      collect_callflows(m.value, &callflows);
    } else if (name == "switchname" && m.value.IsString()) {
      data.switchname = as_view(m.value);
    } else if (name == "core-uuid" && m.value.IsString()) {
      data.core_uuid = as_view(m.value);
    } else if (name == "channel_data" && m.value.IsObject()) {
      data.direction = string_member(m.value, "direction");
    }
  }
  if (!filter.has_variables()) return refuse("missing_field", "variables is missing");
  if (!filter.variables_are_object()) return refuse("invalid_json", "variables is not a JSON object");
  data.variables.seal();
  read_callflows(callflows, &data);

  return normalized_record(data, options, RecordSource{"json_cdr", "variables."}, uuid_param, json, "json");
}

}  // namespace cdrd
