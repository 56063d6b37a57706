// libevent 2.1 refuses some requests itself, before cdrd's handler sees them,
// with an HTML page (evhttp_send_error): a malformed request line or header,
// headers over limits.max_header_bytes (400), a body over
// limits.max_body_bytes, announced by Content-Length or reached by chunks
// (413), an Expect it does not know (417). 2.1 has no hook for those pages
// (no evhttp_set_errorcb, no new-request callback to reach the request
// first), so HttpErrorJson rewrites them on their way out: it watches the
// connection's output buffer, recognises a reply that libevent made (cdrd
// itself never answers text/html) once its head and body are in the buffer,
// and replaces it with the contract's error body {"code","message",
// "request_id"}, same status line, with X-Request-Id and Connection: close
// (libevent closes the connection after these replies anyway).
//
// This works because evhttp writes a reply whole into the bufferevent's
// output buffer (head line by line, then the body) before enabling writing:
// nothing of it has reached the socket (nor a TLS layer) when it is
// rewritten. A reply that does not match is left exactly as it is.
#pragma once

#include <event2/buffer.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace cdrd {

// The JSON reply standing for `libevent_reply` (head and body), or "" when
// that is not one of libevent's HTML error pages.
std::string json_for_libevent_error(std::string_view libevent_reply, uint64_t max_body_bytes,
                                    const std::string& request_id);

class HttpErrorJson {
 public:
  HttpErrorJson() = default;
  ~HttpErrorJson() { detach(); }
  HttpErrorJson(const HttpErrorJson&) = delete;
  HttpErrorJson& operator=(const HttpErrorJson&) = delete;

  // Watches `output` (a connection's bufferevent output buffer) until
  // detach(), which must come before the buffer is freed. Each rewrite adds
  // one to *rewritten.
  void attach(evbuffer* output, uint64_t max_body_bytes, std::atomic<uint64_t>* rewritten);
  void detach();

 private:
  enum class State { kIdle, kHead };
  static void on_output(evbuffer* buf, const evbuffer_cb_info* info, void* self);
  void check(evbuffer* buf);

  evbuffer* output_ = nullptr;
  evbuffer_cb_entry* entry_ = nullptr;
  uint64_t max_body_bytes_ = 0;
  std::atomic<uint64_t>* rewritten_ = nullptr;
  State state_ = State::kIdle;
  bool rewriting_ = false;
};

}  // namespace cdrd
