#include "daemon/api/api_request.h"

#include <event2/http.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <ctime>
#include <limits>
#include <pqxx/pqxx>

namespace cdrd {

bool parse_int64(const std::string& text, int64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    // 19 digits reach 9999999999999999999, past INT64_MAX: refused, not wrapped (found by fuzz/api_query_fuzzer).
    if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

ApiError database_error(const std::exception& e, const std::string& request_id) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (sql && sql->sqlstate() == "57014") {  // query_canceled: statement_timeout
    return {504, "timeout", "the query took longer than database.statement_timeout_ms"};
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return {503, "database_unavailable", "the database is not reachable; retry"};
  }
  spdlog::error("read api request {}: {}", request_id, e.what());
  return {500, "internal_error", "the query failed; see the log for request " + request_id};
}

std::vector<std::string> path_segments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const size_t j = path.find('/', i);
    const std::string seg = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    size_t n = 0;
    char* decoded = evhttp_uridecode(seg.c_str(), 0, &n);
    out.emplace_back(decoded ? std::string(decoded, n) : seg);
    free(decoded);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

std::string iso8601_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string data_envelope(std::string_view data_json, const std::string& request_id) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("data");
  w.RawValue(data_json.data(), data_json.size(), rapidjson::kObjectType);
  end_success_envelope(w, request_id);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace cdrd
