// cdrd_esl_bench: the end-to-end rate of the ESL route. Starts the test ESL
// server (tests/esl) and a fresh cdrd (embedded PostgreSQL, temp state dir)
// configured to connect to it; the server pushes N CHANNEL_HANGUP_COMPLETE
// events (one plain sample, a unique uuid each) as fast as cdrd reads them;
// then waits until every row is committed in PostgreSQL. Reports events/s
// pushed and committed rows/s. Run by hand; never part of ctest.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/clock_shift.h"
#include "bench/guarded_main.h"
#include "bench/row_visibility.h"
#include "tests/esl/esl_test_server.h"

namespace cdrd {
namespace {

using test::EslSessionScript;
using test::EslTestServer;

struct Settings {
  std::string cdrd = CDRD_BENCH_CDRD_BINARY;
  std::string sample = CDRD_BENCH_ESL_SAMPLE;
  uint64_t count = 200000;
  int batch_max_rows = 1000;
  int batch_max_delay_ms = 200;
  std::string tmpdir = "/tmp";
  int timeout_s = 1800;
  bool keep = false;
  bool keep_sample_times = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  // Port 0 when bind fails, as getsockname reports for an unbound socket.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return 0;
  }
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

long read_peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// The event frames: the sample with its Unique-ID replaced by a fresh uuid,
// its other leg's (Other-Leg-Unique-ID, also in bridge_uuid, signal_bond,
// originated_legs) by that uuid reversed, so that each event names an other
// leg of its own (one other leg for all would make every event a leg of one
// call), its times moved to `move_to_unix` (clock_shift.h; 0 keeps them),
// and the run's account as a channel variable (so the run's rows can be
// counted exactly). Only the uuid bytes differ between events, so the frame
// is cut at the uuid places once and glued per event.
class EventTemplate {
 public:
  EventTemplate(const std::string& sample, const std::string& account, int64_t move_to_unix) {
    const std::string uuid = header_value(sample, "Unique-ID: ");
    std::string other = header_value(sample, "Other-Leg-Unique-ID: ");
    if (other.size() != uuid.size()) other.clear();
    std::string body = sample;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    body += "\nvariable_account_id: " + account + "\n\n";
    if (move_to_unix > 0)
      moved_times_ = move_times_to(header_value(sample, "variable_start_epoch: "), move_to_unix, &body);
    const std::string frame =
        "Content-Length: " + std::to_string(body.size()) + "\nContent-Type: text/event-plain\n\n" + body;
    size_t from = 0;
    while (!uuid.empty()) {
      const size_t own = frame.find(uuid, from);
      const size_t theirs = other.empty() ? std::string::npos : frame.find(other, from);
      const size_t at = std::min(own, theirs);
      if (at == std::string::npos) break;
      parts_.push_back(frame.substr(from, at - from));
      other_leg_.push_back(at == theirs);
      from = at + uuid.size();
    }
    parts_.push_back(frame.substr(from));
    std::random_device entropy;
    run_ = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
  }
  size_t uuid_places() const { return parts_.size() - 1; }
  size_t moved_times() const { return moved_times_; }
  void render(uint64_t index, std::string* out) const {
    const std::string uuid = fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", static_cast<uint32_t>(run_ >> 32),
                                         static_cast<uint16_t>(run_ >> 16), static_cast<uint16_t>(run_ & 0xfff),
                                         static_cast<uint16_t>((index >> 48) & 0xfff), index & 0xffffffffffffULL);
    const std::string reversed(uuid.rbegin(), uuid.rend());
    out->clear();
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (i > 0) out->append(other_leg_[i - 1] ? reversed : uuid);
      out->append(parts_[i]);
    }
  }

 private:
  static std::string header_value(const std::string& text, const std::string& name) {
    const size_t at = text.find(name);
    if (at == std::string::npos) return "";
    const size_t start = at + name.size();
    return text.substr(start, text.find('\n', start) - start);
  }
  std::vector<std::string> parts_;
  std::vector<bool> other_leg_;  // whether the uuid after parts_[i] is the other leg's
  size_t moved_times_ = 0;
  uint64_t run_ = 0;
};

