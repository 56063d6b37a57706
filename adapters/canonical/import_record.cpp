// import_record(): one canonical record of POST /ingest/cdr, validated and
// completed for the spool (see canonical_import.h for the rules).
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <set>
#include <string_view>

#include "adapters/canonical/canonical_import.h"
#include "adapters/freeswitch/leg_details.h"

namespace cdrd {
namespace {

constexpr int64_t kGregorianToUnix = 62167219200;       // Gregorian seconds of 1970-01-01T00:00:00Z
constexpr int64_t kMaxUnixSeconds = 253402300799;       // 9999-12-31T23:59:59Z
constexpr int64_t kMaxUnixMicros = 253402300799999999;  // the same, in µs
// cdrs' *_seconds columns are PostgreSQL integers.
constexpr int64_t kMaxSeconds = std::numeric_limits<int32_t>::max();

enum class FieldType {
  kString,
  kInteger,
  kSeconds,
  kPort,
  kObjectOfStrings,
  kBoolean,
  kIsoTime,
  kListOfStrings,
  kListOfObjectsOfStrings
};

struct KnownField {
  const char* name;
  FieldType type;
};

// The canonical record's fields and their JSON types (ARCHITECTURE.md,
// "Canonical record"), except `source` and `imported`, which an import sets.
constexpr KnownField kKnownFields[] = {
    {"id", FieldType::kString},
    {"call_id", FieldType::kString},
    {"account_id", FieldType::kString},
    {"timestamp", FieldType::kInteger},
    {"channel_created_time", FieldType::kInteger},
    {"duration_seconds", FieldType::kSeconds},
    {"billing_seconds", FieldType::kSeconds},
    {"ringing_seconds", FieldType::kSeconds},
    {"call_direction", FieldType::kString},
    {"caller_id_name", FieldType::kString},
    {"caller_id_number", FieldType::kString},
    {"callee_id_name", FieldType::kString},
    {"callee_id_number", FieldType::kString},
    {"hangup_cause", FieldType::kString},
    {"hangup_code", FieldType::kString},
    {"disposition", FieldType::kString},
    {"other_leg_call_id", FieldType::kString},
    {"interaction_id", FieldType::kString},
    {"from", FieldType::kString},
    {"to", FieldType::kString},
    {"request", FieldType::kString},
    {"from_uri", FieldType::kString},
    {"to_uri", FieldType::kString},
    {"from_tag", FieldType::kString},
    {"to_tag", FieldType::kString},
    {"user_agent", FieldType::kString},
    {"local_sdp", FieldType::kString},
    {"remote_sdp", FieldType::kString},
    {"digits_dialed", FieldType::kString},
    {"media_server", FieldType::kString},
    {"node", FieldType::kString},
    {"presence_id", FieldType::kString},
    {"app_name", FieldType::kString},
    {"app_version", FieldType::kString},
    {"other_leg_caller_id_name", FieldType::kString},
    {"other_leg_caller_id_number", FieldType::kString},
    {"other_leg_destination_number", FieldType::kString},
    {"other_leg_direction", FieldType::kString},
    {"fax_success", FieldType::kString},
    {"fax_result_code", FieldType::kString},
    {"fax_result_text", FieldType::kString},
    {"fax_ecm_used", FieldType::kString},
    {"fax_transferred_pages", FieldType::kString},
    {"fax_total_pages", FieldType::kString},
    {"fax_bad_rows", FieldType::kString},
    {"fax_transfer_rate", FieldType::kString},
    {"custom_channel_vars", FieldType::kObjectOfStrings},
    {"custom_sip_headers", FieldType::kObjectOfStrings},
    {"custom_application_vars", FieldType::kObjectOfStrings},
    {"started_at", FieldType::kIsoTime},
    {"answered_at", FieldType::kIsoTime},
    {"ended_at", FieldType::kIsoTime},
    {"billing_status", FieldType::kString},
    {"leg", FieldType::kString},
    {"sip_term_status", FieldType::kString},
    {"is_loopback", FieldType::kBoolean},
    // Derived from the SIP and SDP data (the CSV export's last columns).
    {"media_server_ip", FieldType::kString},
    {"sip_network_ip", FieldType::kString},
    {"local_rtp_ip", FieldType::kString},
    {"remote_rtp_ip", FieldType::kString},
    // Billing details (issue 12).
    {"rang_at", FieldType::kIsoTime},
    {"sip_call_id", FieldType::kString},
    {"hangup_disposition", FieldType::kString},
    {"hangup_cause_q850", FieldType::kInteger},
    {"sip_term_phrase", FieldType::kString},
    {"sip_network_port", FieldType::kPort},
    {"sip_transport", FieldType::kString},
    {"accountcode", FieldType::kString},
    {"trunk", FieldType::kString},
    {"recording_url", FieldType::kString},
    {"answered_by", FieldType::kString},
    {"transfer", FieldType::kListOfObjectsOfStrings},
    {"caller_e164", FieldType::kString},
    {"callee_e164", FieldType::kString},
    {"destination", FieldType::kObjectOfStrings},
    {"related_call_ids", FieldType::kListOfStrings},
};

// The objects whose keys take Kazoo's spelling (kazoo_key).
constexpr const char* kCustomObjects[] = {"custom_channel_vars", "custom_sip_headers", "custom_application_vars"};

const KnownField* known_field(std::string_view name) {
  for (const KnownField& f : kKnownFields) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

struct RowError {
  std::string code;
  std::string message;
};

bool fail(RowError* e, const char* code, std::string message) {
  e->code = code;
  e->message = std::move(message);
  return false;
}

const char* json_type_name(const rapidjson::Value& v) {
  if (v.IsString()) return "a string";
  if (v.IsBool()) return "a boolean";
  if (v.IsInt64()) return "an integer";
  if (v.IsNumber()) return "a number that is not a 64-bit integer";
  if (v.IsObject()) return "an object";
  if (v.IsArray()) return "an array";
  return "null";
}

int digits(std::string_view s, size_t from, size_t n) {
  int v = 0;
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z", a real date: what the normalizer writes and
// what PostgreSQL's timestamptz (the answered_at/started_at columns) takes.
bool is_iso_utc(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return false;
  const int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  const int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  size_t i = 19;
  if (s[i] == '.') {
    const size_t first = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == first || i - first > 6) return false;
  }
  return i + 1 == s.size() && s[i] == 'Z';
}

// YYYYMM (as a number) of Unix seconds, UTC.
int month_of_unix(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return (tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

bool check_type(const KnownField& f, const rapidjson::Value& v, RowError* e) {
  const std::string name = f.name;
  switch (f.type) {
    case FieldType::kString:
      if (!v.IsString()) return fail(e, "invalid_value", name + ": expected a string, got " + json_type_name(v));
      return true;
    case FieldType::kBoolean:
      if (!v.IsBool()) return fail(e, "invalid_value", name + ": expected a boolean, got " + json_type_name(v));
      return true;
    case FieldType::kIsoTime:
      if (!v.IsString() || !is_iso_utc(v.GetString())) {
        return fail(e, "invalid_value",
                    name + ": expected an ISO-8601 UTC time such as 2018-01-11T10:25:44.534355Z, got " +
                        (v.IsString() ? "\"" + std::string(v.GetString(), v.GetStringLength()) + "\""
                                      : std::string(json_type_name(v))));
      }
      return true;
    case FieldType::kObjectOfStrings:
      if (!v.IsObject()) return fail(e, "invalid_value", name + ": expected an object, got " + json_type_name(v));
      for (const auto& m : v.GetObject()) {
        if (!m.value.IsString()) {
          return fail(e, "invalid_value",
                      name + "." + m.name.GetString() + ": expected a string, got " + json_type_name(m.value));
        }
      }
      return true;
    case FieldType::kSeconds:
      if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > kMaxSeconds) {
        return fail(e, "invalid_value",
                    name + ": expected an integer from 0 to " + std::to_string(kMaxSeconds) + ", got " +
                        (v.IsInt64() ? std::to_string(v.GetInt64()) : std::string(json_type_name(v))));
      }
      return true;
    case FieldType::kInteger:
      if (!v.IsInt64()) return fail(e, "invalid_value", name + ": expected an integer, got " + json_type_name(v));
      return true;
    case FieldType::kPort:
      if (!v.IsInt64() || v.GetInt64() < 1 || v.GetInt64() > 65535) {
        return fail(e, "invalid_value",
                    name + ": expected an integer from 1 to 65535, got " +
                        (v.IsInt64() ? std::to_string(v.GetInt64()) : std::string(json_type_name(v))));
      }
      return true;
    case FieldType::kListOfStrings:
      if (!v.IsArray()) return fail(e, "invalid_value", name + ": expected a list, got " + json_type_name(v));
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        if (!v[i].IsString()) {
          return fail(e, "invalid_value",
                      name + "[" + std::to_string(i) + "]: expected a string, got " + json_type_name(v[i]));
        }
      }
      return true;
    case FieldType::kListOfObjectsOfStrings:
      if (!v.IsArray()) return fail(e, "invalid_value", name + ": expected a list, got " + json_type_name(v));
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        const std::string item = name + "[" + std::to_string(i) + "]";
        if (!v[i].IsObject()) {
          return fail(e, "invalid_value", item + ": expected an object, got " + json_type_name(v[i]));
        }
        for (const auto& m : v[i].GetObject()) {
          if (!m.value.IsString()) {
            return fail(e, "invalid_value",
                        item + "." + m.name.GetString() + ": expected a string, got " + json_type_name(m.value));
          }
        }
      }
      return true;
  }
  return true;
}

// PostgreSQL's jsonb refuses "\u0000" anywhere, keys included.
bool find_nul(const rapidjson::Value& v, const std::string& path, std::string* where) {
  if (v.IsString()) {
    if (std::string_view(v.GetString(), v.GetStringLength()).find('\0') == std::string_view::npos) return false;
    *where = path;
    return true;
  }
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      const std::string key(m.name.GetString(), m.name.GetStringLength());
      const std::string child = path.empty() ? key : path + "." + key;
      if (key.find('\0') != std::string::npos) {
        *where = child;
        return true;
      }
      if (find_nul(m.value, child, where)) return true;
    }
  }
  if (v.IsArray()) {
    size_t i = 0;
    for (const auto& item : v.GetArray()) {
      if (find_nul(item, path + "[" + std::to_string(i++) + "]", where)) return true;
    }
  }
  return false;
}

