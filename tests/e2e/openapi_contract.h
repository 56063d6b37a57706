// The contract tests' shared parts: requests sent to a real cdrd are
// recorded (method, the document's templated path, status, content type,
// headers, body) and tests/openapi/check_responses.py validates them against
// an OpenAPI document in docs/ (one per dialect), failing on any documented
// operation no request covered.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <fstream>
#include <map>
#include <string>

#include "tests/e2e/http_client.h"
#include "tests/support/test_files.h"

namespace cdrd::test {

inline const std::string kOpenApiChecker = std::string(CDRD_SOURCE_DIR) + "/tests/openapi/check_responses.py";

struct RouteRequest {
  std::string method;
  std::string path;    // the document's templated path (or, for no route, the literal path)
  std::string target;  // what is sent: path and query
  std::map<std::string, std::string> headers;
  std::string body;
  int expected_status = 0;
};

// The recorded answers, written as the JSON array check_responses.py reads.
class ResponseLog {
 public:
  void add(const RouteRequest& rq, const HttpResponse& r) {
    auto& a = doc_.GetAllocator();
    rapidjson::Value rec(rapidjson::kObjectType);
    rec.AddMember("method", rapidjson::Value(rq.method, a), a);
    rec.AddMember("path", rapidjson::Value(rq.path, a), a);
    rec.AddMember("target", rapidjson::Value(rq.target, a), a);
    rec.AddMember("status", r.status, a);
    const auto ct = r.headers.find("content-type");
    rec.AddMember("content_type", rapidjson::Value(ct == r.headers.end() ? "" : ct->second, a), a);
    rapidjson::Value headers(rapidjson::kObjectType);
    for (const auto& [name, value] : r.headers)
      headers.AddMember(rapidjson::Value(name, a), rapidjson::Value(value, a), a);
    rec.AddMember("headers", headers, a);
    rec.AddMember("body", rapidjson::Value(r.body, a), a);
    doc_.PushBack(rec, a);
  }

  void write(const std::string& file) const {
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    doc_.Accept(w);
    std::ofstream(file) << sb.GetString();
  }

 private:
  rapidjson::Document doc_{rapidjson::kArrayType};
};

// Runs check_responses.py on the document (and the records, if given;
// `partial`: without requiring every operation to be covered).
inline CommandResult run_openapi_checker(const std::string& doc, const std::string& records = "",
                                         bool partial = false) {
  std::string cmd = "/usr/bin/python3 '" + kOpenApiChecker + "' '" + doc + "'";
  if (!records.empty()) cmd += " '" + records + "'";
  if (partial) cmd += " --partial";
  return run_command(cmd);
}

}  // namespace cdrd::test
