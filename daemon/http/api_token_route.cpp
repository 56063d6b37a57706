// PUT /v2/api_auth (issue 4, item 4): not built yet.
#include "daemon/http/http_reply.h"
#include "daemon/http/http_server.h"

namespace cdrd {

void HttpServer::handle_api_auth(evhttp_request* req, const std::string& request_id) {
  send_error(req, 501, "not_implemented", "api_auth is not built yet", request_id);
}

}  // namespace cdrd