// A name twice in one object: validation and the account override read the
// first, but jsonb keeps the last, so the stored record could say another
// account than the one checked (found by fuzz/canonical_import_fuzzer).
bool find_duplicate(const rapidjson::Value& v, const std::string& path, std::string* where) {
  if (v.IsObject()) {
    std::set<std::string_view> names;
    for (const auto& m : v.GetObject()) {
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      const std::string child = path.empty() ? std::string(key) : path + "." + std::string(key);
      if (!names.insert(key).second) {
        *where = child;
        return true;
      }
      if (find_duplicate(m.value, child, where)) return true;
    }
  }
  if (v.IsArray()) {
    size_t i = 0;
    for (const auto& item : v.GetArray()) {
      if (find_duplicate(item, path + "[" + std::to_string(i++) + "]", where)) return true;
    }
  }
  return false;
}

// A null or "" known field is no value: the canonical record leaves it out.
void drop_empty_known_fields(rapidjson::Value& obj) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd();) {
    const bool empty = it->value.IsNull() || (it->value.IsString() && it->value.GetStringLength() == 0);
    if (empty && known_field(std::string_view(it->name.GetString(), it->name.GetStringLength())) != nullptr) {
      it = obj.EraseMember(it);
    } else {
      ++it;
    }
  }
}

