#include "daemon/http/stream_reply.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon/http/connection_gate.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/loop_task_queue.h"

namespace cdrd {

std::shared_ptr<StreamReply> StreamReply::open(evhttp_request* req, LoopTaskQueue* loop, std::string request_id,
                                               OnEnd on_end, size_t max_buffered, ConnectionGate* gate) {
  std::shared_ptr<StreamReply> s(new StreamReply(req, loop, std::move(request_id), std::move(on_end), max_buffered));
  s->gate_ = gate;
  if (s->conn_ && gate) gate->watch_close(s->conn_, &StreamReply::on_close, s.get());
  if (s->conn_ && !gate) evhttp_connection_set_closecb(s->conn_, &StreamReply::on_close, s.get());
  return s;
}

StreamReply::StreamReply(evhttp_request* req, LoopTaskQueue* loop, std::string request_id, OnEnd on_end,
                         size_t max_buffered)
    : loop_(loop),
      request_id_(std::move(request_id)),
      max_buffered_(max_buffered),
      on_end_(std::move(on_end)),
      req_(req),
      conn_(evhttp_request_get_connection(req)) {}

StreamReply::~StreamReply() = default;

void StreamReply::reply(int status, std::string content_type, std::string body, std::vector<Header> headers) {
  loop_->post([self = shared_from_this(), status, content_type = std::move(content_type), body = std::move(body),
               headers = std::move(headers)] { self->send_whole(status, content_type, body, headers); });
}

void StreamReply::start(int status, std::vector<Header> headers) {
  started_ = true;
  loop_->post([self = shared_from_this(), status, headers = std::move(headers)] { self->send_start(status, headers); });
}

bool StreamReply::write(std::string chunk) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Constant memory: wait until the socket has taken what was posted.
    cv_.wait(lock, [this] { return cancelled_ || queued_ < max_buffered_; });
    if (cancelled_) return false;
    if (chunk.empty()) return true;
    queued_ += chunk.size();
  }
  loop_->post([self = shared_from_this(), chunk = std::move(chunk)] { self->send_chunk(chunk); });
  return true;
}

void StreamReply::finish() {
  loop_->post([self = shared_from_this()] { self->send_end(true); });
}

void StreamReply::abort() {
  loop_->post([self = shared_from_this()] { self->send_end(false); });
}

void StreamReply::cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

bool StreamReply::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

// libevent closes the connection after a failed write or a write timeout:
// for a request still being answered it first detaches the request
// (evhttp_request_get_connection() is then null) and leaves freeing it to
// whoever answers it. When the whole server is freed instead, the request is
// still attached and goes with the connection.
void StreamReply::on_close(evhttp_connection*, void* arg) {
  auto* self = static_cast<StreamReply*>(arg);
  self->conn_ = nullptr;
  if (self->req_ && evhttp_request_get_connection(self->req_) == nullptr) {
    self->detached_ = true;
  } else {
    self->req_ = nullptr;
  }
  self->cancel();
}

// The connection's output buffer is empty: everything handed over so far
// reached the socket.
void StreamReply::on_flushed(evhttp_connection*, void* arg) {
  auto* self = static_cast<StreamReply*>(arg);
  self->credit(self->unflushed_);
  self->unflushed_ = 0;
}

void StreamReply::credit(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_ = bytes > queued_ ? 0 : queued_ - bytes;
  }
  cv_.notify_all();
}

void StreamReply::unwatch() {
  if (conn_ && gate_) gate_->watch_close(conn_, nullptr, nullptr);
  if (conn_ && !gate_) evhttp_connection_set_closecb(conn_, nullptr, nullptr);
}

void StreamReply::send_whole(int status, const std::string& content_type, const std::string& body,
                             const std::vector<Header>& headers) {
  if (ended_) return;
  if (writable()) {
    unwatch();
    evkeyvalq* out = evhttp_request_get_output_headers(req_);
    for (const auto& [name, value] : headers) evhttp_add_header(out, name.c_str(), value.c_str());
    send_body(req_, status, content_type, body, request_id_);
  } else if (req_ && detached_) {
    evhttp_send_reply_end(req_);  // no connection: this only frees the request
  }
  req_ = nullptr;
  conn_ = nullptr;
  end();
}

void StreamReply::send_start(int status, const std::vector<Header>& headers) {
  if (ended_ || !writable()) return;
  evkeyvalq* out = evhttp_request_get_output_headers(req_);
  for (const auto& [name, value] : headers) evhttp_add_header(out, name.c_str(), value.c_str());
  evhttp_add_header(out, "X-Request-Id", request_id_.c_str());
  evhttp_send_reply_start(req_, status, nullptr);
}

void StreamReply::send_chunk(const std::string& chunk) {
  if (ended_ || !writable()) {
    credit(chunk.size());
    return;
  }
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, chunk.data(), chunk.size());
  unflushed_ += chunk.size();
  evhttp_send_reply_chunk_with_cb(req_, buf, &StreamReply::on_flushed, this);
  evbuffer_free(buf);
}

void StreamReply::send_end(bool complete) {
  if (ended_) return;
  if (writable()) {
    unwatch();
    if (complete) {
      evhttp_send_reply_end(req_);  // the terminating chunk; evhttp frees req_ when it is written
    } else {
      // Freeing the connection frees the request with it and closes the
      // socket before the terminating chunk.
      evhttp_connection_free(conn_);
    }
  } else if (req_ && detached_) {
    evhttp_send_reply_end(req_);  // no connection: this only frees the request
  }
  req_ = nullptr;
  conn_ = nullptr;
  end();
}

void StreamReply::discard() {
  unwatch();
  req_ = nullptr;
  conn_ = nullptr;
  ended_ = true;
}

void StreamReply::release() {
  cancel();
  if (ended_) return;
  unwatch();
  if (req_ && detached_) evhttp_send_reply_end(req_);
  req_ = nullptr;
  conn_ = nullptr;
  ended_ = true;
}

void StreamReply::end() {
  if (ended_) return;
  ended_ = true;
  cancel();  // a producer still writing (after reply()) stops
  if (on_end_) {
    auto on_end = std::move(on_end_);
    on_end(*this);
  }
}

}  // namespace cdrd
