// ApiService: the read core's threads and bookkeeping, the read API's
// RouteHandler. Dialects (api_dialect.h) are mounted in the order of
// api.dialects; the first that claims a path answers it.
//
// Threads: the loop thread parses, authorizes what needs no database and
// hands a job to the ReadPool; a read-pool thread runs it on its own
// CdrStore (one pqxx::connection per thread) and posts the reply back
// through the LoopTaskQueue, where it is sent. Streamed replies
// (StreamReply) are produced on a read-pool thread and sent in chunks by
// the loop. Nothing here waits on the database on the loop thread.
#pragma once

#include <event2/http.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "daemon/api/api_dialect.h"
#include "daemon/api/api_request.h"
#include "daemon/api/api_settings.h"
#include "daemon/http/route_handler.h"

namespace cdrd {

class ApiGrant;
class CdrStore;
class ConnectionGate;
class LoopTaskQueue;
class ReadPool;
class StreamReply;
struct Metrics;

class ApiService : public RouteHandler {
 public:
  struct Parts {
    LoopTaskQueue* loop_queue = nullptr;
    ReadPool* reads = nullptr;
    Metrics* metrics = nullptr;
    ConnectionGate* gate = nullptr;  // HttpServer::gate(), for streamed replies
  };
  ApiService(Parts parts, std::shared_ptr<const ApiSettings> settings);
  ~ApiService() override;

  void mount(std::unique_ptr<ApiDialect> dialect);
  // Loop thread. Keys and limits apply to the next request.
  void apply(std::shared_ptr<const ApiSettings> settings) { settings_ = std::move(settings); }
  // Held by a job too: a SIGHUP may swap them while it runs.
  const std::shared_ptr<const ApiSettings>& settings() const { return settings_; }
  Metrics* metrics() const { return parts_.metrics; }

  bool handle(evhttp_request* req, const std::string& path, const std::string& request_id) override;
  void start_draining() override;
  int in_flight() const override { return in_flight_; }
  void forget_requests() override;
  bool draining() const { return draining_; }

  // Loop thread. Sends `reply` now (counted as an API error unless 2xx).
  void send(evhttp_request* req, const std::string& request_id, const RouteReply& reply);
  // Loop thread. The dialect's error document for `error`.
  void fail(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id, const ApiError& error);

  // Loop thread. Runs `query` on a read-pool thread after `grant` is
  // verified there, and sends what it returns; a database error becomes the
  // dialect's 503/504/500. Answers 503 at once when the read queue is full.
  using Query = std::function<RouteReply(CdrStore& store)>;
  void submit(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id, const ApiGrant& grant,
              Query query);
  // The same without an account grant (logins: the job checks credentials).
  void submit_unchecked(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id, Query query);

  // Loop thread. A streamed reply (counted against api.max_exports, 429
  // beyond): `produce` runs on a read-pool thread after the grant check and
  // writes to the stream; it returns false when the stream was cancelled.
  // It may throw pqxx errors: before anything was sent they become the
  // dialect's error reply, after that the transfer is cut.
  using Producer = std::function<bool(CdrStore& store, StreamReply& out)>;
  void stream(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id, const ApiGrant& grant,
              Producer produce);

 private:
  bool submit_job(std::function<void(CdrStore& store)> job);
  void refuse_read(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id);

  Parts parts_;
  std::shared_ptr<const ApiSettings> settings_;
  std::vector<std::unique_ptr<ApiDialect>> dialects_;
  bool draining_ = false;
  int in_flight_ = 0;
  std::set<std::shared_ptr<StreamReply>> streams_;  // streamed replies in progress
};

}  // namespace cdrd
