// HttpServer: the evhttp front of cdrd, on the ingest loop thread.
//
//   POST /ingest/freeswitch/json   -> decode, normalize -> Spool::append; 200
//   POST /ingest/freeswitch/xml       from the spool's durable callback (via
//                                     LoopTaskQueue). One ingest path; each
//                                     route only names its decoder and normalizer.
//   POST /ingest/cdr               -> canonical CDRs (JSON, array, NDJSON, CSV),
//                                     one append per good row; 200 when all are
//                                     durable (import_route.cpp)
//   GET  /v{1,2}/accounts/...      -> parsed and authorized here, queried on
//                                     the ReadPool, answered via LoopTaskQueue
//   GET  /healthz /readyz /metrics -> answered inline
//
// Every evhttp object is touched only on the loop thread; the other threads
// only post closures back through the LoopTaskQueue.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/freeswitch/normalize.h"
#include "daemon/config/config.h"
#include "daemon/http/api_auth.h"
#include "daemon/http/http_listener.h"
#include "daemon/http/ingest_guard.h"

namespace cdrd {

struct IngestRoute;  // http_server.cpp
struct ExportPlan;   // cdr_export.h
class ApiGrant;      // api_access.h
class CdrStore;
class StreamReply;     // stream_reply.h
class ConnectionGate;  // connection_gate.h
class LoopTaskQueue;
class ReadPool;
class TokenSigner;
class RejectStore;
class Spool;
struct Metrics;

// What the server needs from the configuration; swapped whole on reload.
struct HttpSettings {
  uint64_t max_body_bytes = 4u << 20;
  uint64_t max_header_bytes = 64u << 10;
  int request_timeout_s = 30;
  int max_connections = 4096;  // open connections, all listeners together
  // Ingest routes only: user -> password for HTTP basic auth ({} = none), and
  // the CIDRs allowed to post ([] = any), as configured.
  std::map<std::string, std::string> ingest_basic_auth;
  std::vector<std::string> ingest_allow_from;
  IngestGuard ingest_guard;  // the two above, parsed (ingest_guard.h)
  NormalizeOptions normalize;
  ApiAuth auth{{}};
  // Auth tokens (PUT /v2/api_auth): their signer, null when no token key was
  // given (then tokens are neither issued nor accepted), and their lifetime.
  std::shared_ptr<const TokenSigner> tokens;
  int token_ttl_s = 3600;
  int max_exports = 2;  // streamed reads (paginate=false, CSV) at once; more get 429
};
// `token_key`: the HMAC key of auth tokens (daemon/auth/token_key.h).
std::shared_ptr<const HttpSettings> make_http_settings(const Config& config, const std::string& token_key = "");

class HttpServer {
 public:
  struct Parts {
    event_base* base = nullptr;
    LoopTaskQueue* loop_queue = nullptr;
    Spool* spool = nullptr;
    RejectStore* rejects = nullptr;
    ReadPool* reads = nullptr;
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

  // Loop thread. From now on ingest answers 503 (we are stopping), and the
  // streamed reads in progress are cut short.
  void start_draining();
  // Ingest requests accepted but not yet answered.
  int in_flight() const { return in_flight_; }
  // Every request answered and every answer written to its socket: a drain
  // that stopped the loop at in_flight() == 0 could drop a reply still in
  // its connection's output buffer.
  bool idle() const;
  // The port of listen.http, and of listen.api (= bound_port() when the read
  // API shares listen.http); 0 before listen().
  int bound_port() const { return listeners_.empty() ? 0 : listeners_.front()->port(); }
  int api_port() const;

 private:
  void route(evhttp_request* req, const HttpListener& from);
  // Answers 404 for a route another listener serves; false when `from` serves it.
  bool refuse_elsewhere(evhttp_request* req, const HttpListener& from, RouteFamily family,
                        const std::string& request_id);
  // ingest.allow_from and ingest.basic_auth; false when refused (answered).
  bool admit_ingest(evhttp_request* req, const std::string& request_id);
  void handle_ingest(evhttp_request* req, const std::string& request_id, const IngestRoute& route);
  void handle_api(evhttp_request* req, const std::string& path, const std::string& request_id);
  void handle_api_auth(evhttp_request* req, const std::string& request_id);  // api_token_route.cpp
  // A streamed read (api_routes.cpp): counted against max_exports.
  void handle_export(evhttp_request* req, const std::string& request_id, const ApiGrant& grant,
                     const std::shared_ptr<const ExportPlan>& plan);
  void handle_import(evhttp_request* req, const std::string& request_id);  // import_route.cpp
  // Loop thread (api_routes.cpp): hands a job to the read pool, counted in
  // in_flight_ until its reply is sent; false when the pool's queue is full,
  // then refuse_read() answers 503 too_many_requests with Retry-After.
  bool submit_read(std::function<void(CdrStore& store)> job);
  void refuse_read(evhttp_request* req, const std::string& request_id);
  void reject(evhttp_request* req, const std::string& request_id, int status, const std::string& code,
              const std::string& message, const std::string& route, std::string body);
  void finish_ingest(evhttp_request* req, const std::string& request_id, int status, const std::string& body);

  Parts parts_;
  // Connection count and request deadlines of every listener; declared before
  // listeners_ so that it outlives their connections' close callbacks.
  std::unique_ptr<ConnectionGate> gate_;
  std::vector<std::unique_ptr<HttpListener>> listeners_;  // listen.http first
  std::shared_ptr<const HttpSettings> settings_;
  bool draining_ = false;
  int in_flight_ = 0;
  std::set<std::shared_ptr<StreamReply>> streams_;  // streamed reads in progress
};

}  // namespace cdrd