double seconds_between(BenchClock::time_point from, BenchClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

class CdrdChild {
 public:
  ~CdrdChild() { stop(); }
  bool start(const std::string& binary, const std::string& config, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid_ > 0;
  }
  bool alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  // SIGTERM, then SIGKILL after two minutes; the exit status or -1.
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1200; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

int run(const Settings& s) {
  const std::string sample = read_file(s.sample);
  if (sample.find("Unique-ID: ") == std::string::npos) {
    fmt::print(stderr, "--sample {}: not a plain ESL event with a Unique-ID\n", s.sample);
    return 2;
  }
  const std::string account = fmt::format("esl-bench-{}-{}", ::getpid(), std::time(nullptr));
  // Times moved to the hour before now, as a live switch sends them (the
  // rows land in the month's partition as in production).
  const EventTemplate events(sample, account,
                             s.keep_sample_times ? 0 : static_cast<int64_t>(std::time(nullptr)) - 3600);
  std::string probe;
  events.render(0, &probe);

  EslTestServer server;
  EslSessionScript script;
  const uint64_t count = s.count;
  script.generator = [&events, count](uint64_t i, std::string* bytes) {
    if (i >= count) return false;
    events.render(i, bytes);
    return true;
  };
  server.add_session(script);  // a reconnection (e.g. after the heartbeat watchdog) must not replay the run
  server.set_password("bench");
  if (!server.start()) {
    fmt::print(stderr, "the test ESL server could not listen on 127.0.0.1\n");
    return 1;
  }

  std::string state = s.tmpdir + "/cdrd-esl-bench.XXXXXX";
  if (!::mkdtemp(state.data())) {
    fmt::print(stderr, "cannot create a state dir under {}\n", s.tmpdir);
    return 1;
  }
  ::chmod(state.c_str(), 0755);  // as root, the embedded PostgreSQL runs as postgres and must enter it
  const int http_port = free_port();
  {
    std::ofstream cfg(state + "/cdrd.yaml");
    cfg << "state_dir: " << state << "\nnode_name: bench\nlisten:\n  http: 127.0.0.1:" << http_port
        << "\ndatabase:\n  dsn: embedded\nbatch:\n  max_rows: " << s.batch_max_rows
        << "\n  max_delay_ms: " << s.batch_max_delay_ms << "\nfreeswitch:\n  - name: bench-fs\n    host: 127.0.0.1\n"
        << "    port: " << server.port() << "\n    password: bench\nlog:\n  level: info\n";
  }
  fmt::print(
      "cdrd_esl_bench: {} events of {} bytes ({}, uuids at {} places, {} clock readings moved to the last hour), "
      "account {}\n",
      s.count, probe.size(), s.sample, events.uuid_places(), events.moved_times(), account);
  fmt::print("cdrd: {}, state {}, ESL server 127.0.0.1:{}, batch max_rows {} max_delay_ms {}\n", s.cdrd, state,
             server.port(), s.batch_max_rows, s.batch_max_delay_ms);

  const auto deadline = BenchClock::now() + std::chrono::seconds(s.timeout_s);
  CdrdChild cdrd;
  const auto measure = [&]() -> int {
    if (!cdrd.start(s.cdrd, state + "/cdrd.yaml", state + "/cdrd.log")) return 1;
    std::string dsn;
    // The DSN of the embedded server, from cdrd's log line "embedded PostgreSQL is up (pid N, host=...)".
    const std::string marker = "embedded PostgreSQL is up (pid ";
    while (dsn.empty() && cdrd.alive() && BenchClock::now() < deadline) {
      const std::string log = read_file(state + "/cdrd.log");
      const size_t at = log.find(marker);
      if (at != std::string::npos) {
        const size_t start = log.find(", ", at) + 2;
        dsn = log.substr(start, log.find(')', start) - start);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    if (dsn.empty()) {
      fmt::print(stderr, "cdrd did not bring its database up; its log:\n{}\n", read_file(state + "/cdrd.log"));
      return 1;
    }
    RunRowCounter counter(dsn, account);
    while (server.generated_sent() < s.count && cdrd.alive() && BenchClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double push_s = seconds_between(server.first_generated_at(), server.last_generated_at());
    fmt::print("pushed            {} of {} events in {:.3f} s\n", server.generated_sent(), s.count, push_s);
    fmt::print("events/s pushed   {:.1f}\n", push_s > 0 ? server.generated_sent() / push_s : 0.0);
    const Visibility v = wait_until_visible(&counter, s.count, deadline, 100);
    double visible_s = 0;
    if (v.reached) {
      visible_s = seconds_between(server.first_generated_at(), v.visible_at);
      fmt::print("all rows visible  {:.3f} s after the first event ({} rows)\n", visible_s, v.rows);
      fmt::print("committed rows/s  {:.1f}\n", s.count / visible_s);
    } else {
      fmt::print("all rows visible  NOT REACHED: {} of {} rows{}\n", v.rows, s.count,
                 v.last_error.empty() ? "" : " (" + v.last_error + ")");
    }
    const long rss = read_peak_rss_kib(cdrd.pid());
    if (rss >= 0) fmt::print("cdrd peak RSS     {:.1f} MiB (VmHWM {} kB)\n", rss / 1024.0, rss);
    fmt::print(
        "{{\"count\":{},\"event_bytes\":{},\"pushed\":{},\"push_s\":{:.3f},\"pushed_per_s\":{:.1f},\"all_visible\":{},"
        "\"rows_visible\":{},\"visible_s\":{:.3f},\"committed_per_s\":{:.1f},\"cdrd_peak_rss_kib\":{}}}\n",
        s.count, probe.size(), server.generated_sent(), push_s, push_s > 0 ? server.generated_sent() / push_s : 0.0,
        v.reached, v.rows, visible_s, v.reached ? s.count / visible_s : 0.0, rss);
    return v.reached && server.generated_sent() == s.count ? 0 : 1;
  };
  const int rc = measure();
  fmt::print("cdrd exited with status {}\n", cdrd.stop());
  server.stop();
  if (s.keep) {
    fmt::print("state kept in {}\n", state);
  } else {
    std::error_code ec;
    std::filesystem::remove_all(state, ec);
  }
  return rc;
}

// main's work; main only catches what escapes it.
int run_main(int argc, char** argv) {
  Settings s;
  CLI::App app{
      "cdrd_esl_bench: a test ESL server pushes hangup events into a fresh cdrd; reports events/s pushed and "
      "committed rows/s"};
  app.add_option("--count", s.count, "hangup events to push")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--cdrd", s.cdrd, "the cdrd binary")->check(CLI::ExistingFile)->capture_default_str();
  app.add_option("--sample", s.sample, "plain ESL CHANNEL_HANGUP_COMPLETE body")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  app.add_option("--batch-max-rows", s.batch_max_rows, "cdrd batch.max_rows")->capture_default_str();
  app.add_option("--batch-max-delay-ms", s.batch_max_delay_ms, "cdrd batch.max_delay_ms")->capture_default_str();
  app.add_option("--tmpdir", s.tmpdir, "parent of the temp state dir")->capture_default_str();
  app.add_option("--timeout-s", s.timeout_s, "bound on the whole run")->capture_default_str();
  app.add_flag("--keep", s.keep, "keep the state dir (cdrd.log, postgres.log)");
  app.add_flag("--keep-sample-times", s.keep_sample_times,
               "send the sample's own times; by default they are moved to the hour before now");
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  return run(s);
}

}  // namespace
}  // namespace cdrd

int main(int argc, char** argv) { return cdrd::bench::guarded_main("cdrd_esl_bench", cdrd::run_main, argc, argv); }
