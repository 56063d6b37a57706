#include "daemon/api/portsip/portsip_item.h"

#include <algorithm>
#include <initializer_list>
#include <string>

namespace cdrd {
namespace {

bool cause_in(const RecordView& r, std::initializer_list<std::string_view> causes) {
  const auto cause = r.str("hangup_cause");
  return cause && std::find(causes.begin(), causes.end(), *cause) != causes.end();
}

bool status_in(const RecordView& r, std::initializer_list<int64_t> codes) {
  const auto code = sip_status(r);
  return code && std::find(codes.begin(), codes.end(), *code) != codes.end();
}

// What the unanswered call's legs say, the answered/last leg first.
bool either(const CallView& call, bool (*test)(const RecordView&)) {
  return test(call.final_leg()) || test(call.root());
}

bool cancelled(const RecordView& r) { return cause_in(r, {"ORIGINATOR_CANCEL"}) || status_in(r, {487}); }
bool busy(const RecordView& r) {
  return cause_in(r, {"USER_BUSY"}) || r.is("billing_status", "busy") || status_in(r, {486, 600});
}
bool no_answer(const RecordView& r) {
  return cause_in(r, {"NO_ANSWER", "NO_USER_RESPONSE"}) || r.is("billing_status", "noanswer") ||
         status_in(r, {408, 480});
}
bool rejected(const RecordView& r) { return cause_in(r, {"CALL_REJECTED"}) || status_in(r, {603}); }

std::optional<std::string_view> host_of(const RecordView& r, const char* uri_field) {
  const auto uri = r.str(uri_field);
  return uri ? uri_host(*uri) : std::nullopt;
}

std::optional<std::string_view> reroute_reason(const CallView& call) {
  const std::initializer_list<std::string_view> transfers = {"bl_xfer", "att_xfer", "uuid_br", "refer"};
  const RecordView* leg = call.leg();
  if (call.root().transfer_of_kind(transfers) != nullptr || (leg && leg->transfer_of_kind(transfers) != nullptr)) {
    return "TRANSFER";
  }
  if (call.root().transfer_of_kind({"diversion"}) != nullptr ||
      (leg && leg->transfer_of_kind({"diversion"}) != nullptr)) {
    return "DIVERSION";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> portsip_direction(std::string_view direction_class) {
  if (direction_class == "inbound") return "INBOUND_CALL";
  if (direction_class == "outbound") return "OUTBOUND_CALL";
  if (direction_class == "internal") return "INTERNAL_CALL";
  if (direction_class == "transit") return "TRANSIT_CALL";
  return std::nullopt;
}

std::optional<std::string_view> portsip_end_reason(const CallView& call) {
  const RecordView& root = call.root();
  const RecordView* leg = call.leg();
  if (call.answered()) {
    if (root.is("hangup_disposition", "recv_bye")) return "CALLER_DISCONNECTED";
    if ((leg && leg->is("hangup_disposition", "recv_bye")) || root.is("hangup_disposition", "send_bye")) {
      return "CALLEE_DISCONNECTED";
    }
    return std::nullopt;
  }
  if (root.is("hangup_disposition", "recv_cancel") || either(call, cancelled)) return "CANCELLED";
  if (either(call, busy)) return "BUSY";
  if (either(call, no_answer)) return "NO_ANSWER";
  if (either(call, rejected)) return "REJECTED";
  return "FAILED";
}

void write_portsip_item(JsonWriter& w, const CallRow& row) {
  const CallView call(row);
  const RecordView& root = call.root();
  const RecordView& last = call.final_leg();
  const auto direction_class = root.str("direction_class");
  const bool goes_out = direction_class == "outbound" || direction_class == "transit";
  const bool comes_in = direction_class == "inbound" || direction_class == "transit";
  const auto outbound_caller_id = goes_out ? last.str("caller_id_number") : std::nullopt;
  const auto destination = dialed_number(root);
  const auto answered_at =
      call.leg() && call.leg()->answered() ? call.leg()->time_us("answered_at") : root.time_us("answered_at");
  auto rang_at = root.time_us("rang_at");
  if (!rang_at) rang_at = last.time_us("rang_at");
  auto billed_account = root.str("accountcode");
  if (!billed_account) billed_account = root.str("account_id");
  auto status = sip_status(last);
  if (!status) status = sip_status(root);

  w.StartObject();
  put_string(w, "id", root.str("id"));
  put_string(w, "caller", root.str("caller_id_number"));
  put_string(w, "caller_domain", host_of(root, "from_uri"));
  put_string(w, "caller_display_name", root.str("caller_id_name"));
  put_string(w, "callee", call.leg_first_str("callee_id_number"));
  put_string(w, "callee_domain", host_of(root, "to_uri"));
  put_string(w, "callee_display_name", call.leg_first_str("callee_id_name"));
  put_string(w, "started_at", utc_seconds_text(root.start_us()));
  put_string(w, "rang_at", utc_seconds_text(rang_at));
  put_string(w, "answered_at", utc_seconds_text(answered_at));
  put_string(w, "ended_at", utc_seconds_text(call.latest_time_us("ended_at")));
  put_string(w, "call_id", root.str("call_id"));
  put_string(w, "direction", direction_class ? portsip_direction(*direction_class) : std::nullopt);
  put_string(w, "end_reason", portsip_end_reason(call));
  put_string(w, "reroute_reason", reroute_reason(call));
  put_integer(w, "status_code", status);
  put_string(w, "destination", destination);
  put_string(w, "outbound_caller_id", outbound_caller_id);
  put_string(w, "did_cid", comes_in ? destination : outbound_caller_id);
  put_string(w, "trunk", call.first_str("trunk"));
  put_integer(w, "duration", call.billing_seconds());
  put_decimal_number(w, "cost", root.rating_money("customer", "charge"));
  put_string(w, "billed_account", billed_account);
  put_string(w, "service_number", std::nullopt);
  put_string(w, "user_data", std::nullopt);
  w.EndObject();
}

}  // namespace cdrd
