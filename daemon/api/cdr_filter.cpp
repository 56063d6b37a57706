#include "daemon/api/cdr_filter.h"

#include <cstring>

namespace cdrd {
namespace {

using Kind = CdrFilter::Kind;
using Type = CdrFilter::Type;

struct FilterField {
  const char* field;  // after "filter_"
  Kind kind;
  Type type;
  const char* what;  // column or record member
};

// Typed columns first: they are what the table indexes and stores typed.
// Everything else is a string member of the canonical record
// (ARCHITECTURE.md). account_id is not here: the account is the one in the
// path, which the credential was checked against.
const FilterField kFields[] = {
    {"id", Kind::kColumn, Type::kText, "id"},
    {"call_id", Kind::kColumn, Type::kText, "call_id"},
    {"call_direction", Kind::kColumn, Type::kText, "call_direction"},
    {"hangup_cause", Kind::kColumn, Type::kText, "hangup_cause"},
    {"hangup_code", Kind::kColumn, Type::kText, "hangup_code"},
    {"billing_status", Kind::kColumn, Type::kText, "billing_status"},
    {"caller_id_number", Kind::kColumn, Type::kText, "caller_id_number"},
    {"callee_id_number", Kind::kColumn, Type::kText, "callee_id_number"},
    {"from_uri", Kind::kColumn, Type::kText, "from_uri"},
    {"to_uri", Kind::kColumn, Type::kText, "to_uri"},
    {"other_leg_call_id", Kind::kColumn, Type::kText, "other_leg_call_id"},
    {"interaction_id", Kind::kColumn, Type::kText, "interaction_id"},
    {"media_server", Kind::kColumn, Type::kText, "media_server"},
    {"leg", Kind::kColumn, Type::kText, "leg"},
    {"source", Kind::kColumn, Type::kText, "source"},
    {"timestamp", Kind::kColumn, Type::kInteger, "gregorian_ts"},
    {"duration_seconds", Kind::kColumn, Type::kInteger, "duration_seconds"},
    {"billing_seconds", Kind::kColumn, Type::kInteger, "billing_seconds"},
    {"ringing_seconds", Kind::kColumn, Type::kInteger, "ringing_seconds"},
    {"imported", Kind::kColumn, Type::kBoolean, "imported"},
    {"is_loopback", Kind::kColumn, Type::kBoolean, "is_loopback"},
    // Issue 12's billing columns (migration 006).
    {"sip_call_id", Kind::kColumn, Type::kText, "sip_call_id"},
    {"trunk", Kind::kColumn, Type::kText, "trunk"},
    {"direction_class", Kind::kColumn, Type::kText, "direction_class"},
    {"caller_e164", Kind::kColumn, Type::kText, "caller_e164"},
    {"callee_e164", Kind::kColumn, Type::kText, "callee_e164"},
    {"destination_country", Kind::kColumn, Type::kText, "destination_country"},
    {"customer_currency", Kind::kColumn, Type::kText, "customer_currency"},
    {"vendor_currency", Kind::kColumn, Type::kText, "vendor_currency"},
    {"caller_id_name", Kind::kRecordMember, Type::kText, "caller_id_name"},
    {"callee_id_name", Kind::kRecordMember, Type::kText, "callee_id_name"},
    {"disposition", Kind::kRecordMember, Type::kText, "disposition"},
    {"sip_term_status", Kind::kRecordMember, Type::kText, "sip_term_status"},
    {"from", Kind::kRecordMember, Type::kText, "from"},
    {"to", Kind::kRecordMember, Type::kText, "to"},
    {"request", Kind::kRecordMember, Type::kText, "request"},
    {"from_tag", Kind::kRecordMember, Type::kText, "from_tag"},
    {"to_tag", Kind::kRecordMember, Type::kText, "to_tag"},
    {"user_agent", Kind::kRecordMember, Type::kText, "user_agent"},
    {"local_sdp", Kind::kRecordMember, Type::kText, "local_sdp"},
    {"remote_sdp", Kind::kRecordMember, Type::kText, "remote_sdp"},
    {"digits_dialed", Kind::kRecordMember, Type::kText, "digits_dialed"},
    {"presence_id", Kind::kRecordMember, Type::kText, "presence_id"},
    {"node", Kind::kRecordMember, Type::kText, "node"},
    {"app_name", Kind::kRecordMember, Type::kText, "app_name"},
    {"app_version", Kind::kRecordMember, Type::kText, "app_version"},
    {"other_leg_caller_id_name", Kind::kRecordMember, Type::kText, "other_leg_caller_id_name"},
    {"other_leg_caller_id_number", Kind::kRecordMember, Type::kText, "other_leg_caller_id_number"},
    {"other_leg_destination_number", Kind::kRecordMember, Type::kText, "other_leg_destination_number"},
    {"other_leg_direction", Kind::kRecordMember, Type::kText, "other_leg_direction"},
    {"fax_success", Kind::kRecordMember, Type::kText, "fax_success"},
    {"fax_result_code", Kind::kRecordMember, Type::kText, "fax_result_code"},
    {"fax_result_text", Kind::kRecordMember, Type::kText, "fax_result_text"},
    {"fax_ecm_used", Kind::kRecordMember, Type::kText, "fax_ecm_used"},
    {"fax_transferred_pages", Kind::kRecordMember, Type::kText, "fax_transferred_pages"},
    {"fax_total_pages", Kind::kRecordMember, Type::kText, "fax_total_pages"},
    {"fax_bad_rows", Kind::kRecordMember, Type::kText, "fax_bad_rows"},
    {"fax_transfer_rate", Kind::kRecordMember, Type::kText, "fax_transfer_rate"},
    {"started_at", Kind::kRecordMember, Type::kText, "started_at"},
    {"answered_at", Kind::kRecordMember, Type::kText, "answered_at"},
    {"ended_at", Kind::kRecordMember, Type::kText, "ended_at"},
    {"media_server_ip", Kind::kRecordMember, Type::kText, "media_server_ip"},
    {"sip_network_ip", Kind::kRecordMember, Type::kText, "sip_network_ip"},
    {"local_rtp_ip", Kind::kRecordMember, Type::kText, "local_rtp_ip"},
    {"remote_rtp_ip", Kind::kRecordMember, Type::kText, "remote_rtp_ip"},
    {"rang_at", Kind::kRecordMember, Type::kText, "rang_at"},
    {"hangup_disposition", Kind::kRecordMember, Type::kText, "hangup_disposition"},
    {"hangup_cause_q850", Kind::kRecordMember, Type::kText, "hangup_cause_q850"},
    {"sip_term_phrase", Kind::kRecordMember, Type::kText, "sip_term_phrase"},
    {"sip_network_port", Kind::kRecordMember, Type::kText, "sip_network_port"},
    {"sip_transport", Kind::kRecordMember, Type::kText, "sip_transport"},
    {"accountcode", Kind::kRecordMember, Type::kText, "accountcode"},
    {"recording_url", Kind::kRecordMember, Type::kText, "recording_url"},
    {"answered_by", Kind::kRecordMember, Type::kText, "answered_by"},
};

// The objects of strings whose keys can be filtered: filter_<object>.<key>.
const char* const kObjects[] = {"custom_channel_vars", "custom_sip_headers", "custom_application_vars"};
constexpr size_t kMaxKeyLength = 128;

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (char c : key) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Which field the parameter names; false when none.
bool find_field(const std::string& field, CdrFilter* out) {
  for (const FilterField& f : kFields) {
    if (field == f.field) {
      out->kind = f.kind;
      out->type = f.type;
      out->what = f.what;
      return true;
    }
  }
  for (const char* object : kObjects) {
    const size_t n = std::strlen(object);
    if (field.size() > n && field.compare(0, n, object) == 0 && field[n] == '.') {
      out->kind = Kind::kObjectKey;
      out->type = Type::kText;
      out->what = object;
      out->key = field.substr(n + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

bool parse_cdr_filter(const std::string& parameter, const std::string& value, CdrFilter* out, std::string* error) {
  static const std::string kPrefix = "filter_";
  auto bad = [&](const std::string& why) {
    *error = parameter + ": " + why;
    return false;
  };
  if (parameter.compare(0, kPrefix.size(), kPrefix) != 0) return bad("not a filter parameter");
  *out = CdrFilter{};
  out->parameter = parameter;
  if (!find_field(parameter.substr(kPrefix.size()), out)) {
    if (parameter == "filter_account_id") return bad("not a filter: the account is the one in the path");
    return bad("unknown field; filter on a top-level field of the CDR or on custom_channel_vars.<name>");
  }
  if (out->kind == Kind::kObjectKey && !valid_key(out->key)) {
    return bad("the key after '" + out->what + ".' must be 1 to " + std::to_string(kMaxKeyLength) +
               " characters of A-Z a-z 0-9 _ . -");
  }
  if (value.empty()) return bad("empty value");
  std::string v = value;
  if (v.back() == '*') {
    if (out->type != Type::kText) return bad("a prefix ('*') applies only to text fields");
    v.pop_back();
    if (v.empty()) return bad("'*' alone matches everything; give a prefix before it or leave the filter out");
    out->prefix = true;
  }
  if (out->type == Type::kInteger) {
    if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      return bad("expected a non-negative integer, got '" + value + "'");
    }
  } else if (out->type == Type::kBoolean && v != "true" && v != "false") {
    return bad("expected true or false, got '" + value + "'");
  }
  out->value = v;
  return true;
}

void append_filter_sql(const std::vector<CdrFilter>& filters, const std::string& alias, std::string* sql,
                       std::vector<std::string>* params) {
  const auto placeholder = [params](const std::string& value) {
    params->push_back(value);
    return "$" + std::to_string(params->size());
  };
  for (const CdrFilter& f : filters) {
    std::string expr;
    switch (f.kind) {
      case Kind::kColumn:
        expr = alias + "." + f.what;
        break;
      case Kind::kRecordMember:
        expr = "(" + alias + ".record->>'" + f.what + "')";
        break;
      case Kind::kObjectKey:
        expr = "(" + alias + ".record->'" + f.what + "'->>" + placeholder(f.key) + "::text)";
        break;
    }
    const std::string value = placeholder(f.value);
    switch (f.type) {
      case Type::kText:
        *sql += f.prefix ? " AND starts_with(" + expr + ", " + value + ")" : " AND " + expr + " = " + value;
        break;
      case Type::kInteger:
        *sql += " AND " + expr + " = " + value + "::bigint";
        break;
      case Type::kBoolean:
        *sql += " AND " + expr + " = " + value + "::boolean";
        break;
    }
  }
}

}  // namespace cdrd
