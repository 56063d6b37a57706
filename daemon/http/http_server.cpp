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
#include <string_view>

#include "daemon/core/metrics.h"
#include "daemon/http/connection_gate.h"
#include "daemon/http/http_reply.h"

namespace cdrd {

std::shared_ptr<const HttpSettings> make_http_settings(const Config& config) {
  auto s = std::make_shared<HttpSettings>();
  s->max_body_bytes = config.max_body_bytes;
  s->max_header_bytes = config.max_header_bytes;
  s->request_timeout_s = config.request_timeout_s;
  s->max_connections = config.max_connections;
  return s;
}

HttpServer::HttpServer(Parts parts) : parts_(std::move(parts)) {
  gate_ = std::make_unique<ConnectionGate>(parts_.base, parts_.metrics);
}

HttpServer::~HttpServer() {
  // evhttp_free() frees every connection with its request: the handlers
  // must not touch theirs afterwards.
  for (const auto& [family, handler] : handlers_) handler->forget_requests();
  gate_->forget_listeners();  // evhttp_free frees them before the connections
  listeners_.clear();
}

void HttpServer::add_handler(RouteFamily family, RouteHandler* handler) { handlers_.emplace_back(family, handler); }

void HttpServer::start_draining() {
  for (const auto& [family, handler] : handlers_) handler->start_draining();
}

int HttpServer::in_flight() const {
  int n = 0;
  for (const auto& [family, handler] : handlers_) n += handler->in_flight();
  return n;
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

bool HttpServer::idle() const { return in_flight() == 0 && gate_->unsent_replies() == 0; }

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

void HttpServer::route(evhttp_request* req, const HttpListener& from) {
  const std::string request_id = new_request_id();
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw_path = uri ? evhttp_uri_get_path(uri) : nullptr;
  const std::string path = raw_path ? raw_path : "/";
  const auto method = evhttp_request_get_command(req);
  const RouteFamily family = route_family(path);
  if (refuse_elsewhere(req, from, family, request_id)) return;

  // OPTIONS only for the read API's CORS preflights (api.cors_origins).
  const auto served = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD |
                      (family == RouteFamily::kReadApi ? EVHTTP_REQ_OPTIONS : 0);
  if ((method & served) == 0) {
    send_error(req, 501, "not_implemented", "cdrd serves GET, POST, PUT and HEAD (and OPTIONS on the read API) only",
               request_id);
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
  for (const auto& [handler_family, handler] : handlers_) {
    if (handler_family == family && handler->handle(req, path, request_id)) return;
  }
  send_error(req, 404, "not_found", "no route for " + path, request_id);
}

}  // namespace cdrd
