#include "tests/faults/numbered_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>
#include <deque>
#include <string_view>

#include "tests/e2e/e2e_util.h"

namespace cdrd::test {
namespace {

// The status code of a response head "HTTP/1.<minor> <status> ..." (what
// sscanf("HTTP/1.%*d %d") == 1 accepted, less extra blanks and '+' signs).
bool parse_status(const std::string& head, int* status) {
  constexpr std::string_view kPrefix = "HTTP/1.";
  if (head.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  const char* const end = head.data() + head.size();
  int minor = 0;
  const auto [after_minor, minor_error] = std::from_chars(head.data() + kPrefix.size(), end, minor);
  if (minor_error != std::errc() || after_minor == end || *after_minor != ' ') return false;
  return std::from_chars(after_minor + 1, end, *status).ec == std::errc();
}

// A keep-alive HTTP/1.1 connection to cdrd on 127.0.0.1; reconnects on demand.
class KeepAliveClient {
 public:
  explicit KeepAliveClient(int port) : port_(port) {}
  ~KeepAliveClient() { drop(); }

  // The status, or 0 on a transport error (the connection is then dropped).
  int post(const std::string& target, const std::string& body) {
    if (fd_ < 0 && !connect()) return 0;
    const std::string request = "POST " + target +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!send_all(request)) return fail();
    return read_response();
  }

 private:
  bool connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    // A cdrd that stopped answering (SIGKILL'd, or a bug) must not hang the sender.
    const timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      drop();
      return false;
    }
    buffer_.clear();
    return true;
  }
  void drop() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fail() {
    drop();
    return 0;
  }
  bool send_all(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  bool fill() {
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int read_response() {
    size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return fail();
    }
    const std::string head = buffer_.substr(0, end);
    int status = 0;
    if (head.size() < 12 || !parse_status(head, &status)) return fail();
    size_t length = 0;
    bool close_after = false;
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (const size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
      length = std::stoul(lower.substr(at + 17));
    }
    if (lower.find("\r\nconnection: close") != std::string::npos) close_after = true;
    while (buffer_.size() < end + 4 + length) {
      if (!fill()) return fail();
    }
    buffer_.erase(0, end + 4 + length);
    if (close_after) drop();
    return status;
  }

  const int port_;
  int fd_ = -1;
  std::string buffer_;
};

struct Retry {
  uint64_t seq;
  std::chrono::steady_clock::time_point due;
};

}  // namespace

std::string numbered_json_cdr(const std::string& account, uint64_t seq) {
  std::string doc = unique_cdr(random_uuid(), account);
  return replace_all(doc, "\"variables\": {",
                     "\"variables\": {\"ecallmgr_fault_seq\": \"h" + std::to_string(seq) + "\",");
}

std::string numbered_esl_event(const std::string& account, uint64_t seq) {
  static const std::string base = read_sample("esl_hangup_plain_cgrates_2018b.txt");
  std::string body = replace_all(base, "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4", random_uuid());
  if (!body.empty() && body.back() != '\n') body += '\n';
  body += "variable_account_id: " + account + "\nvariable_ecallmgr_fault_seq: e" + std::to_string(seq) + "\n";
  return body;
}

HttpLoad::HttpLoad(int port, std::string account, int threads, std::chrono::milliseconds interval)
    : port_(port), account_(std::move(account)), threads_(threads), interval_(interval) {}

HttpLoad::~HttpLoad() { finish(std::chrono::steady_clock::now()); }

void HttpLoad::start() {
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this, i] { run(i); });
}

bool HttpLoad::finish(std::chrono::steady_clock::time_point deadline) {
  no_new_.store(true);
  std::thread watchdog([this, deadline] {
    while (std::chrono::steady_clock::now() < deadline && !give_up_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    give_up_.store(true);
  });
  for (auto& w : workers_) w.join();
  workers_.clear();
  give_up_.store(true);
  watchdog.join();
  std::lock_guard<std::mutex> lock(mu_);
  return sent_.size() == acknowledged_.size();
}

void HttpLoad::run(int thread_index) {
  (void)thread_index;
  KeepAliveClient client(port_);
  std::deque<Retry> retries;               // this thread's unacknowledged numbers, oldest first
  std::map<uint64_t, std::string> bodies;  // the same body for every try of a number
  auto next_send = std::chrono::steady_clock::now();
  while (!give_up_.load()) {
    std::this_thread::sleep_until(next_send);
    next_send += interval_;
    const auto now = std::chrono::steady_clock::now();
    if (next_send < now) next_send = now;
    uint64_t seq = 0;
    if (!retries.empty() && retries.front().due <= now) {
      seq = retries.front().seq;
      retries.pop_front();
    } else if (!no_new_.load()) {
      seq = next_seq_.fetch_add(1);
      bodies[seq] = numbered_json_cdr(account_, seq);
      std::lock_guard<std::mutex> lock(mu_);
      sent_.insert(seq);
    } else if (retries.empty()) {
      return;
    } else {
      continue;
    }
    const int status = client.post("/ingest/freeswitch/json", bodies[seq]);
    std::lock_guard<std::mutex> lock(mu_);
    if (status == 200) {
      acknowledged_.insert(seq);
      bodies.erase(seq);
    } else if (status >= 400 && status < 500) {
      ++counts_.unexpected_4xx;
      bodies.erase(seq);
    } else {
      if (status == 503) {
        ++counts_.status_503;
      } else {
        ++counts_.other_errors;
      }
      retries.push_back(Retry{seq, now + std::chrono::milliseconds(200)});
    }
  }
}

HttpLoadCounts HttpLoad::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  HttpLoadCounts c = counts_;
  c.sent = sent_.size();
  c.acknowledged = acknowledged_.size();
  return c;
}

std::set<uint64_t> HttpLoad::acknowledged() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acknowledged_;
}

std::set<uint64_t> HttpLoad::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

EslLoad::EslLoad(EslTestServer* server, std::string account, std::chrono::milliseconds interval)
    : server_(server), account_(std::move(account)), interval_(interval) {}

void EslLoad::start() {
  EslSessionScript script;
  script.generator = [this](uint64_t, std::string* bytes) {
    if (stop_.load()) return false;
    std::this_thread::sleep_for(interval_);
    if (stop_.load()) return false;
    *bytes = frame_plain_event(numbered_esl_event(account_, next_seq_.fetch_add(1)));
    return true;
  };
  server_->set_default_session(script);
}

}  // namespace cdrd::test
