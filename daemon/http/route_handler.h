// RouteHandler: a family of routes above the transport. HttpServer
// (transport: listeners, TLS, limits, health routes) hands every request of a
// family to its handlers in order, on the loop thread; the first that claims
// the path answers it, at once or later through the LoopTaskQueue. Ingest
// (daemon/ingest) and the read API (daemon/api) are handlers; the transport
// knows neither.
#pragma once

#include <event2/http.h>

#include <string>

namespace cdrd {

class RouteHandler {
 public:
  virtual ~RouteHandler() = default;
  // Loop thread. True when this handler took the request (it answers it).
  virtual bool handle(evhttp_request* req, const std::string& path, const std::string& request_id) = 0;
  // Loop thread. From now on new work is refused (503 shutting_down) and
  // streamed replies are cut short; work taken before is finished.
  virtual void start_draining() = 0;
  // Loop thread. Requests taken and not yet answered.
  virtual int in_flight() const = 0;
  // Loop thread, before the listeners are freed (evhttp_free frees every
  // request with its connection): touch no request from now on.
  virtual void forget_requests() {}
};

}  // namespace cdrd
