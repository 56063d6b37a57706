#include "bench/cdr_body_template.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace cdrd {

bool CdrBodyTemplate::build(const std::string& sample_json, const std::string& account_id, bool pretty,
                            int64_t move_to_unix, CdrBodyTemplate* out, std::string* error) {
  rapidjson::Document doc;
  doc.Parse(sample_json.data(), sample_json.size());
  if (doc.HasParseError()) {
    *error = std::string("sample is not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
             std::to_string(doc.GetErrorOffset());
    return false;
  }
  if (!doc.IsObject() || !doc.HasMember("variables") || !doc["variables"].IsObject()) {
    *error = "sample has no \"variables\" object";
    return false;
  }
  rapidjson::Value& variables = doc["variables"];
  const auto uuid = variables.FindMember("uuid");
  if (uuid == variables.MemberEnd() || !uuid->value.IsString() || uuid->value.GetStringLength() != 36) {
    *error = "sample has no 36-character variables.uuid";
    return false;
  }
  out->sample_uuid_ = uuid->value.GetString();
  // The other leg the sample names (the 2017 sample's bridge_uuid,
  // signal_bond, ...): patched per CDR too, or every CDR of a run would name
  // the same other leg, and call assembly would make them legs of one call.
  const auto other = variables.FindMember("bridge_uuid");
  out->other_uuid_.clear();
  if (other != variables.MemberEnd() && other->value.IsString() && other->value.GetStringLength() == 36) {
    out->other_uuid_ = other->value.GetString();
  }

  auto& allocator = doc.GetAllocator();
  rapidjson::Value account(account_id, allocator);
  const auto existing = variables.FindMember("account_id");
  if (existing != variables.MemberEnd()) {
    existing->value = account;
  } else {
    variables.AddMember("account_id", account, allocator);
  }

  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent('\t', 1);
    doc.Accept(writer);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
  }
  out->body_.assign(buffer.GetString(), buffer.GetSize());
  out->moved_times_ = 0;
  if (move_to_unix > 0) {
    const auto start = variables.FindMember("start_epoch");
    if (start == variables.MemberEnd() || !start->value.IsString() || start->value.GetStringLength() != 10) {
      *error = "sample has no 10-digit variables.start_epoch to move its times by (--keep-sample-times keeps them)";
      return false;
    }
    out->moved_times_ = move_times_to(start->value.GetString(), move_to_unix, &out->body_);
  }

  out->offsets_.clear();
  for (size_t at = out->body_.find(out->sample_uuid_); at != std::string::npos;
       at = out->body_.find(out->sample_uuid_, at + out->sample_uuid_.size())) {
    out->offsets_.push_back(at);
  }
  out->other_offsets_.clear();
  for (size_t at = out->other_uuid_.empty() ? std::string::npos : out->body_.find(out->other_uuid_);
       at != std::string::npos; at = out->body_.find(out->other_uuid_, at + out->other_uuid_.size())) {
    out->other_offsets_.push_back(at);
  }
  return true;
}

void CdrBodyTemplate::patch_uuid(const char* uuid, std::string* body) const {
  for (const size_t at : offsets_) std::memcpy(&(*body)[at], uuid, 36);
  // The other leg: the uuid reversed (36 characters, unique per CDR).
  char reversed[36];
  for (size_t i = 0; i < 36; ++i) reversed[i] = uuid[35 - i];
  for (const size_t at : other_offsets_) std::memcpy(&(*body)[at], reversed, 36);
}

void format_bench_uuid(uint64_t run_id, uint64_t index, char out[37]) {
  const auto group1 = static_cast<unsigned>(run_id >> 32);
  const auto group2 = static_cast<unsigned>((run_id >> 16) & 0xffff);
  const auto group3 = 0x4000u | static_cast<unsigned>((run_id >> 4) & 0x0fff);
  const auto group4 = 0x8000u | static_cast<unsigned>(run_id & 0xf);
  std::snprintf(out, 37, "%08x-%04x-%04x-%04x-%012" PRIx64, group1, group2, group3, group4,
                static_cast<uint64_t>(index & 0xffffffffffffULL));
}

}  // namespace cdrd