std::string string_member(const rapidjson::Value& obj, const char* name) {
  const auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

void set_string(rapidjson::Value& obj, const char* name, const std::string& value,
                rapidjson::Document::AllocatorType& a) {
  const auto it = obj.FindMember(name);
  if (it != obj.MemberEnd()) {
    it->value.SetString(value.data(), static_cast<rapidjson::SizeType>(value.size()), a);
  } else {
    obj.AddMember(rapidjson::Value(name, a),
                  rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a), a);
  }
}

// The account of the row, written at the top level and in custom_channel_vars.
bool settle_account(rapidjson::Document& doc, const ImportOptions& options, RowError* e) {
  std::string account = options.account_id;
  if (account.empty()) account = string_member(doc, "account_id");
  const auto ccv = doc.FindMember("custom_channel_vars");
  if (account.empty() && ccv != doc.MemberEnd()) account = string_member(ccv->value, "account_id");
  if (account.empty()) {
    return fail(e, "missing_field",
                "account_id: not at the top level nor in custom_channel_vars, and no ?account_id= was given");
  }
  auto& a = doc.GetAllocator();
  set_string(doc, "account_id", account, a);
  // Looked up again: adding account_id above may move the members, leaving
  // `ccv` stale (found by fuzz/canonical_import_fuzzer: with ?account_id=
  // and neither account field, custom_channel_vars was never added and
  // doc["custom_channel_vars"] wrote into RapidJSON's shared null value).
  auto vars = doc.FindMember("custom_channel_vars");
  if (vars == doc.MemberEnd()) {
    doc.AddMember("custom_channel_vars", rapidjson::Value(rapidjson::kObjectType), a);
    vars = doc.FindMember("custom_channel_vars");
  }
  set_string(vars->value, "account_id", account, a);
  return true;
}

