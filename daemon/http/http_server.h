// HttpServer: the evhttp front of cdrd, on the ingest loop thread. It owns
// the listeners (http_listener.h, TLS), the connection limits and request
// deadlines (connection_gate.h), and answers the operations routes itself:
//
//   GET /healthz /readyz /metrics  -> answered inline
//   /ingest/...                     -> the ingest handlers (daemon/ingest)
//   everything else                 -> the read API handlers (daemon/api)
//
// A handler (route_handler.h) answers at once or later, from a closure
// posted through the LoopTaskQueue. Every evhttp object is touched only on
// the loop thread.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/http/http_listener.h"
#include "daemon/http/route_handler.h"

namespace cdrd {

class ConnectionGate;  // connection_gate.h
struct Metrics;

// The transport's part of the configuration; swapped whole on reload.
struct HttpSettings {
  uint64_t max_body_bytes = 4u << 20;
  uint64_t max_header_bytes = 64u << 10;
  int request_timeout_s = 30;
  int max_connections = 4096;  // open connections, all listeners together
};
std::shared_ptr<const HttpSettings> make_http_settings(const Config& config);

class HttpServer {
 public:
  struct Parts {
    event_base* base = nullptr;
    Metrics* metrics = nullptr;
    // /readyz: true when ready; otherwise *why says what is not.
    std::function<bool(std::string* why)> readiness;
    // /readyz: the state of the input links as JSON members to add to the
    // reply (e.g. "esl":{"fs1":"connected"}), "" for none. Optional.
    std::function<std::string()> input_links;
  };

  explicit HttpServer(Parts parts);
  ~HttpServer();

  // Binds every listener (http_listener.h: listen.http, and listen.api when
  // set, each with its TLS pair if any). False with *error naming the key and
  // the address or file.
  bool listen(const std::vector<ListenerSpec>& listeners, std::shared_ptr<const HttpSettings> settings,
              std::string* error);
  // Loop thread. Limits and keys apply to new requests.
  void apply(std::shared_ptr<const HttpSettings> settings);

  // Loop thread. `handler` takes the requests of `family` that no handler
  // added before it took; it must outlive the server.
  void add_handler(RouteFamily family, RouteHandler* handler);
  // Loop thread. Every handler refuses new work from now on.
  void start_draining();
  // Requests taken by the handlers and not yet answered.
  int in_flight() const;
  // Every request answered and every answer written to its socket: a drain
  // that stopped the loop at in_flight() == 0 could drop a reply still in
  // its connection's output buffer.
  bool idle() const;
  // The connection limits and deadlines; handlers' streamed replies watch
  // their connection's close through it (stream_reply.h).
  ConnectionGate* gate() { return gate_.get(); }
  // The port of listen.http, and of listen.api (= bound_port() when the read
  // API shares listen.http); 0 before listen().
  int bound_port() const { return listeners_.empty() ? 0 : listeners_.front()->port(); }
  int api_port() const;

 private:
  void route(evhttp_request* req, const HttpListener& from);
  // Answers 404 for a route another listener serves; false when `from` serves it.
  bool refuse_elsewhere(evhttp_request* req, const HttpListener& from, RouteFamily family,
                        const std::string& request_id);

  Parts parts_;
  // Connection count and request deadlines of every listener; declared before
  // listeners_ so that it outlives their connections' close callbacks.
  std::unique_ptr<ConnectionGate> gate_;
  std::vector<std::unique_ptr<HttpListener>> listeners_;  // listen.http first
  std::shared_ptr<const HttpSettings> settings_;
  std::vector<std::pair<RouteFamily, RouteHandler*>> handlers_;
};

}  // namespace cdrd
