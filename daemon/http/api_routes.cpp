// Read API (Kazoo-compatible): routing, auth and parameter checks run on the
// loop thread; the query and the body are built on a ReadPool thread; the
// reply goes back through the LoopTaskQueue.
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "daemon/core/metrics.h"
#include "daemon/db/cdr_store.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/http_server.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/http/read_pool.h"

namespace cdrd {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200;
constexpr int64_t kMaxRangeSeconds = 31 * 86400;
constexpr size_t kDefaultPageSize = 50;
constexpr size_t kMaxPageSize = 1000;

std::string iso8601_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<std::string> split_path(const std::string& path) {
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

bool parse_int64(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

struct ApiError {
  int status = 0;
  std::string code;
  std::string message;
};

// Parses and checks the list parameters; unknown parameters are refused by name.
bool parse_list_query(const std::map<std::string, std::string>& params, const std::string& account_id, CdrListQuery* q,
                      ApiError* err) {
  auto bad = [&](const std::string& message) {
    *err = {400, "invalid_parameter", message};
    return false;
  };
  q->account_id = account_id;
  const int64_t now_gregorian = static_cast<int64_t>(std::time(nullptr)) + kGregorianUnixOffset;
  q->to_gregorian = now_gregorian;
  bool have_from = false;
  for (const auto& [name, value] : params) {
    if (name == "created_from" || name == "created_to") {
      int64_t v = 0;
      if (!parse_int64(value, &v) || v < kGregorianUnixOffset) {
        return bad(name + ": expected Gregorian seconds (an integer >= " + std::to_string(kGregorianUnixOffset) +
                   "), got '" + value + "'");
      }
      if (name == "created_from") {
        q->from_gregorian = v;
        have_from = true;
      } else {
        q->to_gregorian = v;
      }
    } else if (name == "page_size") {
      int64_t v = 0;
      if (!parse_int64(value, &v) || v < 1 || v > static_cast<int64_t>(kMaxPageSize)) {
        return bad("page_size: expected an integer from 1 to " + std::to_string(kMaxPageSize) + ", got '" + value +
                   "'");
      }
      q->page_size = static_cast<size_t>(v);
    } else if (name == "start_key") {
      CdrCursor cursor;
      if (!decode_cursor(value, &cursor)) return bad("start_key: not a key returned as next_start_key");
      q->after = cursor;
    } else if (name == "ascending") {
      if (value != "true" && value != "false") return bad("ascending: expected true or false, got '" + value + "'");
      q->ascending = value == "true";
    } else if (name == "auth_token") {
      // credential, handled by auth
    } else if (name.rfind("filter_", 0) == 0 || name == "paginate") {
      *err = {400, "unsupported_parameter", name + ": not supported by this version of cdrd"};
      return false;
    } else {
      return bad("unknown query parameter '" + name + "'");
    }
  }
  if (!have_from) q->from_gregorian = q->to_gregorian - 86400;
  if (q->from_gregorian > q->to_gregorian) return bad("created_from: is after created_to");
  if (q->to_gregorian - q->from_gregorian > kMaxRangeSeconds) {
    return bad("created_from/created_to: the range is " +
               std::to_string((q->to_gregorian - q->from_gregorian + 86399) / 86400) +
               " days; at most 31 days per request");
  }
  if (q->page_size == 0) q->page_size = kDefaultPageSize;
  return true;
}

std::string list_body(const CdrPage& page, const std::string& start_key, const std::string& request_id) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("data");
  w.StartArray();
  for (const auto& rec : page.records) {
    w.RawValue(rec.data(), rec.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.Key("page_size");
  w.Uint64(page.records.size());
  if (!start_key.empty()) {
    w.Key("start_key");
    w.String(start_key);
  }
  if (page.next) {
    w.Key("next_start_key");
    w.String(encode_cursor(*page.next));
  }
  w.Key("request_id");
  w.String(request_id);
  w.Key("status");
  w.String("success");
  w.Key("timestamp");
  w.String(iso8601_now());
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string get_body(const std::string& record, const std::string& request_id) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("data");
  w.RawValue(record.data(), record.size(), rapidjson::kObjectType);
  w.Key("request_id");
  w.String(request_id);
  w.Key("status");
  w.String("success");
  w.Key("timestamp");
  w.String(iso8601_now());
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

// Runs on a ReadPool thread: turns a database failure into an API error.
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

}  // namespace

void HttpServer::handle_api(evhttp_request* req, const std::string& path, const std::string& request_id) {
  parts_.metrics->api_requests.fetch_add(1, std::memory_order_relaxed);
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    parts_.metrics->api_errors.fetch_add(1, std::memory_order_relaxed);
    send_error(req, status, code, message, request_id);
  };

  std::vector<std::string> seg = split_path(path);
  if (!seg.empty() && (seg[0] == "v1" || seg[0] == "v2")) seg.erase(seg.begin());
  const bool under_cdrs = seg.size() >= 3 && seg[0] == "accounts" && seg[2] == "cdrs";
  const bool is_list = under_cdrs && seg.size() == 3;
  const bool is_interactions = under_cdrs && seg.size() == 4 && seg[3] == "interaction";
  const bool is_legs = under_cdrs && seg.size() == 5 && seg[3] == "legs";
  // "interaction" and "legs" name routes, never a CDR id.
  const bool is_get = under_cdrs && seg.size() == 4 && seg[3] != "interaction" && seg[3] != "legs";
  if (!is_list && !is_interactions && !is_legs && !is_get) {
    fail(404, "not_found", "no route for " + path);
    return;
  }
  const auto method = evhttp_request_get_command(req);
  if (method != EVHTTP_REQ_GET) {
    fail(405, "method_not_allowed", "use GET for " + path);
    return;
  }

  std::map<std::string, std::string> params;
  if (const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
    evkeyvalq kv;
    if (evhttp_parse_query_str(q, &kv) != 0) {
      fail(400, "invalid_parameter", "the query string is malformed");
      return;
    }
    for (evkeyval* p = kv.tqh_first; p; p = p->next.tqe_next) params.emplace(p->key, p->value);
    evhttp_clear_headers(&kv);
  }

  // Credentials: X-Auth-Token, Authorization: Bearer, or ?auth_token=.
  std::string token = request_header(req, "X-Auth-Token");
  if (token.empty()) {
    const std::string authz = request_header(req, "Authorization");
    if (authz.rfind("Bearer ", 0) == 0) token = authz.substr(7);
  }
  if (token.empty()) {
    auto it = params.find("auth_token");
    if (it != params.end()) token = it->second;
  }
  if (token.empty()) {
    fail(401, "unauthorized", "no credentials: send X-Auth-Token, Authorization: Bearer, or auth_token");
    return;
  }
  const ApiKey* key = settings_->auth.find(token);
  if (!key) {
    fail(401, "unauthorized", "the credentials are not valid");
    return;
  }
  const std::string account_id = seg[1];
  if (!ApiAuth::allows(*key, account_id)) {
    fail(403, "forbidden", "these credentials may not read account " + account_id);
    return;
  }

  // What a read-pool thread computes: the status and body of the reply.
  using Reply = std::pair<int, std::string>;
  std::function<Reply(CdrStore&)> query;
  if (is_list || is_interactions) {
    CdrListQuery list_query;
    ApiError err;
    if (!parse_list_query(params, account_id, &list_query, &err)) {
      fail(err.status, err.code, err.message);
      return;
    }
    const auto sk = params.find("start_key");
    const std::string start_key = sk == params.end() ? "" : sk->second;
    query = [is_list, list_query, start_key, request_id](CdrStore& store) {
      const CdrPage page = is_list ? store.list(list_query) : store.interactions(list_query);
      return Reply{200, list_body(page, start_key, request_id)};
    };
  } else {
    for (const auto& [name, value] : params) {
      if (name != "auth_token") {
        fail(400, "invalid_parameter", "unknown query parameter '" + name + "'");
        return;
      }
    }
    if (is_legs) {
      const std::string interaction_id = seg[4];
      query = [account_id, interaction_id, request_id](CdrStore& store) {
        CdrPage legs;
        legs.records = store.legs(account_id, interaction_id);
        if (legs.records.empty()) {
          return Reply{404,
                       error_body("not_found", "no legs of interaction " + interaction_id + " in account " + account_id,
                                  request_id)};
        }
        return Reply{200, list_body(legs, "", request_id)};
      };
    } else {
      const std::string cdr_id = seg[3];
      query = [account_id, cdr_id, request_id](CdrStore& store) {
        if (auto record = store.get(account_id, cdr_id)) return Reply{200, get_body(*record, request_id)};
        return Reply{404, error_body("not_found", "no CDR " + cdr_id + " in account " + account_id, request_id)};
      };
    }
  }
  // Runs on a read-pool thread; the reply is sent from the loop thread.
  auto job = [this, req, request_id, query = std::move(query)](CdrStore& store) {
    Reply reply;
    try {
      reply = query(store);
    } catch (const std::exception& e) {
      const ApiError err = database_error(e, request_id);
      reply = Reply{err.status, error_body(err.code, err.message, request_id)};
    }
    parts_.loop_queue->post([this, req, request_id, reply = std::move(reply)] {
      --in_flight_;
      if (reply.first != 200) parts_.metrics->api_errors.fetch_add(1, std::memory_order_relaxed);
      send_body(req, reply.first, "application/json", reply.second, request_id);
    });
  };
  ++in_flight_;
  if (!parts_.reads->submit(std::move(job))) {
    --in_flight_;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    fail(503, "too_many_requests", "too many read requests in progress; retry");
  }
}

}  // namespace cdrd
