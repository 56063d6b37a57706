// ApiDialect: one read API's names on top of the read core (the model is
// Kazoo crossbar's one module per resource over crossbar_view). A dialect
// owns its route table, query parser, row projection, envelope and error
// body; the core (api_service.h) owns the threads, the window, paging, the
// row sources (cdr_store.h) and the access check. A dialect lives in its
// own folder, daemon/api/<name>/, and is mounted by api.dialects.
#pragma once

#include <event2/http.h>

#include <string>
#include <string_view>

#include "daemon/api/api_request.h"

namespace cdrd {

class ApiService;

// One request as the core hands it to a dialect (loop thread).
struct ApiCall {
  evhttp_request* req = nullptr;
  std::string path;
  std::string request_id;
};

class ApiDialect {
 public:
  virtual ~ApiDialect() = default;
  // The name used in api.dialects.
  virtual std::string_view name() const = 0;
  // Loop thread. True when the path is this dialect's: it then answers the
  // request, at once or through service.submit()/stream().
  virtual bool handle(ApiService& service, const ApiCall& call) = 0;
  // The dialect's error document, for the errors the core answers itself
  // (the read queue is full, cdrd is stopping, the database failed).
  virtual RouteReply error_reply(const ApiError& error, const std::string& request_id) const = 0;
};

}  // namespace cdrd
