// End to end: the HTTP limits of a real cdrd, over raw sockets (a client
// library would hide what is being tested: partial requests, idle and
// trickling connections, the backlog).
//
//   - a body over limits.max_body_bytes (Content-Length or chunked), headers
//     over limits.max_header_bytes, a malformed request and a method cdrd
//     does not serve get the JSON error body, and the connection is closed
//     where libevent closes it;
//   - cdrd_http_connections counts open connections and returns to idle;
//   - at limits.max_connections the next connection waits in the backlog,
//     unanswered, until one of the others closes;
//   - a client trickling its request (headers or body) is cut at
//     limits.request_timeout_s;
//   - 1,000 idle connections cost a bounded amount of memory, cdrd keeps
//     answering, and they are cut after limits.request_timeout_s.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"

namespace cdrd::test {
namespace {

// No database: every limit here is in front of the spool.
const char* kNoDatabase = "postgresql://cdrd@127.0.0.1:1/none?connect_timeout=2";

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// What a socket received until the peer closed it (closed = true: EOF or
// reset) or `wait` passed without it closing.
struct Received {
  std::string data;
  bool closed = false;
};

Received read_until_close(int fd, std::chrono::milliseconds wait) {
  Received r;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  char buf[8192];
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return r;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      r.closed = true;
      return r;
    }
    r.data.append(buf, static_cast<size_t>(n));
  }
}

int status_of(const std::string& reply) {
  if (reply.compare(0, 9, "HTTP/1.1 ") != 0 || reply.size() < 12) return 0;
  return std::stoi(reply.substr(9, 3));
}

std::string body_of(const std::string& reply) {
  const size_t end = reply.find("\r\n\r\n");
  return end == std::string::npos ? "" : reply.substr(end + 4);
}

std::string header_of(const std::string& reply, const std::string& name) {
  const size_t at = reply.find("\r\n" + name + ": ");
  if (at == std::string::npos || at > reply.find("\r\n\r\n")) return "";
  const size_t from = at + 4 + name.size();
  return reply.substr(from, reply.find("\r\n", from) - from);
}

// A value of cdrd's /metrics ("name value" line), -1 when absent.
long long metric(int port, const std::string& name) {
  const HttpResponse r = http_request(port, "GET", "/metrics");
  const size_t at = r.body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(r.body.substr(at + name.size() + 2));
}

long long proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size() + 1, field + ":") == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// Sends `raw` on a new connection and reads the reply until cdrd closes it.
Received send_and_read(int port, const std::string& raw) {
  const int fd = connect_to(port);
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  EXPECT_TRUE(send_all(fd, raw));
  Received r = read_until_close(fd, std::chrono::seconds(20));
  ::close(fd);
  return r;
}

void expect_json_error(const Received& r, int status, const std::string& code) {
  SCOPED_TRACE(r.data);
  EXPECT_EQ(status_of(r.data), status);
  EXPECT_EQ(header_of(r.data, "Content-Type"), "application/json");
  const std::string request_id = header_of(r.data, "X-Request-Id");
  EXPECT_FALSE(request_id.empty());
  rapidjson::Document doc = parse_json(body_of(r.data));
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(std::string(doc["code"].GetString()), code);
  EXPECT_GT(doc["message"].GetStringLength(), 0u);
  EXPECT_EQ(std::string(doc["request_id"].GetString()), request_id);
}

