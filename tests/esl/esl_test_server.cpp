#include "tests/esl/esl_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <random>

namespace cdrd::test {

std::string frame_plain_event(const std::string& body) {
  std::string event = body;
  while (event.size() < 2 || event.compare(event.size() - 2, 2, "\n\n") != 0) event += '\n';
  return "Content-Length: " + std::to_string(event.size()) + "\nContent-Type: text/event-plain\n\n" + event;
}

std::string heartbeat_event_frame() {
  return frame_plain_event(
      "Event-Name: HEARTBEAT\nCore-UUID: 792e181c-b6e6-499c-82a1-52a778e7d82d\n"
      "Event-Date-Timestamp: 1349437298012866\nEvent-Info: System%20Ready\nSession-Count: 0\n");
}

std::string disconnect_notice_frame() {
  const std::string body = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
  return "Content-Type: text/disconnect-notice\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body;
}

EslTestServer::EslTestServer() = default;

EslTestServer::~EslTestServer() { stop(); }

bool EslTestServer::start(int port) {
  if (thread_.joinable()) return false;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || ::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  port_ = ntohs(addr.sin_port);
  stop_ = false;
  thread_ = std::thread([this] { run(); });
  return true;
}

void EslTestServer::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  const char byte = 'x';
  if (::write(wake_pipe_[1], &byte, 1) < 0) {
    // The pipe is ours and empty; a failed write still leaves stop_ set, which every poll timeout checks.
  }
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
  listen_fd_ = wake_pipe_[0] = wake_pipe_[1] = -1;
}

void EslTestServer::set_password(const std::string& password) {
  std::lock_guard<std::mutex> lock(mu_);
  password_ = password;
}

void EslTestServer::add_session(EslSessionScript script) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.push_back(std::move(script));
}

void EslTestServer::set_default_session(EslSessionScript script) {
  std::lock_guard<std::mutex> lock(mu_);
  default_session_ = std::move(script);
}

std::vector<std::string> EslTestServer::commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commands_;
}

std::chrono::steady_clock::time_point EslTestServer::first_generated_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_generated_at_;
}

std::chrono::steady_clock::time_point EslTestServer::last_generated_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_generated_at_;
}

void EslTestServer::run() {
  while (!stopping()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, 200) <= 0 || !(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    EslSessionScript script;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (sessions_.empty()) {
        script = default_session_;
      } else {
        script = std::move(sessions_.front());
        sessions_.pop_front();
      }
    }
    connections_.fetch_add(1);
    serve(fd, script);
    ::close(fd);
  }
}

bool EslTestServer::send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    if (stopping()) return false;
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    // The client is not reading (its spool is full): wait, but stay stoppable.
    pollfd fds[2] = {{fd, POLLOUT, 0}, {wake_pipe_[0], POLLIN, 0}};
    ::poll(fds, 2, 200);
  }
  return true;
}

bool EslTestServer::send_block(int fd, const EslSend& block) {
  if (block.delay_before.count() > 0) std::this_thread::sleep_for(block.delay_before);
  std::mt19937 rng(block.seed);
  size_t offset = 0;
  size_t turn = 0;
  while (offset < block.bytes.size()) {
    size_t size = block.bytes.size() - offset;
    if (block.random_max_chunk > 0) {
      size = std::uniform_int_distribution<size_t>(1, block.random_max_chunk)(rng);
    } else if (!block.chunks.empty()) {
      size = block.chunks[turn++ % block.chunks.size()];
    }
    size = std::min(size, block.bytes.size() - offset);
    if (!send_all(fd, block.bytes.data() + offset, size)) return false;
    offset += size;
    if (block.delay_between_chunks.count() > 0 && offset < block.bytes.size()) {
      std::this_thread::sleep_for(block.delay_between_chunks);
    }
  }
  return true;
}

bool EslTestServer::read_command(int fd, std::string* pending, std::string* command) {
  while (true) {
    const size_t end = pending->find("\n\n");
    if (end != std::string::npos) {
      *command = pending->substr(0, end);
      pending->erase(0, end + 2);
      return true;
    }
    if (stopping()) return false;
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, 200) <= 0 || !(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    pending->append(buf, static_cast<size_t>(n));
  }
}

void EslTestServer::serve(int fd, const EslSessionScript& script) {
  std::string pending;
  std::string command;
  if (script.silent) {
    while (read_command(fd, &pending, &command)) {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(command);
    }
    return;
  }
  if (!send_all(fd, "Content-Type: auth/request\n\n", 28)) return;
  while (read_command(fd, &pending, &command)) {
    std::string password;
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(command);
      password = password_;
    }
    std::string reply;
    if (command.rfind("auth ", 0) == 0) {
      auth_attempts_.fetch_add(1);
      if (command.substr(5) != password) {
        auth_failures_.fetch_add(1);
        reply = "Content-Type: command/reply\nReply-Text: -ERR invalid\n\n";
        send_all(fd, reply.data(), reply.size());
        return;
      }
      reply = "Content-Type: command/reply\nReply-Text: +OK accepted\n\n";
      if (!send_all(fd, reply.data(), reply.size())) return;
    } else if (command.rfind("event ", 0) == 0) {
      const std::string format = command.substr(6, command.find(' ', 6) - 6);
      reply = "Content-Type: command/reply\nReply-Text: +OK event listener enabled " + format + "\n\n";
      if (!send_all(fd, reply.data(), reply.size())) return;
      for (const EslSend& block : script.after_subscribe) {
        if (!send_block(fd, block)) return;
      }
      if (script.generator) {
        std::string bytes;
        for (uint64_t i = 0; script.generator(i, &bytes); ++i) {
          if (generated_sent_.load() == 0) {
            std::lock_guard<std::mutex> lock(mu_);
            first_generated_at_ = std::chrono::steady_clock::now();
          }
          if (!send_all(fd, bytes.data(), bytes.size())) return;
          {
            std::lock_guard<std::mutex> lock(mu_);
            last_generated_at_ = std::chrono::steady_clock::now();
          }
          generated_sent_.fetch_add(1);
        }
      }
      if (script.close_after) return;
    } else if (command == "exit") {
      reply = "Content-Type: command/reply\nReply-Text: +OK bye\n\n" + disconnect_notice_frame();
      send_all(fd, reply.data(), reply.size());
      return;
    } else {
      reply = "Content-Type: command/reply\nReply-Text: -ERR command not found\n\n";
      if (!send_all(fd, reply.data(), reply.size())) return;
    }
  }
}

}  // namespace cdrd::test
