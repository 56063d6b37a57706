#include "daemon/http/http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string_view>

#include "daemon/auth/token_signer.h"
#include "daemon/config/normalize_options.h"
#include "daemon/core/cdr_record.h"
#include "daemon/core/metrics.h"
#include "daemon/http/connection_gate.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/http/reject_store.h"
#include "daemon/http/stream_reply.h"
#include "daemon/spool/spool.h"

namespace cdrd {

// One mod_*_cdr ingest route: everything that differs between them.
struct IngestRoute {
  const char* path;
  std::atomic<uint64_t> Metrics::*received;
  bool (*decode)(std::string_view body, std::string* document, NormalizeError* error);
  NormalizeResult (*normalize)(std::string_view document, const NormalizeOptions& options, std::string_view uuid_param);
};

namespace {

const IngestRoute kIngestRoutes[] = {
    {"/ingest/freeswitch/json", &Metrics::received_json, decode_json_cdr_body, normalize_json_cdr},
    {"/ingest/freeswitch/xml", &Metrics::received_xml, decode_xml_cdr_body, normalize_xml_cdr},
};

// mod_json_cdr and mod_xml_cdr name the leg in ?uuid= ("a_" prefix = A-leg).
std::string uuid_param_of(evhttp_request* req) {
  std::string uuid_param;
  if (const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
    evkeyvalq params;
    if (evhttp_parse_query_str(q, &params) == 0) {
      if (const char* u = evhttp_find_header(&params, "uuid")) uuid_param = u;
      evhttp_clear_headers(&params);
    }
  }
  return uuid_param;
}

}  // namespace

std::shared_ptr<const HttpSettings> make_http_settings(const Config& config, const std::string& token_key) {
  auto s = std::make_shared<HttpSettings>();
  s->max_body_bytes = config.max_body_bytes;
  s->max_header_bytes = config.max_header_bytes;
  s->request_timeout_s = config.request_timeout_s;
  s->max_connections = config.max_connections;
  s->ingest_basic_auth = config.ingest_basic_auth;
  s->ingest_allow_from = config.ingest_allow_from;
  std::string guard_error;
  if (!IngestGuard::make(config.ingest_basic_auth, config.ingest_allow_from, &s->ingest_guard, &guard_error)) {
    // The config loader refuses such a file; nothing reaches here unchecked.
    spdlog::error("{}", guard_error);
  }
  s->normalize = normalize_options_from(config);
  s->auth = ApiAuth(config.api_keys);
  if (!token_key.empty()) s->tokens = std::make_shared<const TokenSigner>(token_key);
  s->token_ttl_s = config.api_token_ttl_s;
  // An export holds its read thread while the client reads: one thread
  // always stays for paged reads.
  s->max_exports = std::max(1, std::min(config.api_max_exports, config.read_pool_size - 1));
  return s;
}

HttpServer::HttpServer(Parts parts) : parts_(std::move(parts)) {
  gate_ = std::make_unique<ConnectionGate>(parts_.base, parts_.metrics);
}

HttpServer::~HttpServer() {
  // evhttp_free() frees every connection with its request: the streams must
  // not touch theirs afterwards.
  for (const auto& stream : streams_) stream->release();
  streams_.clear();
  gate_->forget_listeners();  // evhttp_free frees them before the connections
  listeners_.clear();
}

void HttpServer::start_draining() {
  draining_ = true;
  for (const auto& stream : streams_) stream->cancel();
}

bool HttpServer::listen(const std::vector<ListenerSpec>& listeners, std::shared_ptr<const HttpSettings> settings,
                        std::string* error) {
  // The settings first: a request may arrive as soon as a socket is bound.
  settings_ = std::move(settings);
  for (const ListenerSpec& spec : listeners) {
    auto listener = HttpListener::open(
        parts_.base, spec,
        [this](evhttp_request* req, const HttpListener& from) {
          gate_->request_read(req);  // read whole: its deadline stops
          route(req, from);
        },
        gate_.get(), error);
    if (!listener) return false;
    spdlog::info("{}: listening on {} ({}{})", spec.key, spec.address,
                 spec.role == ListenerRole::kAll      ? "every route"
                 : spec.role == ListenerRole::kIngest ? "ingest"
                                                      : "read API",
                 listener->tls() ? ", TLS" : "");
    listeners_.push_back(std::move(listener));
  }
  apply(settings_);
  return true;
}

bool HttpServer::idle() const { return in_flight_ == 0 && gate_->unsent_replies() == 0; }

int HttpServer::api_port() const {
  for (const auto& l : listeners_) {
    if (l->spec().role == ListenerRole::kReadApi) return l->port();
  }
  return bound_port();
}

void HttpServer::apply(std::shared_ptr<const HttpSettings> settings) {
  settings_ = std::move(settings);
  for (const auto& l : listeners_) {
    evhttp_set_max_body_size(l->http(), static_cast<ev_ssize_t>(settings_->max_body_bytes));
    evhttp_set_max_headers_size(l->http(), static_cast<ev_ssize_t>(settings_->max_header_bytes));
    evhttp_set_timeout(l->http(), settings_->request_timeout_s);
  }
  gate_->set_limits({settings_->max_connections, settings_->request_timeout_s, settings_->max_body_bytes});
}

bool HttpServer::refuse_elsewhere(evhttp_request* req, const HttpListener& from, RouteFamily family,
                                  const std::string& request_id) {
  if (listener_serves(from.spec().role, family)) return false;
  const char* what = family == RouteFamily::kIngest ? "ingest" : "the read API";
  std::string where;
  for (const auto& l : listeners_) {
    if (listener_serves(l->spec().role, family)) where = l->spec().key + " (" + l->spec().address + ")";
  }
  send_error(req, 404, "not_found", std::string(what) + " is not served on " + from.spec().key + "; it is on " + where,
             request_id);
  return true;
}

bool HttpServer::admit_ingest(evhttp_request* req, const std::string& request_id) {
  const IngestGuard& guard = settings_->ingest_guard;
  if (!guard.limits_addresses() && !guard.needs_auth()) return true;
  const std::string peer = request_peer_address(req);
  const IngestGuard::Verdict verdict = guard.check(peer, request_header(req, "Authorization"));
  if (verdict.status == 0) return true;
  // Not a submission we accepted: counted, logged, but the body is not kept
  // in the rejects store (anyone could fill the disk with it).
  (verdict.reason == "auth" ? parts_.metrics->ingest_refused_auth : parts_.metrics->ingest_refused_address)
      .fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("refused ingest request {} from {}: {}", request_id, peer, verdict.message);
  if (verdict.status == 401) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", kIngestAuthChallenge);
  }
  send_error(req, verdict.status, verdict.code, verdict.message, request_id);
  return false;
}

