#include "daemon/db/cdr_row.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <limits>

#include "daemon/rating/rating_time.h"

namespace cdrd {
namespace {

// Seconds from 0000-01-01 (Gregorian, as Kazoo counts) to the Unix epoch.
constexpr int64_t kGregorianToUnixSeconds = 62167219200;
// 0001-01-01 00:00:00 and 9999-12-31 23:59:59 UTC in Unix seconds: the
// years PostgreSQL and our literal format both handle without an era suffix.
constexpr int64_t kMinUnixSeconds = -62135596800;
constexpr int64_t kMaxUnixSeconds = 253402300799;

using JsonObject = rapidjson::Value::ConstObject;

// Each getter returns false (with *error naming the field) only when the
// field is present with the wrong JSON type; absent fields leave *out alone.
bool get_string(const JsonObject& obj, const char* name, std::optional<std::string>* out, std::string* error) {
  const auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return true;
  if (!it->value.IsString()) {
    *error = std::string("field '") + name + "' is not a string";
    return false;
  }
  out->emplace(it->value.GetString(), it->value.GetStringLength());
  return true;
}

bool get_int64(const JsonObject& obj, const char* name, std::optional<int64_t>* out, std::string* error) {
  const auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return true;
  if (!it->value.IsInt64()) {
    *error = std::string("field '") + name + "' is not a 64-bit integer";
    return false;
  }
  *out = it->value.GetInt64();
  return true;
}

bool get_bool(const JsonObject& obj, const char* name, bool* out, std::string* error) {
  const auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return true;
  if (!it->value.IsBool()) {
    *error = std::string("field '") + name + "' is not a boolean";
    return false;
  }
  *out = it->value.GetBool();
  return true;
}

bool require_string(const JsonObject& obj, const char* name, std::string* out, std::string* error) {
  std::optional<std::string> value;
  if (!get_string(obj, name, &value, error)) return false;
  if (!value) {
    *error = std::string("required field '") + name + "' is missing";
    return false;
  }
  *out = std::move(*value);
  return true;
}

// The integer columns (duration_seconds, ...): PostgreSQL's integer.
bool get_seconds(const JsonObject& obj, const char* name, int64_t* out, std::string* error) {
  std::optional<int64_t> value;
  if (!get_int64(obj, name, &value, error)) return false;
  if (value && (*value < std::numeric_limits<int32_t>::min() || *value > std::numeric_limits<int32_t>::max())) {
    *error = std::string("field '") + name + "' (" + std::to_string(*value) + ") is out of range for an integer column";
    return false;
  }
  if (value) *out = *value;
  return true;
}

// A time column's value: the record's ISO-8601 text as Unix microseconds.
// Every normalizer and the import write "YYYY-MM-DDTHH:MM:SS[.ffffff]Z";
// anything else is refused here, naming the field, as PostgreSQL would
// refuse it in the column.
bool column_time(const std::optional<std::string>& text, const char* name, std::optional<int64_t>* out,
                 std::string* error) {
  if (!text) return true;
  const auto us = parse_iso_time_us(*text);
  if (!us || *us < kMinUnixSeconds * 1000000 || *us > kMaxUnixSeconds * 1000000) {
    *error = std::string("field '") + name + "' (" + *text + ") is not an ISO-8601 time";
    return false;
  }
  *out = us;
  return true;
}

void optional_iso_micros(const JsonObject& obj, const char* name, int64_t* out) {
  const auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return;
  // The record's own format ("2018-01-11T10:25:44.534355Z") and the other
  // ISO-8601 forms the rate decks accept.
  if (const auto value = parse_iso_time_us(it->value.GetString())) *out = *value;
}

// The uuids the leg names, for call assembly. Wrong types are ignored: these
// fields only link legs, they never refuse a CDR.
void related_ids(const JsonObject& obj, std::vector<std::string>* out) {
  const auto list = obj.FindMember("related_call_ids");
  if (list != obj.MemberEnd() && list->value.IsArray()) {
    for (const auto& id : list->value.GetArray()) {
      if (id.IsString()) out->emplace_back(id.GetString(), id.GetStringLength());
    }
  }
  for (const char* name : {"other_leg_call_id", "other_loopback_leg_uuid"}) {
    const auto it = obj.FindMember(name);
    if (it != obj.MemberEnd() && it->value.IsString())
      out->emplace_back(it->value.GetString(), it->value.GetStringLength());
  }
}

// Kazoo's rating channel variables, as the record keeps them (custom_channel_vars, Kazoo's key spelling).
void kazoo_rate_vars(const JsonObject& obj, std::vector<std::pair<std::string, std::string>>* out) {
  const auto ccv = obj.FindMember("custom_channel_vars");
  if (ccv == obj.MemberEnd() || !ccv->value.IsObject()) return;
  for (const char* name :
       {"rate", "rate_increment", "rate_minimum", "surcharge", "rate_nocharge_time", "discount_percentage"}) {
    const auto it = ccv->value.FindMember(name);
    if (it != ccv->value.MemberEnd() && it->value.IsString()) out->emplace_back(name, it->value.GetString());
  }
}

}  // namespace

bool format_utc_micros(int64_t unix_micros, std::string* out) {
  // Floor division: -1 µs is 23:59:59.999999 of the day before, not 00:00:00.
  int64_t seconds = unix_micros / 1000000;
  int64_t micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    seconds -= 1;
  }
  if (seconds < kMinUnixSeconds || seconds > kMaxUnixSeconds) return false;
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return false;
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (micros != 0) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06" PRId64, micros);
  }
  out->assign(buf, static_cast<size_t>(n));
  out->append("+00");
  return true;
}

