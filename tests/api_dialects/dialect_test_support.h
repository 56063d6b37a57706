// What the dialect projection tests share: the seeds' examples read from
// ../shared/seeds at test time, canonical records made from the FreeSWITCH
// samples by cdrd's own adapters (with the call-level fields the writer adds
// spliced in), and the shape comparison of a projection with a seed example.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "adapters/freeswitch/normalize.h"
#include "daemon/api/record_view.h"
#include "tests/adapters/esl_test_input.h"
#include "tests/support/test_files.h"

namespace cdrd::test {

// The text of ../shared/seeds/<number>_*.txt; throws naming the folder when
// there is no such file.
inline std::string seed_text(const std::string& number) {
  const std::filesystem::path dir(CDRD_SEEDS_DIR);
  if (std::filesystem::is_directory(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(number + "_", 0) == 0 && entry.path().extension() == ".txt")
        return read_file(entry.path().string());
    }
  }
  throw std::runtime_error("no seed " + number + "_*.txt in " + dir.string());
}

// The first balanced {...} after the line holding `marker` (strings and
// their escapes skipped), parsed; throws naming the marker when there is none.
inline rapidjson::Document seed_example(const std::string& text, const std::string& marker) {
  const size_t at = text.find(marker);
  if (at == std::string::npos) throw std::runtime_error("seed marker not found: " + marker);
  const size_t open = text.find('{', text.find('\n', at));
  if (open == std::string::npos) throw std::runtime_error("no JSON object after " + marker);
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) {
      rapidjson::Document doc;
      doc.Parse(text.c_str() + open, i + 1 - open);
      if (doc.HasParseError() || !doc.IsObject())
        throw std::runtime_error("the example after " + marker + " is no JSON");
      return doc;
    }
  }
  throw std::runtime_error("unbalanced example after " + marker);
}

inline std::vector<std::string> keys_of(const rapidjson::Value& object) {
  std::vector<std::string> out;
  for (const auto& m : object.GetObject()) out.emplace_back(m.name.GetString(), m.name.GetStringLength());
  return out;
}

// `first`'s keys, then each key of `second` not in it, placed after the key
// that precedes it in `second`.
inline std::vector<std::string> merged_keys(const std::vector<std::string>& first,
                                            const std::vector<std::string>& second) {
  std::vector<std::string> out = first;
  std::string previous;
  for (const std::string& key : second) {
    if (std::find(out.begin(), out.end(), key) == out.end()) {
      const auto after = previous.empty() ? out.begin() : std::find(out.begin(), out.end(), previous) + 1;
      out.insert(after, key);
    }
    previous = key;
  }
  return out;
}

inline std::string json_type(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsObject()) return "object";
  return "array";
}

// The projection has exactly `keys` in that order, and per key the type
// `want_type(key)`, or null when the key is in `nullable`.
inline void expect_shape(const rapidjson::Value& ours, const std::vector<std::string>& keys,
                         const std::function<std::string(const std::string&)>& want_type,
                         const std::set<std::string>& nullable, const std::string& label) {
  ASSERT_TRUE(ours.IsObject()) << label;
  EXPECT_EQ(keys_of(ours), keys) << label;
  for (const std::string& key : keys) {
    const auto it = ours.FindMember(key.c_str());
    if (it == ours.MemberEnd()) continue;  // reported by the key comparison
    const std::string type = json_type(it->value);
    if (type == "null" && nullable.count(key) != 0) continue;
    EXPECT_EQ(type, want_type(key)) << label << ": key " << key;
  }
}

// `text` without the whitespace outside strings: expected documents are
// written readably and compared byte for byte (numbers exactly as written).
inline std::string compact(const std::string& text) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

inline rapidjson::Document parse_json_strict(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) throw std::runtime_error("not JSON: " + text);
  return doc;
}

// A projection's output as text.
inline std::string written(const std::function<void(JsonWriter&)>& write) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  write(w);
  return {sb.GetString(), sb.GetSize()};
}

inline NormalizeOptions sample_options() {
  NormalizeOptions options;
  options.node = "test-node";
  options.app_version = "9.9.9";
  return options;
}

