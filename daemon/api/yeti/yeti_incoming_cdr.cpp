#include "daemon/api/yeti/yeti_incoming_cdr.h"

#include <string>

namespace cdrd {
namespace {

std::optional<std::string_view> local_tag(const RecordView& leg) {
  const auto direction = leg.str("call_direction");
  const bool outbound = direction ? *direction == "outbound" : leg.is("leg", "B");
  return leg.str(outbound ? "from_tag" : "to_tag");
}

std::optional<std::string_view> diversion_out(const RecordView& leg) {
  const rapidjson::Value* diversion = leg.transfer_of_kind({"diversion"});
  if (diversion == nullptr) return std::nullopt;
  const auto destination = diversion->FindMember("destination");
  if (destination == diversion->MemberEnd() || !destination->value.IsString()) return std::nullopt;
  return std::string_view(destination->value.GetString(), destination->value.GetStringLength());
}

void write_attributes(JsonWriter& w, const RecordView& attempt, const RecordView& root) {
  const auto transport = attempt.str("sip_transport");
  w.StartObject();
  put_string(w, "time-start", utc_millis_text(attempt.start_us()));
  put_string(w, "time-connect", utc_millis_text(attempt.time_us("answered_at")));
  put_string(w, "time-end", utc_millis_text(attempt.time_us("ended_at")));
  put_integer(w, "duration", attempt.integer("billing_seconds").value_or(0));
  w.Key("success");
  w.Bool(attempt.answered());
  put_integer(w, "dialpeer-initial-interval", attempt.rating_integer("vendor", "initial_interval"));
  put_string(w, "dialpeer-initial-rate", with_decimal_point(attempt.rating_money("vendor", "initial_rate")));
  put_integer(w, "dialpeer-next-interval", attempt.rating_integer("vendor", "next_interval"));
  put_string(w, "dialpeer-next-rate", with_decimal_point(attempt.rating_money("vendor", "next_rate")));
  put_string(w, "dialpeer-fee", with_decimal_point(attempt.rating_money("vendor", "connect_fee")));
  put_string(w, "dialpeer-prefix", attempt.rating_str("vendor", "prefix"));
  put_string(w, "vendor-price", with_decimal_point(attempt.rating_money("vendor", "charge")));
  put_integer(w, "vendor-duration", attempt.rating_integer("vendor", "billed_seconds"));
  put_string(w, "src-name-out", attempt.str("caller_id_name"));
  put_string(w, "src-prefix-out", attempt.str("caller_id_number"));
  put_string(w, "dst-prefix-out", attempt.str("callee_id_number"));
  put_string(w, "src-prefix-routing", number_digits(root, "caller_e164", "caller_id_number"));
  put_string(w, "dst-prefix-routing", number_digits(root, "callee_e164", "callee_id_number"));
  put_string(w, "diversion-out", diversion_out(attempt));
  put_string(w, "local-tag", local_tag(attempt));
  put_integer(w, "legb-disconnect-code", sip_status(attempt));
  put_string(w, "legb-disconnect-reason", attempt.str("sip_term_phrase"));
  put_string(w, "sign-term-ip", attempt.str("sip_network_ip"));
  put_integer(w, "sign-term-port", attempt.integer("sip_network_port"));
  put_integer(w, "sign-term-transport-protocol-id", transport ? yeti_transport_protocol_id(*transport) : std::nullopt);
  put_string(w, "term-call-id", attempt.str("sip_call_id"));
  put_string(w, "legb-user-agent", attempt.str("user_agent"));
  w.Key("rec");
  w.Bool(attempt.answered() && (attempt.str("recording_url") || root.str("recording_url")));
  w.EndObject();
}

}  // namespace

std::optional<int64_t> yeti_transport_protocol_id(std::string_view sip_transport) {
  if (sip_transport == "udp") return 1;
  if (sip_transport == "tcp") return 2;
  if (sip_transport == "tls") return 3;
  if (sip_transport == "ws") return 5;
  return std::nullopt;
}

void write_yeti_incoming_cdr(JsonWriter& w, const AttemptRow& row, std::string_view collection_url) {
  const RecordView attempt(row.attempt, "AttemptRow.attempt");
  const RecordView root(row.root, "AttemptRow.root");
  if (!collection_url.empty() && collection_url.back() == '/') collection_url.remove_suffix(1);
  const std::string id = std::to_string(row.seq);
  const std::string self = std::string(collection_url) + "/" + id;

  w.StartObject();
  put_string(w, "id", id);
  put_string(w, "type", "incoming-cdrs");
  w.Key("links");
  w.StartObject();
  put_string(w, "self", self);
  w.EndObject();
  w.Key("attributes");
  write_attributes(w, attempt, root);
  w.Key("relationships");
  w.StartObject();
  w.Key("account");
  w.StartObject();
  w.Key("links");
  w.StartObject();
  put_string(w, "self", self + "/relationships/account");
  put_string(w, "related", self + "/account");
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
}

}  // namespace cdrd