namespace {

// Everything but the three strings, which the callers copy or move in.
bool extract_typed_columns(const CdrRecord& record, CdrRow* row, std::string* error) {
  rapidjson::Document doc;
  doc.Parse(record.json.data(), record.json.size());
  if (doc.HasParseError()) {
    *error = std::string("record is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
             " at offset " + std::to_string(doc.GetErrorOffset());
    return false;
  }
  if (!doc.IsObject()) {
    *error = "record is not a JSON object";
    return false;
  }
  const JsonObject obj = static_cast<const rapidjson::Document&>(doc).GetObject();

  CdrRow r;
  if (!require_string(obj, "id", &r.id, error)) return false;
  std::optional<int64_t> timestamp;
  if (!get_int64(obj, "timestamp", &timestamp, error)) return false;
  if (!timestamp) {
    *error = "required field 'timestamp' is missing";
    return false;
  }
  // Range-check in seconds first: multiplying an absurd value by 1e6 would overflow.
  if (*timestamp < kMinUnixSeconds + kGregorianToUnixSeconds ||
      *timestamp > kMaxUnixSeconds + kGregorianToUnixSeconds ||
      !format_utc_micros((*timestamp - kGregorianToUnixSeconds) * 1000000, &r.ts)) {
    *error = "field 'timestamp' (" + std::to_string(*timestamp) + ") is outside the years 1..9999";
    return false;
  }
  r.gregorian_ts = *timestamp;
  r.ts_us = (*timestamp - kGregorianToUnixSeconds) * 1000000;
  if (!require_string(obj, "account_id", &r.account_id, error)) return false;
  if (!require_string(obj, "call_id", &r.call_id, error)) return false;
  if (!require_string(obj, "source", &r.source, error)) return false;

  std::optional<int64_t> created_micros;
  if (!get_int64(obj, "channel_created_time", &created_micros, error)) return false;
  if (created_micros) {
    std::string started;
    if (!format_utc_micros(*created_micros, &started)) {
      *error = "field 'channel_created_time' (" + std::to_string(*created_micros) + ") is outside the years 1..9999";
      return false;
    }
    r.started_at = std::move(started);
    r.started_at_us = *created_micros;
  } else if (!get_string(obj, "started_at", &r.started_at, error) ||
             !column_time(r.started_at, "started_at", &r.started_at_us, error)) {
    return false;
  }
  if (!get_string(obj, "answered_at", &r.answered_at, error) ||
      !column_time(r.answered_at, "answered_at", &r.answered_at_us, error)) {
    return false;
  }

  if (!get_seconds(obj, "duration_seconds", &r.duration_seconds, error) ||
      !get_seconds(obj, "billing_seconds", &r.billing_seconds, error) ||
      !get_seconds(obj, "ringing_seconds", &r.ringing_seconds, error)) {
    return false;
  }

  const std::pair<const char*, std::optional<std::string>*> text_columns[] = {
      {"call_direction", &r.call_direction},
      {"hangup_cause", &r.hangup_cause},
      {"hangup_code", &r.hangup_code},
      {"billing_status", &r.billing_status},
      {"caller_id_number", &r.caller_id_number},
      {"callee_id_number", &r.callee_id_number},
      {"from_uri", &r.from_uri},
      {"to_uri", &r.to_uri},
      {"other_leg_call_id", &r.other_leg_call_id},
      {"interaction_id", &r.interaction_id},
      {"media_server", &r.media_server},
      {"leg", &r.leg},
  };
  for (const auto& [name, out] : text_columns) {
    if (!get_string(obj, name, out, error)) return false;
  }
  const std::pair<const char*, std::optional<std::string>*> billing_columns[] = {
      {"sip_call_id", &r.sip_call_id},           {"trunk", &r.trunk},
      {"caller_e164", &r.caller_e164},           {"callee_e164", &r.callee_e164},
      {"interaction_id", &r.leg_interaction_id},
  };
  for (const auto& [name, out] : billing_columns) {
    if (!get_string(obj, name, out, error)) return false;
  }
  const auto destination = obj.FindMember("destination");
  if (destination != obj.MemberEnd()) {
    if (!destination->value.IsObject()) {
      *error = "field 'destination' is not an object";
      return false;
    }
    const JsonObject d = destination->value.GetObject();
    if (!get_string(d, "country", &r.destination_country, error)) {
      *error = "destination: " + *error;
      return false;
    }
    std::optional<std::string> type, name;
    if (!get_string(d, "type", &type, error) || !get_string(d, "name", &name, error)) {
      *error = "destination: " + *error;
      return false;
    }
    r.destination_type = type.value_or("");
    r.destination_name = name.value_or("");
  }
  related_ids(obj, &r.related_call_ids);
  kazoo_rate_vars(obj, &r.kazoo_rate_vars);
  if (created_micros) r.started_us = *created_micros;
  optional_iso_micros(obj, "answered_at", &r.answered_us);
  optional_iso_micros(obj, "ended_at", &r.ended_us);
  if (!get_bool(obj, "imported", &r.imported, error)) return false;
  if (!get_bool(obj, "is_loopback", &r.is_loopback, error)) return false;

  *row = std::move(r);
  return true;
}

}  // namespace

bool extract_columns(const CdrRecord& record, CdrRow* row, std::string* error) {
  if (!extract_typed_columns(record, row, error)) return false;
  row->record = record.json;
  if (!record.raw.empty()) row->raw = record.raw;
  if (!record.raw_format.empty()) row->raw_format = record.raw_format;
  return true;
}

bool take_columns(CdrRecord* record, CdrRow* row, std::string* error) {
  if (!extract_typed_columns(*record, row, error)) return false;
  row->record = std::move(record->json);
  if (!record->raw.empty()) row->raw = std::move(record->raw);
  if (!record->raw_format.empty()) row->raw_format = std::move(record->raw_format);
  return true;
}

}  // namespace cdrd
