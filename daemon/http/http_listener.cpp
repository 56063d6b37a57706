#include "daemon/http/http_listener.h"

#include <event2/bufferevent.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstdlib>

#include "daemon/config/config.h"
#include "daemon/http/connection_gate.h"
#include "daemon/http/tls_context.h"

namespace cdrd {

RouteFamily route_family(std::string_view path) {
  if (path == "/ingest" || path.substr(0, 8) == "/ingest/") return RouteFamily::kIngest;
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return RouteFamily::kOperations;
  return RouteFamily::kReadApi;
}

bool listener_serves(ListenerRole role, RouteFamily family) {
  switch (role) {
    case ListenerRole::kAll:
      return true;
    case ListenerRole::kIngest:
      return family != RouteFamily::kReadApi;
    case ListenerRole::kReadApi:
      return family != RouteFamily::kIngest;
  }
  return false;
}

std::vector<ListenerSpec> listener_specs(const Config& config) {
  std::vector<ListenerSpec> out;
  const bool split = !config.listen_api.empty();
  out.push_back({"listen.http", config.listen_http, split ? ListenerRole::kIngest : ListenerRole::kAll,
                 config.listen_http_tls_cert, config.listen_http_tls_key});
  if (split) {
    out.push_back({"listen.api", config.listen_api, ListenerRole::kReadApi, config.listen_api_tls_cert,
                   config.listen_api_tls_key});
  }
  return out;
}

std::unique_ptr<HttpListener> HttpListener::open(event_base* base, const ListenerSpec& spec, Handler handler,
                                                 ConnectionGate* gate, std::string* error) {
  std::unique_ptr<HttpListener> l(new HttpListener());
  l->spec_ = spec;
  l->handler_ = std::move(handler);
  l->gate_ = gate;
  if (!spec.tls_cert.empty() || !spec.tls_key.empty()) {
    l->tls_ = TlsContext::load(spec.key, spec.tls_cert, spec.tls_key, error);
    if (!l->tls_) return nullptr;
  }
  const size_t colon = spec.address.rfind(':');
  if (colon == std::string::npos) {
    *error = spec.key + ": expected host:port, got '" + spec.address + "'";
    return nullptr;
  }
  std::string host = spec.address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = static_cast<int>(std::strtol(spec.address.c_str() + colon + 1, nullptr, 10));
  l->http_ = evhttp_new(base);
  evhttp_set_gencb(l->http_, &HttpListener::on_request, l.get());
  // Every method reaches the handler, unknown ones included (bit 15 is
  // libevent 2.1's EVHTTP_REQ_UNKNOWN_), so that the ones cdrd does not
  // serve get the JSON 501 there instead of libevent's HTML page.
  evhttp_set_allowed_methods(l->http_, 0xffff);
  evhttp_set_bevcb(l->http_, &HttpListener::make_connection, l.get());
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(l->http_, host.c_str(), static_cast<uint16_t>(port));
  if (!bound) {
    *error =
        spec.key + ": cannot listen on " + spec.address + ": " + evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    return nullptr;
  }
  // Replies are written whole: without TCP_NODELAY, Nagle holds the last
  // partial segment of a 20-64 KB reply until the client's delayed ACK, 40 ms
  // on a keep-alive connection (measured by bench/run_api_bench.sh). Linux
  // gives accepted sockets the listener's setting.
  const int one = 1;
  if (setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    spdlog::warn("{} {}: cannot set TCP_NODELAY: {}", spec.key, spec.address,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
  }
  if (l->gate_) l->gate_->add_listener(evhttp_bound_socket_get_listener(bound));
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    l->port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  return l;
}

HttpListener::~HttpListener() {
  if (http_) evhttp_free(http_);
}

bufferevent* HttpListener::make_connection(event_base* base, void* self) {
  auto* l = static_cast<HttpListener*>(self);
  bufferevent* bev = l->tls_ ? TlsContext::new_connection(base, l->tls_.get())
                             : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  return l->gate_ ? l->gate_->track(bev) : bev;
}

void HttpListener::on_request(evhttp_request* req, void* self) {
  auto* l = static_cast<HttpListener*>(self);
  l->handler_(req, *l);
}

}  // namespace cdrd
