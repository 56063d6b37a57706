// What systemd does for a Type=notify service, for the lifecycle tests: an
// AF_UNIX datagram socket whose path goes in the service's NOTIFY_SOCKET,
// keeping every sd_notify() message in the order it arrived.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace cdrd::test {

class NotifyListener {
 public:
  // Binds `path` (shorter than sun_path, 108 bytes).
  explicit NotifyListener(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.size() >= sizeof(addr.sun_path)) throw std::runtime_error("notify socket: " + path_);
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    ::unlink(path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("notify socket: cannot bind " + path_ + ": " + std::strerror(errno));
    }
  }
  ~NotifyListener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  const std::string& path() const { return path_; }

  // Receives until the first message at or after `from` that contains
  // `needle` (a line such as "READY=1"), or until `timeout`. Returns its
  // index, or -1.
  long wait_for(const std::string& needle, size_t from, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (size_t i = from;;) {
      for (; i < messages_.size(); ++i) {
        if (has_line(messages_[i], needle)) return static_cast<long>(i);
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !receive(static_cast<int>(left.count()))) return -1;
    }
  }

  // Receives whatever arrives within `period` (the tests use it to see that
  // something does NOT come). Returns how many messages came.
  size_t collect_for(std::chrono::milliseconds period) {
    const size_t before = messages_.size();
    const auto deadline = std::chrono::steady_clock::now() + period;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      receive(static_cast<int>(left.count()));
    }
    return messages_.size() - before;
  }

  // Messages at or after `from` that contain the line `needle`.
  size_t count(const std::string& needle, size_t from = 0) const {
    size_t n = 0;
    for (size_t i = from; i < messages_.size(); ++i) n += has_line(messages_[i], needle) ? 1 : 0;
    return n;
  }

  const std::vector<std::string>& messages() const { return messages_; }

  // Every message so far, one per line (for failure output).
  std::string dump() const {
    std::string out;
    for (const auto& m : messages_) out += "[" + m + "]\n";
    return out;
  }

 private:
  // A line of `message` equal to `needle`, or starting with it when it ends in '='.
  static bool has_line(const std::string& message, const std::string& needle) {
    size_t start = 0;
    while (start <= message.size()) {
      size_t end = message.find('\n', start);
      if (end == std::string::npos) end = message.size();
      const std::string line = message.substr(start, end - start);
      if (needle.back() == '=' ? line.rfind(needle, 0) == 0 : line == needle) return true;
      start = end + 1;
    }
    return false;
  }

  // Waits up to `timeout_ms` for one datagram; false when none came.
  bool receive(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return false;
    messages_.emplace_back(buffer, static_cast<size_t>(n));
    return true;
  }

  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace cdrd::test