// The canonical record of a sample (json_cdr / xml_cdr / ESL decoded dump).
inline std::string sample_record(const std::string& name) {
  const std::string text = read_sample(name);
  NormalizeResult r;
  if (name.rfind("esl_hangup_decoded_", 0) == 0) {
    r = normalize_esl_event(event_from_body(plain_body_from_decoded_dump(text)), sample_options());
  } else if (name.size() > 4 && name.compare(name.size() - 4, 4, ".xml") == 0) {
    r = normalize_xml_cdr(text, sample_options());
  } else {
    r = normalize_json_cdr(text, sample_options());
  }
  if (!r.ok()) throw std::runtime_error(name + ": " + r.error.message);
  return r.record.json;
}

// `record` with each field set to the JSON text given (added, or replacing
// the stored value), as the writer's call step and rating add them.
inline std::string with_fields(const std::string& record, const std::map<std::string, std::string>& fields) {
  rapidjson::Document doc = parse_json_strict(record);
  for (const auto& [name, json] : fields) {
    rapidjson::Document value(&doc.GetAllocator());
    value.Parse(json.c_str(), json.size());
    if (value.HasParseError()) throw std::runtime_error("not JSON for " + name + ": " + json);
    doc.RemoveMember(name.c_str());
    doc.AddMember(rapidjson::Value(name.c_str(), doc.GetAllocator()), rapidjson::Value(value, doc.GetAllocator()),
                  doc.GetAllocator());
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

// The two legs of the libresbc call (an answered A-leg from 13.228.87.44
// bridged out through gateway pbxtcp), as call assembly and rating leave
// them for an outbound call: a customer rating on the root (Vietnam mobile,
// 60/0.012 then 6/0.01, fee 0.005: 4 answered seconds bill 60 s,
// 0.005 + 60 * 0.012 / 60 = 0.017), a vendor rating on the gateway leg
// (1/0.03 then 1/0.03, no fee: 52.823679 -> 56.763676 is 3.94 s, up to 4 s,
// 4 * 0.03 / 60 = 0.002), a recording on the root, AMD on the B-leg, a
// Diversion header on each, and the SIP status and transport the B-leg sample
// lacks.
inline std::string libresbc_root() {
  return with_fields(sample_record("esl_hangup_decoded_libresbc_aleg.txt"),
                     {{"direction_class", R"("outbound")"},
                      {"recording_url", R"("https://rec.example/88b4673b.wav")"},
                      {"transfer", R"([{"kind":"diversion","destination":"<sip:33123456@carrier.example>"}])"},
                      {"rating", R"({"customer":{"deck":"retail","prefix":"849","name":"Vietnam mobile",
                         "initial_interval":60,"initial_rate":"0.012","next_interval":6,"next_rate":"0.01",
                         "connect_fee":"0.005","billed_seconds":60,"charge":"0.017","currency":"USD",
                         "rated_at":"2021-05-22T03:36:00Z"}})"}});
}

inline std::string libresbc_bleg() {
  return with_fields(
      sample_record("esl_hangup_decoded_libresbc_bleg.txt"),
      {{"direction_class", R"("outbound")"},
       {"answered_by", R"("human")"},
       {"sip_term_status", R"("200")"},
       {"sip_transport", R"("tcp")"},
       {"transfer", R"([{"kind":"diversion","destination":"<sip:1000@pbx.example>;reason=unconditional"}])"},
       {"rating", R"({"vendor":{"deck":"carrier","prefix":"849","initial_interval":1,
                         "initial_rate":"0.03","next_interval":1,"next_rate":"0.03","connect_fee":"0",
                         "billed_seconds":4,"charge":"0.002","currency":"USD",
                         "rated_at":"2021-05-22T03:36:00Z"}})"}});
}

// tinycdr's A-leg: a call to 2622 the caller cancelled while it rang (SIP
// 487), never answered; an internal call, unrated.
inline std::string tinycdr_root() {
  return with_fields(sample_record("xml_cdr_tinycdr_2009_originator_cancel.xml"),
                     {{"direction_class", R"("internal")"}});
}

}  // namespace cdrd::test
