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
#include "daemon/core/metrics.h"
#include "daemon/db/cdr_store.h"
#include "daemon/http/api_access.h"
#include "daemon/http/api_query.h"
#include "daemon/http/api_request.h"
#include "daemon/http/cdr_export.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/http_server.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/http/read_pool.h"
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

// A reply computed whole on a read-pool thread.
struct RouteReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<StreamReply::Header> headers;
};
using RouteQuery = std::function<RouteReply(CdrStore& store)>;

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

// Read-pool thread: one streamed read from the grant check to its end.
void run_export(CdrStore& store, const ApiGrant& grant, const ExportPlan& plan, StreamReply& out, Metrics* metrics) {
  try {
    if (auto denied = grant.verify(store)) {
      out.reply(denied->status, "application/json", error_body(denied->code, denied->message, plan.request_id));
      return;
    }
    if (produce_export(store, plan, out, metrics)) {
      out.finish();
      return;
    }
    metrics->api_exports_cancelled.fetch_add(1, std::memory_order_relaxed);
    out.abort();
  } catch (const std::exception& e) {
    if (!out.started()) {
      const ApiError db_err = database_error(e, plan.request_id);
      out.reply(db_err.status, "application/json", error_body(db_err.code, db_err.message, plan.request_id));
      return;
    }
    // The status line is gone: the client learns of the failure from the
    // transfer ending without its terminating chunk.
    spdlog::error("read api request {}: the streamed reply failed after it started, closing the connection: {}",
                  plan.request_id, e.what());
    metrics->api_exports_cancelled.fetch_add(1, std::memory_order_relaxed);
    out.abort();
  }
}

}  // namespace

void HttpServer::handle_export(evhttp_request* req, const std::string& request_id, const ApiGrant& grant,
                               const std::shared_ptr<const ExportPlan>& plan) {
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    parts_.metrics->api_errors.fetch_add(1, std::memory_order_relaxed);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    send_error(req, status, code, message, request_id);
  };
  if (draining_) {
    fail(503, "shutting_down", "cdrd is stopping; retry");
    return;
  }
  // Counted here, on the loop thread, so the limit holds however fast
  // requests arrive.
  if (static_cast<int>(streams_.size()) >= settings_->max_exports) {
    parts_.metrics->api_exports_refused.fetch_add(1, std::memory_order_relaxed);
    fail(429, "too_many_exports",
         std::to_string(settings_->max_exports) + " streamed reads (paginate=false or CSV) are running; retry");
    return;
  }
  std::shared_ptr<StreamReply> stream = StreamReply::open(
      req, parts_.loop_queue, request_id,
      [this](StreamReply& self) {
        --in_flight_;
        for (auto it = streams_.begin(); it != streams_.end(); ++it) {
          if (it->get() == &self) {
            streams_.erase(it);  // the closure that ended the stream still holds it
            break;
          }
        }
      },
      StreamReply::kDefaultMaxBuffered, gate_.get());
  ReadPool* pool = parts_.reads;
  Metrics* metrics = parts_.metrics;
  auto job = [pool, metrics, stream, grant, plan](CdrStore& store) {
    // Woken when the pool stops, so a producer waiting for a slow client
    // lets the pool join it.
    const uint64_t hook = pool->add_stop_hook([stream] { stream->cancel(); });
    run_export(store, grant, *plan, *stream, metrics);
    pool->remove_stop_hook(hook);
  };
  streams_.insert(stream);
  if (!submit_read(std::move(job))) {
    stream->discard();
    streams_.erase(stream);
    refuse_read(req, request_id);
    return;
  }
  parts_.metrics->api_exports.fetch_add(1, std::memory_order_relaxed);
}

void HttpServer::handle_api(evhttp_request* req, const std::string& path, const std::string& request_id) {
  parts_.metrics->api_requests.fetch_add(1, std::memory_order_relaxed);
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    parts_.metrics->api_errors.fetch_add(1, std::memory_order_relaxed);
    send_error(req, status, code, message, request_id);
  };

  std::vector<std::string> seg = split_path(path);
  if (!seg.empty() && (seg[0] == "v1" || seg[0] == "v2")) seg.erase(seg.begin());
  if (seg.size() == 1 && seg[0] == "api_auth") {
    handle_api_auth(req, request_id);
    return;
  }
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
  if (!authorize_account(*settings_, request_credential(req, params), account_id, &grant, &err)) {
    fail(err.status, err.code, err.message);
    return;
  }

  const bool csv = wants_csv(req);
  RouteQuery query;
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
      handle_export(req, request_id, grant, plan);
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
  // Runs on a read-pool thread; the reply is sent from the loop thread.
  auto job = [this, req, request_id, grant, query = std::move(query)](CdrStore& store) {
    RouteReply reply;
    try {
      if (auto denied = grant.verify(store)) {
        reply.status = denied->status;
        reply.body = error_body(denied->code, denied->message, request_id);
      } else {
        reply = query(store);
      }
    } catch (const std::exception& e) {
      const ApiError db_err = database_error(e, request_id);
      reply = RouteReply{};
      reply.status = db_err.status;
      reply.body = error_body(db_err.code, db_err.message, request_id);
    }
    parts_.loop_queue->post([this, req, request_id, reply = std::move(reply)] {
      --in_flight_;
      if (reply.status != 200) parts_.metrics->api_errors.fetch_add(1, std::memory_order_relaxed);
      evkeyvalq* headers = evhttp_request_get_output_headers(req);
      for (const auto& [name, value] : reply.headers) evhttp_add_header(headers, name.c_str(), value.c_str());
      send_body(req, reply.status, reply.content_type, reply.body, request_id);
    });
  };
  if (!submit_read(std::move(job))) refuse_read(req, request_id);
}

bool HttpServer::submit_read(std::function<void(CdrStore& store)> job) {
  ++in_flight_;
  if (parts_.reads->submit(std::move(job))) return true;
  --in_flight_;
  return false;
}

void HttpServer::refuse_read(evhttp_request* req, const std::string& request_id) {
  parts_.metrics->api_errors.fetch_add(1, std::memory_order_relaxed);
  evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
  send_error(req, 503, "too_many_requests", "too many read requests in progress; retry", request_id);
}

}  // namespace cdrd
