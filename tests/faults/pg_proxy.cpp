#include "tests/faults/pg_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace cdrd::test {
namespace {

constexpr uint32_t kSslRequest = 80877103;
constexpr uint32_t kGssEncRequest = 80877104;

uint32_t read_be32(const char* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

struct PgProxy::Link {
  int client = -1;
  int server = -1;
  // Wakes both pumps: each then sees EOF or an error and ends.
  void cut() {
    ::shutdown(client, SHUT_RDWR);
    ::shutdown(server, SHUT_RDWR);
  }
  ~Link() {
    if (client >= 0) ::close(client);
    if (server >= 0) ::close(server);
  }
};

PgProxy::PgProxy(int upstream_port) : upstream_port_(upstream_port) {}

PgProxy::~PgProxy() {
  stop_.store(true);
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& link : links_) link->cut();
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

bool PgProxy::start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 64) != 0) {
    return false;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { accept_loop(); });
  return true;
}

void PgProxy::accept_loop() {
  while (!stop_.load()) {
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) {
      if (stop_.load()) return;
      continue;
    }
    auto link = std::make_shared<Link>();
    link->client = client;
    link->server = connect_loopback(upstream_port_);
    if (link->server < 0) continue;  // PostgreSQL is down: the client sees the close, as it would
    std::lock_guard<std::mutex> lock(mu_);
    // Forget links whose pumps have both ended (only the vector holds them then).
    for (size_t i = 0; i < links_.size();) {
      if (links_[i].use_count() == 1) {
        links_.erase(links_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    links_.push_back(link);
    threads_.emplace_back([this, link] { pump_client(link); });
    threads_.emplace_back([this, link] { pump_server(link); });
  }
}

void PgProxy::pump_server(const std::shared_ptr<Link>& link) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(link->server, buf, sizeof(buf), 0);
    if (n <= 0 || !send_all(link->client, buf, static_cast<size_t>(n))) break;
  }
  link->cut();
}

void PgProxy::pump_client(const std::shared_ptr<Link>& link) {
  // Parser state: the bytes of a header not complete yet, and how much of
  // the current message's body is still to pass through.
  bool typed = false;  // false until the startup packet has gone by
  std::string header;
  uint64_t body_left = 0;
  bool in_copy_data = false;
  uint32_t untyped_code = 0;
  char buf[65536];
  for (;;) {
    const ssize_t got = ::recv(link->client, buf, sizeof(buf), 0);
    if (got <= 0) break;
    const char* p = buf;
    size_t n = static_cast<size_t>(got);
    std::string out;
    bool cut = false;
    while (n > 0 && !cut) {
      if (body_left > 0) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(body_left, n));
        if (in_copy_data && body_left >= 2 && armed_.load()) {
          // Half of the message at most, and never all of it: the server
          // must see a CopyData that breaks off.
          take = std::min<size_t>(take, static_cast<size_t>(body_left / 2));
          if (take == 0) take = 1;
          bool expected = true;
          if (armed_.compare_exchange_strong(expected, false)) cut = true;
        }
        out.append(p, take);
        p += take;
        n -= take;
        body_left -= take;
        if (!cut && body_left == 0 && !typed && untyped_code != kSslRequest && untyped_code != kGssEncRequest) {
          typed = true;  // the startup packet is over
        }
        continue;
      }
      const size_t header_size = typed ? 5 : 8;
      const size_t take = std::min(header_size - header.size(), n);
      header.append(p, take);
      out.append(p, take);
      p += take;
      n -= take;
      if (header.size() < header_size) break;
      if (typed) {
        in_copy_data = header[0] == 'd';
        body_left = read_be32(header.data() + 1) - 4;
      } else {
        untyped_code = read_be32(header.data() + 4);
        body_left = read_be32(header.data()) - 8;
        if (body_left == 0 && untyped_code != kSslRequest && untyped_code != kGssEncRequest) typed = true;
      }
      header.clear();
    }
    if (!send_all(link->server, out.data(), out.size())) break;
    if (cut) {
      cuts_.fetch_add(1);
      break;
    }
  }
  link->cut();
}

}  // namespace cdrd::test
