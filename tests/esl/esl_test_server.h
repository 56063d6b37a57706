// EslTestServer: the server side of FreeSWITCH's mod_event_socket (inbound
// mode) on 127.0.0.1, for tests and the ESL benchmark. One thread, blocking
// sockets, one client connection at a time (cdrd opens one per node).
//
// Per connection it follows a script (the next one queued, else the default):
// send "Content-Type: auth/request", check `auth <password>` (answer
// "+OK accepted", or "-ERR invalid" and close, as FreeSWITCH does), answer
// `event ...` with "+OK event listener enabled", then send the script's bytes
// in chunks of chosen sizes with optional delays, and then stay open, close,
// or (silent script) never say anything at all.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cdrd::test {

// One block of bytes sent after the subscription.
struct EslSend {
  std::string bytes;
  // Sizes of the write() calls, used in turn (cycled); empty = one write.
  std::vector<size_t> chunks;
  // When > 0: random chunk sizes in [1, random_max_chunk] from `seed`.
  size_t random_max_chunk = 0;
  uint32_t seed = 1;
  std::chrono::microseconds delay_between_chunks{0};
  std::chrono::milliseconds delay_before{0};
};

struct EslSessionScript {
  // Send nothing at all (not even auth/request) and ignore what comes in.
  bool silent = false;
  std::vector<EslSend> after_subscribe;
  // For long streams (the benchmark): called with 0, 1, 2, ... after the
  // blocks above until it returns false; each string is written whole.
  std::function<bool(uint64_t index, std::string* bytes)> generator;
  // After the blocks: close the connection (e.g. mid-frame, when the last
  // block is a partial frame) instead of staying open.
  bool close_after = false;
};

// "Content-Length: N\nContent-Type: text/event-plain\n\n" + body: an event
// as mod_event_socket frames it. `body` is the event's header lines; a
// missing final blank line is added (FreeSWITCH ends the headers with one).
std::string frame_plain_event(const std::string& body);
// A HEARTBEAT event frame.
std::string heartbeat_event_frame();
// What FreeSWITCH sends before it closes a connection.
std::string disconnect_notice_frame();

class EslTestServer {
 public:
  EslTestServer();
  ~EslTestServer();  // stop()
  EslTestServer(const EslTestServer&) = delete;
  EslTestServer& operator=(const EslTestServer&) = delete;

  // Listens on 127.0.0.1:`port` (0 = a random free port) and starts the
  // thread. False if the port cannot be bound.
  bool start(int port = 0);
  // Closes the listener and the current connection, joins the thread. The
  // counters and recorded commands are kept (start() again = a restart).
  void stop();
  int port() const { return port_; }

  void set_password(const std::string& password);
  // Queues the script of the next connection not yet accepted.
  void add_session(EslSessionScript script);
  // Used for connections once the queue is empty.
  void set_default_session(EslSessionScript script);

  int connections() const { return connections_.load(); }
  int auth_attempts() const { return auth_attempts_.load(); }
  int auth_failures() const { return auth_failures_.load(); }
  // Every command received ("auth ClueCon", "event plain ..."), in order.
  std::vector<std::string> commands() const;
  // The generator's blocks written so far on any connection, and when the
  // first and the last of them were written.
  uint64_t generated_sent() const { return generated_sent_.load(); }
  std::chrono::steady_clock::time_point first_generated_at() const;
  std::chrono::steady_clock::time_point last_generated_at() const;

 private:
  void run();
  void serve(int fd, const EslSessionScript& script);
  bool send_all(int fd, const char* data, size_t size);
  bool send_block(int fd, const EslSend& block);
  // Reads one command (up to "\n\n"). False on EOF, error or stop.
  bool read_command(int fd, std::string* pending, std::string* command);
  bool stopping() const { return stop_.load(); }

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mu_;
  std::string password_ = "ClueCon";                            // guarded by mu_
  std::deque<EslSessionScript> sessions_;                       // guarded by mu_
  EslSessionScript default_session_;                            // guarded by mu_
  std::vector<std::string> commands_;                           // guarded by mu_
  std::chrono::steady_clock::time_point first_generated_at_{};  // guarded by mu_
  std::chrono::steady_clock::time_point last_generated_at_{};   // guarded by mu_

  std::atomic<int> connections_{0};
  std::atomic<int> auth_attempts_{0};
  std::atomic<int> auth_failures_{0};
  std::atomic<uint64_t> generated_sent_{0};
};

}  // namespace cdrd::test
