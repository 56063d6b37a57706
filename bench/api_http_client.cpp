#include "bench/api_http_client.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

namespace cdrd {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Exchange {
  event_base* base = nullptr;
  const BenchHttpClient::ChunkSink* on_chunk = nullptr;
  Clock::time_point sent_at;
  BenchReply reply;
  bool headers_seen = false;
};

void take_body(evhttp_request* req, Exchange* x) {
  evbuffer* input = evhttp_request_get_input_buffer(req);
  const size_t length = evbuffer_get_length(input);
  if (length == 0) return;
  x->reply.bytes += length;
  if (x->on_chunk != nullptr && *x->on_chunk) {
    // Walk the buffer's segments without copying them into one block.
    const int n = evbuffer_peek(input, -1, nullptr, nullptr, 0);
    std::vector<evbuffer_iovec> segments(static_cast<size_t>(n));
    evbuffer_peek(input, -1, nullptr, segments.data(), n);
    for (const auto& s : segments) (*x->on_chunk)(static_cast<const char*>(s.iov_base), s.iov_len);
    evbuffer_drain(input, length);
  } else {
    const size_t old = x->reply.body.size();
    x->reply.body.resize(old + length);
    evbuffer_remove(input, x->reply.body.data() + old, length);
  }
}

int on_headers(evhttp_request* req, void* arg) {
  auto* x = static_cast<Exchange*>(arg);
  x->headers_seen = true;
  x->reply.header_ms = ms_since(x->sent_at);
  if (const char* type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type")) {
    x->reply.content_type = type;
  }
  return 0;
}

// libevent drains the input buffer itself after this callback; take_body
// has consumed it already.
void on_chunk(evhttp_request* req, void* arg) { take_body(req, static_cast<Exchange*>(arg)); }

void on_done(evhttp_request* req, void* arg) {
  auto* x = static_cast<Exchange*>(arg);
  x->reply.total_ms = ms_since(x->sent_at);
  // No request, or one without a status: the connection failed first.
  x->reply.status = req != nullptr ? evhttp_request_get_response_code(req) : 0;
  if (req != nullptr) take_body(req, x);
  event_base_loopbreak(x->base);
}

}  // namespace

BenchHttpClient::BenchHttpClient(const std::string& host, int port, int request_timeout_s)
    : host_header_(host + ":" + std::to_string(port)) {
  base_ = event_base_new();
  if (base_ == nullptr) return;
  connection_ = evhttp_connection_base_new(base_, nullptr, host.c_str(), static_cast<uint16_t>(port));
  if (connection_ != nullptr) evhttp_connection_set_timeout(connection_, request_timeout_s);
}

BenchHttpClient::~BenchHttpClient() {
  if (connection_ != nullptr) evhttp_connection_free(connection_);
  if (base_ != nullptr) event_base_free(base_);
}

BenchReply BenchHttpClient::get(const std::string& target, const Headers& headers, const ChunkSink& on_chunk_sink) {
  Exchange x;
  x.base = base_;
  x.on_chunk = &on_chunk_sink;
  evhttp_request* req = evhttp_request_new(&on_done, &x);
  evhttp_request_set_header_cb(req, &on_headers);
  evhttp_request_set_chunked_cb(req, &on_chunk);
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Host", host_header_.c_str());
  for (const auto& [name, value] : headers) evhttp_add_header(out, name.c_str(), value.c_str());
  x.sent_at = Clock::now();
  // On failure libevent has already freed the request.
  if (evhttp_make_request(connection_, req, EVHTTP_REQ_GET, target.c_str()) != 0) return x.reply;
  event_base_dispatch(base_);
  return x.reply;
}

}  // namespace cdrd
