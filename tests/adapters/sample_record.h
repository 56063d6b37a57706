// Helpers for the adapter tests: read a sample, normalize it, look at fields.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "adapters/freeswitch/normalize.h"
#include "tests/support/test_files.h"

namespace cdrd::test {

// Puts `extra` (`"name":"value"` pairs) first in the variables object.
inline std::string with_variables(const std::string& doc, const std::string& extra) {
  const size_t at = doc.find('{', doc.find("\"variables\"")) + 1;
  return doc.substr(0, at) + extra + "," + doc.substr(at);
}

// A normalized record with field accessors that say "<absent>" / -1 for a missing field.
class Record {
 public:
  explicit Record(const NormalizeResult& result) : result_(result) {
    doc_.Parse(result.record.json.c_str(), result.record.json.size());
  }
  bool ok() const { return result_.ok() && doc_.IsObject(); }
  const NormalizeResult& result() const { return result_; }
  const rapidjson::Document& doc() const { return doc_; }
  bool has(const char* field) const { return doc_.IsObject() && doc_.HasMember(field); }
  std::string str(const char* field) const {
    if (!has(field) || !doc_[field].IsString()) return "<absent>";
    return {doc_[field].GetString(), doc_[field].GetStringLength()};
  }
  int64_t num(const char* field) const {
    if (!has(field) || !doc_[field].IsInt64()) return -1;
    return doc_[field].GetInt64();
  }
  std::string sub(const char* object, const char* field) const {
    if (!has(object) || !doc_[object].IsObject() || !doc_[object].HasMember(field)) return "<absent>";
    return doc_[object][field].GetString();
  }

 private:
  NormalizeResult result_;
  rapidjson::Document doc_;
};

// The derived address fields (record_builder.cpp put_addresses); "<absent>"
// for a field the record must not have.
struct Addresses {
  std::string media_server_ip, sip_network_ip, local_rtp_ip, remote_rtp_ip;
};

inline void expect_addresses(const Record& r, const Addresses& want, const std::string& sample) {
  ASSERT_TRUE(r.ok()) << sample << ": " << r.result().error.message;
  EXPECT_EQ(r.str("media_server_ip"), want.media_server_ip) << sample;
  EXPECT_EQ(r.str("sip_network_ip"), want.sip_network_ip) << sample;
  EXPECT_EQ(r.str("local_rtp_ip"), want.local_rtp_ip) << sample;
  EXPECT_EQ(r.str("remote_rtp_ip"), want.remote_rtp_ip) << sample;
}

inline NormalizeOptions default_options() {
  NormalizeOptions options;
  options.node = "test-node";
  options.app_version = "9.9.9";
  return options;
}

inline Record normalize_text(const std::string& json, const NormalizeOptions& options = default_options(),
                             const std::string& uuid_param = "") {
  return Record(normalize_json_cdr(json, options, uuid_param));
}

inline Record normalize_sample(const std::string& name, const NormalizeOptions& options = default_options()) {
  return normalize_text(read_sample(name), options);
}

}  // namespace cdrd::test