// Kazoo's key spelling in the custom objects (kazoo_key: Owner-ID ->
// owner_id), as the normalizers write them; of two keys that become one, the
// first in the object stays. Runs after the type check: the values are strings.
void kazoo_custom_keys(rapidjson::Document& doc) {
  auto& a = doc.GetAllocator();
  for (const char* name : kCustomObjects) {
    const auto object = doc.FindMember(name);
    if (object == doc.MemberEnd()) continue;
    bool unchanged = true;
    for (const auto& m : object->value.GetObject()) {
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (kazoo_key(key) != key) unchanged = false;
    }
    if (unchanged) continue;
    rapidjson::Value renamed(rapidjson::kObjectType);
    std::set<std::string> seen;
    for (auto& m : object->value.GetObject()) {
      std::string key = kazoo_key(std::string_view(m.name.GetString(), m.name.GetStringLength()));
      if (!seen.insert(key).second) continue;
      renamed.AddMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size()), a), m.value, a);
    }
    object->value = renamed;
  }
}

void add_string(rapidjson::Value& obj, const char* name, const std::string& value,
                rapidjson::Document::AllocatorType& a) {
  if (value.empty()) return;
  obj.AddMember(rapidjson::Value(name, a),
                rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a), a);
}

// caller_e164, callee_e164 and destination that the row does not carry, from
// its numbers in the region of its (settled) account, as the normalizers
// derive them. destination follows a given callee_e164.
void derive_numbers(rapidjson::Document& doc, const NumberRules& rules) {
  auto& a = doc.GetAllocator();
  const std::string& region = rules.region_for(string_member(doc, "account_id"));
  if (!doc.HasMember("caller_e164")) {
    add_string(doc, "caller_e164", e164_number(string_member(doc, "caller_id_number"), region), a);
  }
  const bool has_callee = doc.HasMember("callee_e164");
  if (has_callee && doc.HasMember("destination")) return;
  const std::string callee = has_callee ? string_member(doc, "callee_e164") : string_member(doc, "callee_id_number");
  NumberInfo info;
  if (!describe_number(callee, region, &info)) return;
  if (!has_callee) add_string(doc, "callee_e164", info.e164, a);
  if (doc.HasMember("destination")) return;
  rapidjson::Value destination(rapidjson::kObjectType);
  add_string(destination, "name", info.country_name, a);
  add_string(destination, "country", info.country, a);
  add_string(destination, "type", info.type, a);
  doc.AddMember("destination", destination, a);
}

// The record's id: checked when given, else derived like the normalizer's.
bool settle_id(rapidjson::Document& doc, const std::string& call_id, int64_t unix_end, RowError* e) {
  const int end_month = month_of_unix(unix_end);
  const std::string given = string_member(doc, "id");
  if (!given.empty()) {
    const int year = given.size() >= 8 ? digits(given, 0, 4) : -1;
    const int month = given.size() >= 8 ? digits(given, 4, 2) : -1;
    if (year < 1 || month < 1 || month > 12 || given[6] != '-') {
      return fail(e, "invalid_value",
                  "id: expected YYYYMM-<call id> (6 digits, a dash, the call id), got \"" + given + "\"");
    }
    if (year * 100 + month > end_month) {
      return fail(e, "invalid_value",
                  "id: its month " + given.substr(0, 6) + " is after the month of timestamp (" +
                      std::to_string(end_month) + "); the id names the month the leg started");
    }
    return true;
  }
  int month = end_month;
  const char* from = "timestamp";
  const auto created = doc.FindMember("channel_created_time");
  const std::string started_at = string_member(doc, "started_at");
  if (created != doc.MemberEnd()) {
    month = month_of_unix(created->value.GetInt64() / 1000000);
    from = "channel_created_time";
  } else if (!started_at.empty()) {
    month = digits(started_at, 0, 4) * 100 + digits(started_at, 5, 2);
    from = "started_at";
  }
  if (month > end_month) {
    return fail(e, "invalid_value",
                std::string(from) + ": the leg would start in " + std::to_string(month) +
                    ", after the month of timestamp (" + std::to_string(end_month) + ")");
  }
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%06d-", month);
  set_string(doc, "id", prefix + call_id, doc.GetAllocator());
  return true;
}

