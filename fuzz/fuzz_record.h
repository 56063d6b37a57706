// What every normalizer promises of a record it accepts, checked by the
// FreeSWITCH harnesses: the record is a JSON object of valid UTF-8 with no
// U+0000 (PostgreSQL's jsonb stores neither), it has the key fields with
// their types, and it survives the spool codec byte for byte.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "adapters/freeswitch/normalize.h"
#include "daemon/core/cdr_record.h"
#include "fuzz/fuzz_check.h"

namespace cdrd::fuzz {

inline NormalizeOptions fuzz_options() {
  NormalizeOptions options;
  options.node = "fuzz-node";
  options.app_version = "0.0.0";
  options.accounts.domains = {{"example.com", "acct-example"}};
  return options;
}

inline bool holds_nul(const rapidjson::Value& v) {
  if (v.IsString()) return std::string_view(v.GetString(), v.GetStringLength()).find('\0') != std::string_view::npos;
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (holds_nul(m.name) || holds_nul(m.value)) return true;
    }
  }
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      if (holds_nul(item)) return true;
    }
  }
  return false;
}

inline bool non_empty_string(const rapidjson::Document& doc, const char* name) {
  const auto it = doc.FindMember(name);
  return it != doc.MemberEnd() && it->value.IsString() && it->value.GetStringLength() > 0;
}

inline void check_record(const NormalizeResult& result, std::string_view raw_format) {
  if (!result.ok()) {
    check(!result.error.message.empty(), "a refusal says why");
    return;
  }
  const CdrRecord& record = result.record;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(record.json.data(), record.json.size());
  check(!doc.HasParseError() && doc.IsObject(), "the record is a JSON object of valid UTF-8");
  check(!holds_nul(doc), "the record holds no U+0000 (jsonb refuses it)");
  check(!has_duplicate_name(doc), "no name twice in one object of the record");
  check(non_empty_string(doc, "id") && non_empty_string(doc, "call_id") && non_empty_string(doc, "account_id"),
        "the record has id, call_id and account_id");
  const auto ts = doc.FindMember("timestamp");
  check(ts != doc.MemberEnd() && ts->value.IsInt64(), "the record has an integer timestamp");
  check(record.raw_format == raw_format, "raw_format names the input");
  CdrRecord decoded;
  std::string error;
  check(decode_spool_payload(encode_spool_payload(record), &decoded, &error), "the spool codec reads its own payload");
  check(decoded.json == record.json && decoded.raw == record.raw && decoded.raw_format == record.raw_format,
        "the spool codec round trip changes the record");
}

}  // namespace cdrd::fuzz
