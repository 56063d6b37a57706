// PgProxy: a TCP proxy between cdrd and PostgreSQL that can cut a connection
// in the middle of a COPY. It follows the client->server framing of the
// PostgreSQL protocol (startup, SSLRequest and GSSENCRequest packets carry no
// type byte; every later message is a type byte plus an int32 length that
// counts itself), so that "mid-CopyData" is a fact, not a timing guess: once
// armed, the next CopyData ('d') message is forwarded only half-way and then
// both sides of that connection are closed. Only the batch writer sends
// CopyData, so the read API's connections through the proxy are never cut.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cdrd::test {

class PgProxy {
 public:
  // Forwards 127.0.0.1:<port()> to 127.0.0.1:`upstream_port`.
  explicit PgProxy(int upstream_port);
  ~PgProxy();  // closes every connection, joins every thread
  PgProxy(const PgProxy&) = delete;
  PgProxy& operator=(const PgProxy&) = delete;

  bool start();  // false if it cannot listen
  int port() const { return port_; }

  // The next CopyData message on any connection is cut half-way.
  void arm_cut() { armed_.store(true); }
  bool armed() const { return armed_.load(); }
  // Connections cut so far (each in the middle of a CopyData message).
  int cuts() const { return cuts_.load(); }

 private:
  struct Link;
  void accept_loop();
  void pump_client(const std::shared_ptr<Link>& link);  // client -> server, parsed
  void pump_server(const std::shared_ptr<Link>& link);  // server -> client, as is

  int upstream_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> armed_{false};
  std::atomic<int> cuts_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Link>> links_;  // guarded by mu_
  std::vector<std::thread> threads_;          // guarded by mu_
};

}  // namespace cdrd::test
