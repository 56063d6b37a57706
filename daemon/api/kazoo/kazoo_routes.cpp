// Read API (Kazoo-compatible): routing, auth and parameter checks run on the
// loop thread; the query and the body are built on a ReadPool thread; the
// reply goes back through the LoopTaskQueue.
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "adapters/canonical/cdr_csv.h"
#include "daemon/api/api_access.h"
#include "daemon/api/api_query.h"
#include "daemon/api/api_request.h"
#include "daemon/api/api_service.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/kazoo/kazoo_dialect.h"
#include "daemon/api/kazoo/kazoo_export.h"
#include "daemon/core/metrics.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/stream_reply.h"

namespace cdrd {
namespace {

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

// Accept: text/csv or application/octet-stream (what 003's clients send)
// asks for CSV; anything else is JSON.
bool wants_csv(evhttp_request* req) {
  std::string accept = request_header(req, "Accept");
  for (char& c : accept) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return accept.find("text/csv") != std::string::npos || accept.find("application/octet-stream") != std::string::npos;
}

RouteReply csv_reply(const std::vector<std::string>& records, const std::string& filename) {
  RouteReply reply;
  reply.content_type = "text/csv; charset=utf-8";
  reply.body = cdr_csv_header();
  for (const auto& record : records) append_cdr_csv_row(record, &reply.body);
  reply.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  return reply;
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
  end_success_envelope(w, request_id);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

std::unique_ptr<ApiDialect> make_kazoo_dialect() { return std::make_unique<KazooDialect>(); }

RouteReply KazooDialect::error_reply(const ApiError& error, const std::string& request_id) const {
  RouteReply reply;
  reply.status = error.status;
  reply.body = error_body(error.code, error.message, request_id);
  return reply;
}

bool KazooDialect::handle(ApiService& service, const ApiCall& call) {
  std::vector<std::string> seg = split_path(call.path);
  if (!seg.empty() && (seg[0] == "v1" || seg[0] == "v2")) seg.erase(seg.begin());
  if (seg.size() == 1 && seg[0] == "api_auth") {
    handle_api_auth(service, call);
    return true;
  }
  if (seg.empty() || seg[0] != "accounts") return false;
  handle_cdrs(service, call, seg);
  return true;
}

void KazooDialect::handle_cdrs(ApiService& service, const ApiCall& call, const std::vector<std::string>& seg) const {
  evhttp_request* req = call.req;
  const std::string& path = call.path;
  const std::string& request_id = call.request_id;
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    service.fail(*this, req, request_id, {status, code, message});
  };
  const bool under_cdrs = seg.size() >= 3 && seg[0] == "accounts" && seg[2] == "cdrs";
  const bool is_list = under_cdrs && seg.size() == 3;
  const bool is_interactions = under_cdrs && seg.size() == 4 && seg[3] == "interaction";
  const bool is_summary = under_cdrs && seg.size() == 4 && seg[3] == "summary";
  const bool is_legs = under_cdrs && seg.size() == 5 && seg[3] == "legs";
  // "interaction", "summary" and "legs" name routes, never a CDR id.
  const bool is_get =
      under_cdrs && seg.size() == 4 && seg[3] != "interaction" && seg[3] != "legs" && seg[3] != "summary";
  if (!is_list && !is_interactions && !is_summary && !is_legs && !is_get) {
    fail(404, "not_found", "no route for " + path);
    return;
  }
  const auto method = evhttp_request_get_command(req);
  if (method != EVHTTP_REQ_GET) {
    fail(405, "method_not_allowed", "use GET for " + path);
    return;
  }

  ApiParams params;
  if (const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
    if (!parse_api_query_string(q, &params)) {
      fail(400, "invalid_parameter", "the query string is malformed");
      return;
    }
  }

  const std::string account_id = seg[1];
  ApiGrant grant;
  ApiError err;
  if (!authorize_account(*service.settings(), request_credential(req, params), account_id, &grant, &err)) {
    fail(err.status, err.code, err.message);
    return;
  }

  const bool csv = wants_csv(req);
  ApiService::Query query;
  if (is_summary) {
    ApiQuery summary;
    if (!plan_summary(params, account_id, request_id, &summary, &err)) {
      fail(err.status, err.code, err.message);
      return;
    }
    query = [summary = std::move(summary)](CdrStore& store) {
      ApiReply reply = summary(store);
      RouteReply out;
      out.status = reply.first;
      out.body = std::move(reply.second);
      return out;
    };
  } else if (is_list || is_interactions) {
    CdrListQuery list_query;
    bool stream = false;
    const int64_t now_gregorian = static_cast<int64_t>(std::time(nullptr)) + kGregorianUnixOffset;
    if (!parse_list_query(params, account_id, csv, now_gregorian, &list_query, &stream, &err)) {
      fail(err.status, err.code, err.message);
      return;
    }
    const auto sk = params.find("start_key");
    const std::string start_key = sk == params.end() ? "" : sk->second;
    if (stream) {
      auto plan = std::make_shared<ExportPlan>();
      plan->query = std::move(list_query);
      plan->interactions = is_interactions;
      plan->csv = csv;
      plan->filename = csv_filename("cdrs-" + account_id + "-" + std::to_string(plan->query.from_gregorian) + "-" +
                                    std::to_string(plan->query.to_gregorian));
      plan->start_key = start_key;
      plan->request_id = request_id;
      Metrics* metrics = service.metrics();
      service.stream(*this, req, request_id, grant, [plan, metrics](CdrStore& store, StreamReply& out) {
        return produce_export(store, *plan, out, metrics);
      });
      return;
    }
    query = [is_list, list_query, start_key, request_id](CdrStore& store) {
      const CdrPage page = is_list ? store.list(list_query) : store.interactions(list_query);
      RouteReply reply;
      reply.body = list_body(page, start_key, request_id);
      return reply;
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
      query = [account_id, interaction_id, request_id, csv](CdrStore& store) {
        CdrPage legs;
        legs.records = store.legs(account_id, interaction_id);
        RouteReply reply;
        if (legs.records.empty()) {
          reply.status = 404;
          reply.body = error_body("not_found", "no legs of interaction " + interaction_id + " in account " + account_id,
                                  request_id);
        } else if (csv) {
          reply = csv_reply(legs.records, csv_filename("cdrs-" + account_id + "-legs-" + interaction_id));
        } else {
          reply.body = list_body(legs, "", request_id);
        }
        return reply;
      };
    } else {
      const std::string cdr_id = seg[3];
      query = [account_id, cdr_id, request_id, csv](CdrStore& store) {
        RouteReply reply;
        if (auto record = store.get(account_id, cdr_id)) {
          if (csv) return csv_reply({*record}, csv_filename("cdr-" + account_id + "-" + cdr_id));
          reply.body = data_envelope(*record, request_id);
        } else {
          reply.status = 404;
          reply.body = error_body("not_found", "no CDR " + cdr_id + " in account " + account_id, request_id);
        }
        return reply;
      };
    }
  }
  service.submit(*this, req, request_id, grant, std::move(query));
}

}  // namespace cdrd