TEST(LimitsE2E, RefusedRequestsGetTheJsonErrorBody) {
  TempDir dir;
  CdrdProcess cdrd(dir.path(), kNoDatabase, "limits:\n  max_body_bytes: 8KiB\n  max_header_bytes: 4KiB\n");
  ASSERT_TRUE(cdrd.start(/*wait_ready=*/false)) << cdrd.log();
  const int port = cdrd.port();

  // Content-Length over the limit: refused before the body is read, then closed.
  Received r =
      send_and_read(port, "POST /ingest/freeswitch/json HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
  expect_json_error(r, 413, "body_too_large");
  EXPECT_NE(body_of(r.data).find("8192 bytes"), std::string::npos);
  EXPECT_TRUE(r.closed);

  // A chunked body crossing the limit: no Content-Length to check ahead, the
  // chunk that crosses it is refused.
  r = send_and_read(port,
                    "POST /ingest/freeswitch/json HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3000\r\n" +
                        std::string(0x3000, 'x') + "\r\n");
  expect_json_error(r, 413, "body_too_large");
  EXPECT_TRUE(r.closed);

  // Headers over limits.max_header_bytes.
  r = send_and_read(port, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(6000, 'y') + "\r\n\r\n");
  expect_json_error(r, 400, "bad_request");
  EXPECT_TRUE(r.closed);

  // A request line that is not HTTP.
  r = send_and_read(port, "HELLO\r\n\r\n");
  expect_json_error(r, 400, "bad_request");
  EXPECT_TRUE(r.closed);

  // Methods cdrd never serves, known to libevent or not.
  for (const char* method : {"DELETE", "PATCH", "OPTIONS", "BREW"}) {
    r = send_and_read(port, std::string(method) + " /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    expect_json_error(r, 501, "not_implemented");
  }

  // Still serving, and a body just under the limit is read.
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  const HttpResponse under = http_request(port, "POST", "/ingest/freeswitch/json", std::string(8000, '{'));
  EXPECT_EQ(under.status, 400) << under.body;  // read and refused as JSON, not as too large
  EXPECT_GE(metric(port, "cdrd_http_protocol_errors_total"), 4);
}

TEST(LimitsE2E, ConnectionGaugeReturnsToIdle) {
  TempDir dir;
  CdrdProcess cdrd(dir.path(), kNoDatabase);
  ASSERT_TRUE(cdrd.start(/*wait_ready=*/false)) << cdrd.log();
  const int port = cdrd.port();
  constexpr int kRounds = 5, kEach = 60;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<int> fds;
    for (int i = 0; i < kEach; ++i) {
      const int fd = connect_to(port);
      ASSERT_GE(fd, 0);
      // A third send a request, a third half of one, a third nothing.
      if (i % 3 == 0) send_all(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
      if (i % 3 == 1) send_all(fd, "GET /heal");
      fds.push_back(fd);
    }
    // All of them open at once (the /metrics request is one more).
    ASSERT_TRUE(
        eventually([&] { return metric(port, "cdrd_http_connections") == kEach + 1; }, std::chrono::seconds(30)));
    for (int fd : fds) ::close(fd);
    ASSERT_TRUE(eventually([&] { return metric(port, "cdrd_http_connections") == 1; }, std::chrono::seconds(30)))
        << "round " << round;
  }
  EXPECT_EQ(metric(port, "cdrd_http_connection_limit_hits_total"), 0);
}

TEST(LimitsE2E, AtMaxConnectionsTheNextWaitsInTheBacklog) {
  TempDir dir;
  constexpr int kMax = 4;
  CdrdProcess cdrd(dir.path(), kNoDatabase, "limits:\n  max_connections: 4\n  request_timeout_s: 60\n");
  ASSERT_TRUE(cdrd.start(/*wait_ready=*/false)) << cdrd.log();
  const int port = cdrd.port();
  ASSERT_TRUE(eventually([&] { return metric(port, "cdrd_http_connections") == 1; }));

  // kMax - 1 idle connections, plus one keep-alive connection that reads
  // the metrics (so the test can watch while the gate is closed).
  std::vector<int> idle;
  idle.reserve(kMax - 1);
  for (int i = 0; i < kMax - 1; ++i) idle.push_back(connect_to(port));
  const int watcher = connect_to(port);
  ASSERT_GE(watcher, 0);
  auto watch = [&](const std::string& name) -> long long {
    if (!send_all(watcher, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")) return -2;
    std::string reply;
    char buf[65536];
    auto complete = [&] {
      const size_t end = reply.find("\r\n\r\n");
      if (end == std::string::npos) return false;
      return reply.size() - end - 4 >= std::stoul(header_of(reply, "Content-Length"));
    };
    while (!complete()) {
      const ssize_t n = ::recv(watcher, buf, sizeof(buf), 0);
      if (n <= 0) return -3;
      reply.append(buf, static_cast<size_t>(n));
    }
    const size_t at = reply.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(reply.substr(at + name.size() + 2));
  };
  ASSERT_TRUE(eventually([&] { return watch("cdrd_http_connections") == kMax; }));
  EXPECT_EQ(watch("cdrd_http_connection_limit_hits_total"), 1);

  // The next one: the kernel completes its handshake (backlog), cdrd does
  // not accept it, so its request stays unanswered...
  const int next = connect_to(port);
  ASSERT_GE(next, 0);
  ASSERT_TRUE(send_all(next, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  Received waiting = read_until_close(next, std::chrono::milliseconds(1500));
  EXPECT_EQ(waiting.data, "");
  EXPECT_FALSE(waiting.closed);
  EXPECT_EQ(watch("cdrd_http_connections"), kMax);

  // ...until one of the others closes.
  ::close(idle.front());
  Received answered = read_until_close(next, std::chrono::seconds(20));
  EXPECT_EQ(status_of(answered.data), 200) << answered.data;
  EXPECT_TRUE(answered.closed);
  ::close(next);
  for (size_t i = 1; i < idle.size(); ++i) ::close(idle[i]);
  EXPECT_TRUE(eventually([&] { return watch("cdrd_http_connections") == 1; }));
  ::close(watcher);
}

// Sends `request` one byte every 300 ms; returns when cdrd closes the
// connection (true) or the whole request went out (false).
bool trickle_until_cut(int port, const std::string& request, size_t* sent_bytes, std::string* reply) {
  const int fd = connect_to(port);
  EXPECT_GE(fd, 0);
  *sent_bytes = 0;
  bool cut = false;
  for (char c : request) {
    if (!send_all(fd, std::string(1, c))) {
      cut = true;
      break;
    }
    ++*sent_bytes;
    Received r = read_until_close(fd, std::chrono::milliseconds(300));
    *reply += r.data;
    if (r.closed) {
      cut = true;
      break;
    }
  }
  ::close(fd);
  return cut;
}

TEST(LimitsE2E, SlowClientsAreCutAtTheRequestDeadline) {
  TempDir dir;
  CdrdProcess cdrd(dir.path(), kNoDatabase, "limits:\n  request_timeout_s: 2\n");
  ASSERT_TRUE(cdrd.start(/*wait_ready=*/false)) << cdrd.log();
  const int port = cdrd.port();

  // Headers, one byte every 300 ms: each byte resets libevent's own read
  // timeout; the whole-request deadline still cuts it (the request is 80
  // bytes, 24 s at this pace).
  const std::string headers =
      "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  size_t sent = 0;
  std::string reply;
  EXPECT_TRUE(trickle_until_cut(port, headers, &sent, &reply));
  EXPECT_LT(sent, headers.size());
  EXPECT_EQ(reply, "");

  // A body trickled the same way after complete headers.
  const std::string body(60, '{');
  const std::string head =
      "POST /ingest/freeswitch/json HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  reply.clear();
  const int slow = connect_to(port);
  ASSERT_TRUE(send_all(slow, head));
  bool cut = false;
  size_t body_sent = 0;
  for (char c : body) {
    if (!send_all(slow, std::string(1, c))) {
      cut = true;
      break;
    }
    ++body_sent;
    Received r = read_until_close(slow, std::chrono::milliseconds(300));
    reply += r.data;
    if (r.closed) {
      cut = true;
      break;
    }
  }
  ::close(slow);
  EXPECT_TRUE(cut);
  EXPECT_LT(body_sent, body.size());
  EXPECT_EQ(reply, "");
  EXPECT_GE(metric(port, "cdrd_http_request_deadline_total"), 2);

  // A keep-alive client that sends whole requests in time is not cut: two
  // requests, each on time, the second after an idle second.
  const int keep = connect_to(port);
  ASSERT_TRUE(send_all(keep, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  Received first = read_until_close(keep, std::chrono::milliseconds(1000));
  EXPECT_EQ(status_of(first.data), 200);
  EXPECT_FALSE(first.closed);
  ASSERT_TRUE(send_all(keep, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  Received second = read_until_close(keep, std::chrono::seconds(20));
  EXPECT_EQ(status_of(second.data), 200);
  ::close(keep);
}

TEST(LimitsE2E, ThousandIdleConnectionsStayBounded) {
  constexpr int kIdle = 1000;
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_cur < kIdle + 200) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, kIdle + 1024);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
  }
  ASSERT_GE(files.rlim_cur, static_cast<rlim_t>(kIdle + 200)) << "RLIMIT_NOFILE too low for this test";

  TempDir dir;  // cdrd inherits the raised limit
  CdrdProcess cdrd(dir.path(), kNoDatabase, "limits:\n  request_timeout_s: 8\n");
  ASSERT_TRUE(cdrd.start(/*wait_ready=*/false)) << cdrd.log();
  const int port = cdrd.port();
  // Warm up the paths the idle connections and the checks below take.
  EXPECT_EQ(http_request(port, "POST", "/ingest/freeswitch/json", unique_cdr(random_uuid())).status, 200);
  ASSERT_TRUE(eventually([&] { return metric(port, "cdrd_http_connections") == 1; }));
  const long long rss_before = proc_status_kib(cdrd.pid(), "VmRSS");

  std::vector<int> idle;
  for (int i = 0; i < kIdle; ++i) {
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  ASSERT_TRUE(eventually([&] { return metric(port, "cdrd_http_connections") == kIdle + 1; }));
  // Still answering while they are open.
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(http_request(port, "POST", "/ingest/freeswitch/json", unique_cdr(random_uuid())).status, 200);
  const long long rss_open = proc_status_kib(cdrd.pid(), "VmRSS");
  const long long hwm = proc_status_kib(cdrd.pid(), "VmHWM");
  std::cout << "cdrd memory with " << kIdle << " idle connections: VmRSS " << rss_before << " KiB before, " << rss_open
            << " KiB with them open (+" << (rss_open - rss_before) << " KiB, " << (rss_open - rss_before) * 1024 / kIdle
            << " B per connection), VmHWM " << hwm << " KiB\n";
  EXPECT_LT(rss_open - rss_before, 64 * 1024) << "KiB";

  // Cut after limits.request_timeout_s: every one of them sees the close.
  int closed = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  for (int fd : idle) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (read_until_close(fd, std::max(left, std::chrono::milliseconds(1))).closed) ++closed;
    ::close(fd);
  }
  EXPECT_EQ(closed, kIdle);
  EXPECT_TRUE(eventually([&] { return metric(port, "cdrd_http_connections") == 1; }));
  std::cout << "after the cut: VmRSS " << proc_status_kib(cdrd.pid(), "VmRSS") << " KiB\n";
}

}  // namespace
}  // namespace cdrd::test
