#include "daemon/http/http_reply.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace cdrd {

std::string new_request_id() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t boot = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%llx-%x-%llx", static_cast<unsigned long long>(boot),
                static_cast<unsigned>(getpid()), static_cast<unsigned long long>(++counter));
  return buf;
}

void send_body(evhttp_request* req, int status, std::string_view content_type, std::string_view body,
               const std::string& request_id) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", std::string(content_type).c_str());
  evhttp_add_header(headers, "X-Request-Id", request_id.c_str());
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(req, status, nullptr, buf);
  evbuffer_free(buf);
}

std::string error_body(std::string_view code, std::string_view message, const std::string& request_id) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("code");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.Key("request_id");
  w.String(request_id);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

void send_error(evhttp_request* req, int status, std::string_view code, std::string_view message,
                const std::string& request_id) {
  send_body(req, status, "application/json", error_body(code, message, request_id), request_id);
}

std::string request_body(evhttp_request* req) {
  evbuffer* in = evhttp_request_get_input_buffer(req);
  const size_t n = evbuffer_get_length(in);
  std::string body(n, '\0');
  if (n > 0) evbuffer_copyout(in, body.data(), n);
  return body;
}

std::string request_header(evhttp_request* req, const char* name) {
  const char* v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
  return v ? v : "";
}

std::string request_peer_address(evhttp_request* req, uint16_t* port) {
  evhttp_connection* conn = evhttp_request_get_connection(req);
  if (!conn) return "";
  char* addr = nullptr;
  uint16_t p = 0;
  evhttp_connection_get_peer(conn, &addr, &p);
  if (port) *port = p;
  return addr ? std::string(addr) : "";
}

std::string request_peer(evhttp_request* req) {
  uint16_t port = 0;
  const std::string address = request_peer_address(req, &port);
  return address.empty() ? "" : address + ":" + std::to_string(port);
}

}  // namespace cdrd
