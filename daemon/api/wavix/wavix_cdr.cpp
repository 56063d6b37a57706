#include "daemon/api/wavix/wavix_cdr.h"

#include <optional>
#include <string>

namespace cdrd {
namespace {

std::optional<std::string_view> disposition(const CallView& call) {
  const auto status = call.billing_status();
  if (status == "answered" || status == "noanswer" || status == "busy" || status == "failed") return status;
  return std::nullopt;
}

}  // namespace

void write_wavix_cdr(JsonWriter& w, const CallRow& row, std::string_view uuid) {
  const CallView call(row);
  const RecordView& root = call.root();
  const bool transit = root.is("direction_class", "transit");

  w.StartObject();
  put_string(w, "date", utc_millis_text(root.start_us()));
  put_string(w, "from", number_digits(root, "caller_e164", "caller_id_number"));
  put_string(w, "to", number_digits(root, "callee_e164", "callee_id_number"));
  put_string(w, "disposition", disposition(call));
  put_integer(w, "duration", call.billing_seconds());
  put_string(w, "destination", root.sub_str("destination", "name"));
  put_string(w, "per_minute", with_decimal_point(root.rating_rate_per_minute("customer")));
  put_string(w, "recording_url", call.first_str("recording_url"));
  put_string(w, "charge", with_decimal_point(root.rating_money("customer", "charge")));
  put_string(w, "sip_trunk", call.first_str("trunk"));
  put_string(w, "forward_fee", transit ? std::nullopt : std::optional<std::string_view>("0.0"));
  put_string(w, "uuid", uuid.empty() ? root.str("call_id") : uuid);
  put_string(w, "parent_uuid", root.str("call_id"));
  put_string(w, "answered_by", call.leg_first_str("answered_by"));
  w.EndObject();
}

}  // namespace cdrd
