// StreamReply: one HTTP response whose body a read-pool thread produces in
// pieces while the loop thread sends them as chunks (chunked transfer), so a
// reply of any size needs a bounded amount of memory.
//
// Producer (one read-pool thread): either reply() once, or start(), then
// write() any number of times, then finish() or abort(). write() blocks while
// more than `max_buffered` bytes are posted but not yet written to the
// socket, and returns false once the stream is cancelled: the client went
// away, the server is draining, or the read pool is stopping. The producer
// then stops and calls abort().
//
// Loop side: every evhttp call happens in closures posted through the
// LoopTaskQueue. The request's connection is watched with a close callback;
// when libevent reports it closed, the request is never written to again
// (libevent detached it; it is freed once, when the stream ends). `on_end`
// runs on the loop thread exactly once, when the reply is over, with the
// stream itself (the caller's bookkeeping may drop it there).
#pragma once

#include <event2/http.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cdrd {

class LoopTaskQueue;
class ConnectionGate;

class StreamReply : public std::enable_shared_from_this<StreamReply> {
 public:
  using Header = std::pair<std::string, std::string>;
  static constexpr size_t kDefaultMaxBuffered = 1u << 20;

  // Loop thread.
  using OnEnd = std::function<void(StreamReply& self)>;
  // `gate`: the connection's close callback belongs to it (connection_gate.h);
  // null when the connection is not tracked.
  static std::shared_ptr<StreamReply> open(evhttp_request* req, LoopTaskQueue* loop, std::string request_id,
                                           OnEnd on_end, size_t max_buffered = kDefaultMaxBuffered,
                                           ConnectionGate* gate = nullptr);
  ~StreamReply();
  StreamReply(const StreamReply&) = delete;
  StreamReply& operator=(const StreamReply&) = delete;

  // Producer thread. A whole reply instead of a stream (e.g. an error found
  // before anything was sent).
  void reply(int status, std::string content_type, std::string body, std::vector<Header> headers = {});
  // Producer thread. The status line and headers; the body follows in chunks.
  void start(int status, std::vector<Header> headers);
  // Producer thread. Queues one piece of the body; false when cancelled.
  bool write(std::string chunk);
  // Producer thread. The terminating chunk: the reply is complete.
  void finish();
  // Producer thread. Closes the connection without the terminating chunk,
  // so the client sees a truncated transfer (or, before start(), no reply).
  void abort();
  bool started() const { return started_; }

  // Any thread. write() returns false from now on, and a blocked one wakes.
  void cancel();
  bool cancelled() const;

  // Loop thread, instead of any producer call: the request was never handed
  // to a producer (it is answered otherwise); stop watching its connection.
  void discard();
  // Loop thread: the server is being freed (evhttp_free follows, which frees
  // the connection and its request): never touch the request again.
  void release();

 private:
  StreamReply(evhttp_request* req, LoopTaskQueue* loop, std::string request_id, OnEnd on_end, size_t max_buffered);

  // Loop thread.
  static void on_close(evhttp_connection* conn, void* self);
  static void on_flushed(evhttp_connection* conn, void* self);
  bool writable() const { return req_ != nullptr && !detached_; }
  void unwatch();
  void send_whole(int status, const std::string& content_type, const std::string& body,
                  const std::vector<Header>& headers);
  void send_start(int status, const std::vector<Header>& headers);
  void send_chunk(const std::string& chunk);
  void send_end(bool complete);
  void credit(size_t bytes);
  void end();

  LoopTaskQueue* const loop_;
  const std::string request_id_;
  const size_t max_buffered_;
  OnEnd on_end_;

  // Loop thread only.
  evhttp_request* req_;
  evhttp_connection* conn_;
  ConnectionGate* gate_ = nullptr;
  bool detached_ = false;  // libevent detached req_ from its closed connection; ours to free
  bool ended_ = false;
  size_t unflushed_ = 0;  // bytes handed to evhttp since the output buffer was last empty

  // Producer thread only.
  bool started_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t queued_ = 0;       // guarded by mu_: posted, not yet written to the socket
  bool cancelled_ = false;  // guarded by mu_
};

}  // namespace cdrd
