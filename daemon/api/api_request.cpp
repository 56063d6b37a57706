#include "daemon/api/api_request.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

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

bool parse_time_window(const ApiParams& params, int64_t now_gregorian, TimeWindow* window, ApiError* err) {
  auto bad = [&](const std::string& message) {
    *err = {400, "invalid_parameter", message};
    return false;
  };
  window->to_gregorian = now_gregorian;
  bool have_from = false;
  for (const char* name : {"created_from", "created_to"}) {
    const auto it = params.find(name);
    if (it == params.end()) continue;
    int64_t v = 0;
    if (!parse_int64(it->second, &v) || v < kGregorianUnixOffset) {
      return bad(std::string(name) + ": expected Gregorian seconds (an integer >= " +
                 std::to_string(kGregorianUnixOffset) + "), got '" + it->second + "'");
    }
    if (it->first == "created_from") {
      window->from_gregorian = v;
      have_from = true;
    } else {
      window->to_gregorian = v;
    }
  }
  if (!have_from) window->from_gregorian = window->to_gregorian - 86400;
  if (window->from_gregorian > window->to_gregorian) return bad("created_from: is after created_to");
  if (window->to_gregorian - window->from_gregorian > kMaxWindowSeconds) {
    return bad("created_from/created_to: the range is " +
               std::to_string((window->to_gregorian - window->from_gregorian + 86399) / 86400) +
               " days; at most 31 days per request");
  }
  return true;
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