bool complete(rapidjson::Document& doc, const ImportOptions& options, RowError* e) {
  if (!doc.IsObject())
    return fail(e, "invalid_json", std::string("expected a JSON object, got ") + json_type_name(doc));
  std::string duplicate_at;
  if (find_duplicate(doc, "", &duplicate_at)) {
    return fail(e, "invalid_json", duplicate_at + ": the name appears twice in its object");
  }
  drop_empty_known_fields(doc);
  for (const auto& m : doc.GetObject()) {
    const KnownField* f = known_field(std::string_view(m.name.GetString(), m.name.GetStringLength()));
    if (f != nullptr && !check_type(*f, m.value, e)) return false;
  }
  std::string nul_at;
  if (find_nul(doc, "", &nul_at)) {
    return fail(e, "invalid_value", nul_at + ": holds U+0000, which PostgreSQL cannot store");
  }
  const std::string call_id = string_member(doc, "call_id");
  if (call_id.empty()) return fail(e, "missing_field", "call_id: required (the leg's uuid)");
  const auto ts = doc.FindMember("timestamp");
  if (ts == doc.MemberEnd())
    return fail(e, "missing_field", "timestamp: required (Gregorian seconds of the leg's end)");
  const int64_t timestamp = ts->value.GetInt64();
  if (timestamp < kGregorianToUnix || timestamp > kMaxUnixSeconds + kGregorianToUnix) {
    return fail(e, "invalid_value",
                "timestamp: " + std::to_string(timestamp) + " is not Gregorian seconds from 1970 to 9999 (at least " +
                    std::to_string(kGregorianToUnix) + ")");
  }
  const auto created = doc.FindMember("channel_created_time");
  if (created != doc.MemberEnd() && (created->value.GetInt64() < 0 || created->value.GetInt64() > kMaxUnixMicros)) {
    return fail(e, "invalid_value",
                "channel_created_time: " + std::to_string(created->value.GetInt64()) +
                    " is not microseconds since 1970 before the year 10000");
  }
  kazoo_custom_keys(doc);
  if (!settle_account(doc, options, e)) return false;
  if (!settle_id(doc, call_id, timestamp - kGregorianToUnix, e)) return false;
  derive_numbers(doc, options.numbers);
  auto& a = doc.GetAllocator();
  // The canonical record carries is_loopback only when true (as the CSV
  // reader does), so an export of this row imports back to the same record.
  const auto loopback = doc.FindMember("is_loopback");
  if (loopback != doc.MemberEnd() && loopback->value.IsFalse()) doc.EraseMember(loopback);
  set_string(doc, "source", "import", a);
  const auto imported = doc.FindMember("imported");
  if (imported != doc.MemberEnd()) {
    imported->value.SetBool(true);
  } else {
    doc.AddMember("imported", true, a);
  }
  return true;
}

}  // namespace

bool import_record(std::string_view json, std::string_view raw, std::string_view raw_format,
                   const ImportOptions& options, CdrRecord* out, std::string* code, std::string* message) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    *code = "invalid_json";
    *message = std::string("not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " (offset " +
               std::to_string(doc.GetErrorOffset()) + ")";
    return false;
  }
  RowError e;
  if (!complete(doc, options, &e)) {
    *code = std::move(e.code);
    *message = std::move(e.message);
    return false;
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc.Accept(w);
  out->json.assign(sb.GetString(), sb.GetSize());
  out->raw.assign(raw.data(), raw.size());
  out->raw_format.assign(raw_format.data(), raw_format.size());
  return true;
}

}  // namespace cdrd
