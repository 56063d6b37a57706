#include "daemon/ingest/ingest_service.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <string_view>

#include "daemon/config/normalize_options.h"
#include "daemon/core/cdr_record.h"
#include "daemon/core/metrics.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/ingest/reject_store.h"
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

std::shared_ptr<const IngestSettings> make_ingest_settings(const Config& config) {
  auto s = std::make_shared<IngestSettings>();
  s->basic_auth = config.ingest_basic_auth;
  s->allow_from = config.ingest_allow_from;
  std::string guard_error;
  if (!IngestGuard::make(config.ingest_basic_auth, config.ingest_allow_from, &s->guard, &guard_error)) {
    // The config loader refuses such a file; nothing reaches here unchecked.
    spdlog::error("{}", guard_error);
  }
  s->normalize = normalize_options_from(config);
  return s;
}

IngestService::IngestService(Parts parts, std::shared_ptr<const IngestSettings> settings)
    : parts_(parts), settings_(std::move(settings)) {}

bool IngestService::handle(evhttp_request* req, const std::string& path, const std::string& request_id) {
  const IngestRoute* cdr_route = nullptr;
  for (const IngestRoute& r : kIngestRoutes) {
    if (path == r.path) cdr_route = &r;
  }
  if (cdr_route == nullptr && path != "/ingest/cdr") return false;
  if (!admit(req, request_id)) return true;
  if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
    send_error(req, 405, "method_not_allowed", "use POST for " + path, request_id);
    return true;
  }
  if (cdr_route != nullptr) {
    handle_cdr_post(req, request_id, *cdr_route);
  } else {
    handle_import(req, request_id);
  }
  return true;
}

bool IngestService::admit(evhttp_request* req, const std::string& request_id) {
  const IngestGuard& guard = settings_->guard;
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

void IngestService::handle_cdr_post(evhttp_request* req, const std::string& request_id, const IngestRoute& route) {
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
            finish(req, request_id, 200, "{\"status\":\"success\",\"request_id\":\"" + request_id + "\"}");
          } else {
            parts_.metrics->unavailable.fetch_add(1, std::memory_order_relaxed);
            finish(req, request_id, 503,
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

void IngestService::finish(evhttp_request* req, const std::string& request_id, int status, const std::string& body) {
  --in_flight_;
  // If the client went away, evhttp detached `req` and this frees it.
  send_body(req, status, "application/json", body, request_id);
}

void IngestService::reject(evhttp_request* req, const std::string& request_id, int status, const std::string& code,
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
        finish(req, request_id, status, error_body(code, message, request_id));
      } else {
        // The payload could not be kept: make the sender retry rather than lose it.
        finish(req, request_id, 503,
               error_body("rejects_unavailable", message + " (and the rejects store failed; retry)", request_id));
      }
    });
  });
}

}  // namespace cdrd
