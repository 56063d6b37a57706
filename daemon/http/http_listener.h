// The HTTP listeners: listen.http, and listen.api when set. Each has its own
// evhttp (TLS is set per evhttp, through evhttp_set_bevcb) and a role that
// says which routes it serves; HttpServer routes the requests of all of them.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cdrd {

struct Config;
class TlsContext;
class ConnectionGate;

// What a request's path belongs to.
enum class RouteFamily { kIngest, kReadApi, kOperations };
// /ingest/... -> kIngest; /healthz, /readyz, /metrics -> kOperations; anything
// else is the read API's (which answers 404 for what it does not know).
RouteFamily route_family(std::string_view path);

enum class ListenerRole { kAll, kIngest, kReadApi };
// kOperations everywhere; ingest and the read API only where the role says.
bool listener_serves(ListenerRole role, RouteFamily family);

struct ListenerSpec {
  std::string key;      // "listen.http" or "listen.api": names it in messages
  std::string address;  // "host:port", "[v6]:port"
  ListenerRole role = ListenerRole::kAll;
  std::string tls_cert;  // both "" = plain HTTP
  std::string tls_key;
};

// listen.http alone (kAll), or listen.http (kIngest) + listen.api (kReadApi).
std::vector<ListenerSpec> listener_specs(const Config& config);

// One bound address with its own evhttp. Loop thread only.
class HttpListener {
 public:
  using Handler = std::function<void(evhttp_request* req, const HttpListener& from)>;

  // Binds spec.address (TCP_NODELAY), loading its TLS pair if any; every
  // connection it accepts is counted by `gate` (shared by all listeners,
  // outlives them). Null with *error naming the key and the address or file
  // otherwise.
  static std::unique_ptr<HttpListener> open(event_base* base, const ListenerSpec& spec, Handler handler,
                                            ConnectionGate* gate, std::string* error);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  evhttp* http() const { return http_; }
  const ListenerSpec& spec() const { return spec_; }
  int port() const { return port_; }
  bool tls() const { return tls_ != nullptr; }

 private:
  HttpListener() = default;
  static void on_request(evhttp_request* req, void* self);
  // evhttp_set_bevcb: a TLS or plain bufferevent, handed to the gate.
  static bufferevent* make_connection(event_base* base, void* self);

  ListenerSpec spec_;
  Handler handler_;
  ConnectionGate* gate_ = nullptr;
  std::unique_ptr<TlsContext> tls_;  // outlives http_: freed after it
  evhttp* http_ = nullptr;
  int port_ = 0;
};

}  // namespace cdrd
