// Small helpers for answering evhttp requests. Loop thread only.
#pragma once

#include <event2/http.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace cdrd {

// A process-unique request id ("<hex time>-<counter>"), echoed in every
// reply body and the X-Request-Id header so a log line can be found from it.
std::string new_request_id();

// Sends `body` with `status` and Content-Type, plus X-Request-Id.
void send_body(evhttp_request* req, int status, std::string_view content_type, std::string_view body,
               const std::string& request_id);

// The error body of the contract: {"code", "message", "request_id"}.
std::string error_body(std::string_view code, std::string_view message, const std::string& request_id);
void send_error(evhttp_request* req, int status, std::string_view code, std::string_view message,
                const std::string& request_id);

// The request body as one contiguous string.
std::string request_body(evhttp_request* req);

// "address:port" of the client, or "" when unknown.
std::string request_peer(evhttp_request* req);
// The client's address alone (the TCP peer's, never a forwarded header), or
// "" when unknown.
std::string request_peer_address(evhttp_request* req, uint16_t* port = nullptr);

// A header of the request, or "" when absent.
std::string request_header(evhttp_request* req, const char* name);

}  // namespace cdrd