void HttpServer::route(evhttp_request* req, const HttpListener& from) {
  const std::string request_id = new_request_id();
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw_path = uri ? evhttp_uri_get_path(uri) : nullptr;
  const std::string path = raw_path ? raw_path : "/";
  const auto method = evhttp_request_get_command(req);
  const RouteFamily family = route_family(path);
  if (refuse_elsewhere(req, from, family, request_id)) return;
  if (family == RouteFamily::kIngest && !admit_ingest(req, request_id)) return;

  if ((method & (EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD)) == 0) {
    send_error(req, 501, "not_implemented", "cdrd serves GET, POST, PUT and HEAD only", request_id);
    return;
  }
  for (const IngestRoute& ingest : kIngestRoutes) {
    if (path != ingest.path) continue;
    if (method != EVHTTP_REQ_POST) {
      send_error(req, 405, "method_not_allowed", "use POST for " + path, request_id);
      return;
    }
    handle_ingest(req, request_id, ingest);
    return;
  }
  if (path == "/ingest/cdr") {
    if (method != EVHTTP_REQ_POST) {
      send_error(req, 405, "method_not_allowed", "use POST for " + path, request_id);
      return;
    }
    handle_import(req, request_id);
    return;
  }
  if (path == "/healthz") {
    send_body(req, 200, "application/json", "{\"status\":\"ok\"}", request_id);
    return;
  }
  if (path == "/readyz") {
    std::string why;
    const std::string links = parts_.input_links ? parts_.input_links() : "";
    if (parts_.readiness(&why)) {
      send_body(req, 200, "application/json", "{\"status\":\"ready\"" + (links.empty() ? "" : "," + links) + "}",
                request_id);
    } else {
      send_error(req, 503, "not_ready", links.empty() ? why : why + "; inputs: {" + links + "}", request_id);
    }
    return;
  }
  if (path == "/metrics") {
    send_body(req, 200, "text/plain; version=0.0.4", parts_.metrics->render(), request_id);
    return;
  }
  handle_api(req, path, request_id);
}

