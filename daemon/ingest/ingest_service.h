// IngestService: the HTTP ingest routes, a RouteHandler of HttpServer on the
// loop thread.
//
//   POST /ingest/freeswitch/json   -> decode, normalize -> Spool::append; 200
//   POST /ingest/freeswitch/xml       from the spool's durable callback (via
//                                     LoopTaskQueue). One ingest path; each
//                                     route only names its decoder and normalizer.
//   POST /ingest/cdr               -> canonical CDRs (JSON, array, NDJSON, CSV),
//                                     one append per good row; 200 when all are
//                                     durable (import_route.cpp)
//
// Bad input is answered 400 naming what is wrong, and its body is kept in the
// RejectStore first. The loop never waits on fsync or the database: the
// spool and the rejects store call back from their threads, and the reply is
// posted to the loop.
#pragma once

#include <event2/http.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/freeswitch/normalize.h"
#include "daemon/config/config.h"
#include "daemon/http/route_handler.h"
#include "daemon/ingest/ingest_guard.h"

namespace cdrd {

struct IngestRoute;  // ingest_service.cpp
class LoopTaskQueue;
class RejectStore;
class Spool;
struct Metrics;

// The ingest part of the configuration; swapped whole on reload.
struct IngestSettings {
  // User -> password for HTTP basic auth ({} = none), and the CIDRs allowed
  // to post ([] = any), as configured.
  std::map<std::string, std::string> basic_auth;
  std::vector<std::string> allow_from;
  IngestGuard guard;  // the two above, parsed (ingest_guard.h)
  NormalizeOptions normalize;
};
std::shared_ptr<const IngestSettings> make_ingest_settings(const Config& config);

class IngestService : public RouteHandler {
 public:
  struct Parts {
    LoopTaskQueue* loop_queue = nullptr;
    Spool* spool = nullptr;
    RejectStore* rejects = nullptr;
    Metrics* metrics = nullptr;
  };
  IngestService(Parts parts, std::shared_ptr<const IngestSettings> settings);

  // Loop thread. Rules and credentials apply to the next request.
  void apply(std::shared_ptr<const IngestSettings> settings) { settings_ = std::move(settings); }
  const std::shared_ptr<const IngestSettings>& settings() const { return settings_; }

  bool handle(evhttp_request* req, const std::string& path, const std::string& request_id) override;
  void start_draining() override { draining_ = true; }
  int in_flight() const override { return in_flight_; }

 private:
  // ingest.allow_from and ingest.basic_auth; false when refused (answered).
  bool admit(evhttp_request* req, const std::string& request_id);
  void handle_cdr_post(evhttp_request* req, const std::string& request_id, const IngestRoute& route);
  void handle_import(evhttp_request* req, const std::string& request_id);  // import_route.cpp
  // Keeps `body` in the rejects store, then answers `status` (503 when it
  // could not be kept: the sender must retry rather than lose it).
  void reject(evhttp_request* req, const std::string& request_id, int status, const std::string& code,
              const std::string& message, const std::string& route, std::string body);
  void finish(evhttp_request* req, const std::string& request_id, int status, const std::string& body);

  Parts parts_;
  std::shared_ptr<const IngestSettings> settings_;
  bool draining_ = false;
  int in_flight_ = 0;
};

}  // namespace cdrd
