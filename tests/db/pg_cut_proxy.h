// A TCP proxy in front of the test PostgreSQL that loses one COMMIT reply:
// after it has forwarded a client's "INSERT INTO cdrs (" or "COPY cdrs (" statement, the next
// simple-query COMMIT goes through to the server, the server's answer is
// read and thrown away, and both sockets are closed. The client is left with
// a committed transaction it never heard of: libpqxx's in_doubt_error.
// Every connection after that is forwarded untouched. 127.0.0.1 only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cdrd::test {

class PgCutProxy {
 public:
  explicit PgCutProxy(int server_port) : server_port_(server_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~PgCutProxy() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : pumps_) t.join();
    close(listen_fd_);
  }

  PgCutProxy(const PgCutProxy&) = delete;
  PgCutProxy& operator=(const PgCutProxy&) = delete;

  int port() const { return port_; }
  // `base` (a key=value DSN of the test server) through the proxy: libpq
  // takes the last value of a repeated keyword.
  std::string dsn(const std::string& base) const {
    return base + " host=127.0.0.1 port=" + std::to_string(port_) + " sslmode=disable gssencmode=disable";
  }
  bool cut() const { return cut_.load(); }

 private:
  static bool send_all(int fd, const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  static uint32_t be32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return ntohl(v);
  }

  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      pumps_.emplace_back([this, client] { pump(client); });
    }
  }

  // Forwards complete client messages one by one (so it can look at each),
  // server bytes as they come.
  void pump(int client) {
    const int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(server_port_));
    if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(server);
      close(client);
      return;
    }
    std::string pending;   // client bytes not yet forwarded
    bool started = false;  // the startup message has no type byte
    char buf[65536];
    while (!stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (poll(fds, 2, 50) <= 0) continue;
      if (fds[1].revents != 0) {
        const ssize_t n = recv(server, buf, sizeof buf, 0);
        if (n <= 0 || !send_all(client, buf, static_cast<size_t>(n))) break;
      }
      if (fds[0].revents == 0) continue;
      const ssize_t n = recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      bool cut_now = false;
      while (true) {
        size_t total = 0;
        if (!started) {
          if (pending.size() < 4) break;
          total = be32(pending.data());
          if (pending.size() < total) break;
          // SSLRequest / GSSENCRequest (80877103/4) come before the startup message.
          const uint32_t code = total >= 8 ? be32(pending.data() + 4) : 0;
          started = code != 80877103 && code != 80877104;
        } else {
          if (pending.size() < 5) break;
          total = 1 + be32(pending.data() + 1);
          if (pending.size() < total) break;
          if (pending[0] == 'Q') {
            const std::string query(pending.data() + 5, total - 6);  // without the NUL
            // The upsert's INSERT or the direct COPY of new rows (batch_sql.h).
            if (query.find("INSERT INTO cdrs (") != std::string::npos || query.rfind("COPY cdrs (", 0) == 0) {
              armed_ = true;
            }
            if (armed_ && !cut_ && query == "COMMIT") cut_now = true;
          }
        }
        if (!send_all(server, pending.data(), total)) break;
        pending.erase(0, total);
        if (cut_now) break;
      }
      if (cut_now) {
        // Wait for the server's answer (CommandComplete) so the commit has
        // happened, then drop it.
        pollfd p{server, POLLIN, 0};
        if (poll(&p, 1, 10000) > 0) (void)recv(server, buf, sizeof buf, 0);
        cut_ = true;
        break;
      }
    }
    close(server);
    close(client);
  }

  int server_port_;
  int listen_fd_ = -1;
  int port_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> armed_{false};
  std::atomic<bool> cut_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace cdrd::test