void HttpServer::handle_ingest(evhttp_request* req, const std::string& request_id, const IngestRoute& route) {
  (parts_.metrics->*route.received).fetch_add(1, std::memory_order_relaxed);
  const auto started = std::chrono::steady_clock::now();
  if (draining_) {
    parts_.metrics->unavailable.fetch_add(1, std::memory_order_relaxed);
    send_error(req, 503, "shutting_down", "cdrd is stopping; retry", request_id);
    return;
  }
  std::string body = request_body(req);
  std::string document;
  NormalizeError error;
  if (!route.decode(body, &document, &error)) {
    reject(req, request_id, 400, error.code, error.message, route.path, std::move(body));
    return;
  }
  NormalizeResult result = route.normalize(document, settings_->normalize, uuid_param_of(req));
  if (!result.ok()) {
    reject(req, request_id, 400, result.error.code, result.error.message, route.path, std::move(body));
    return;
  }
  ++in_flight_;
  const auto status =
      parts_.spool->append(encode_spool_payload(result.record), [this, req, request_id, started](bool durable) {
        // Spool sync thread: hand the reply to the loop.
        parts_.loop_queue->post([this, req, request_id, started, durable] {
          parts_.metrics->ack_seconds.observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
          if (durable) {
            finish_ingest(req, request_id, 200, "{\"status\":\"success\",\"request_id\":\"" + request_id + "\"}");
          } else {
            parts_.metrics->unavailable.fetch_add(1, std::memory_order_relaxed);
            finish_ingest(req, request_id, 503,
                          error_body("spool_unavailable", "the spool could not store the CDR; retry", request_id));
          }
        });
      });
  if (status != Spool::AppendResult::kQueued) {
    --in_flight_;
    parts_.metrics->unavailable.fetch_add(1, std::memory_order_relaxed);
    if (status == Spool::AppendResult::kFull) {
      send_error(req, 503, "spool_full", "the spool is full (database behind); retry later", request_id);
    } else {
      send_error(req, 503, "spool_unavailable", "the spool cannot accept writes; retry later", request_id);
    }
  }
}

void HttpServer::finish_ingest(evhttp_request* req, const std::string& request_id, int status,
                               const std::string& body) {
  --in_flight_;
  // If the client went away, evhttp detached `req` and this frees it.
  send_body(req, status, "application/json", body, request_id);
}

void HttpServer::reject(evhttp_request* req, const std::string& request_id, int status, const std::string& code,
                        const std::string& message, const std::string& route, std::string body) {
  parts_.metrics->rejected.fetch_add(1, std::memory_order_relaxed);
  RejectedInput input;
  input.request_id = request_id;
  input.route = route;
  input.code = code;
  input.message = message;
  input.content_type = request_header(req, "Content-Type");
  input.remote = request_peer(req);
  input.body = std::move(body);
  ++in_flight_;
  spdlog::warn("rejected {} request {}: {}: {}", route, request_id, code, message);
  parts_.rejects->save(std::move(input), [this, req, request_id, status, code, message](bool saved) {
    parts_.loop_queue->post([this, req, request_id, status, code, message, saved] {
      if (saved) {
        finish_ingest(req, request_id, status, error_body(code, message, request_id));
      } else {
        // The payload could not be kept: make the sender retry rather than lose it.
        finish_ingest(
            req, request_id, 503,
            error_body("rejects_unavailable", message + " (and the rejects store failed; retry)", request_id));
      }
    });
  });
}

}  // namespace cdrd
