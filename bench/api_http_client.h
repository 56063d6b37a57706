// A blocking HTTP/1.1 client for the read-API benchmark: one keep-alive
// connection (libevent's evhttp client on a private event_base), one request
// at a time, so each reply's latency is the server's alone. A streamed body
// can be handed to a callback chunk by chunk instead of being kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

struct event_base;
struct evhttp_connection;

namespace cdrd {

struct BenchReply {
  int status = 0;  // 0: no reply (connection refused, dropped or timed out)
  std::string content_type;
  std::string body;      // empty when the body went to on_chunk
  uint64_t bytes = 0;    // body bytes received
  double header_ms = 0;  // request written -> status line and headers read
  double total_ms = 0;   // request written -> whole body read
};

class BenchHttpClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  using ChunkSink = std::function<void(const char* data, size_t size)>;

  BenchHttpClient(const std::string& host, int port, int request_timeout_s);
  ~BenchHttpClient();
  BenchHttpClient(const BenchHttpClient&) = delete;
  BenchHttpClient& operator=(const BenchHttpClient&) = delete;

  bool ok() const { return connection_ != nullptr; }

  // GET `target`. With on_chunk, the body is passed on as it arrives and
  // not kept (constant memory for any size).
  BenchReply get(const std::string& target, const Headers& headers, const ChunkSink& on_chunk = {});

 private:
  std::string host_header_;
  event_base* base_ = nullptr;
  evhttp_connection* connection_ = nullptr;
};

}  // namespace cdrd
