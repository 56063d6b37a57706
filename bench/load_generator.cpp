// cdrd_loadgen: posts realistic mod_json_cdr bodies to cdrd's ingest route
// over keep-alive connections and reports acknowledged CDRs/s, ack latency,
// how long until every acknowledged row is visible in PostgreSQL, and cdrd's
// peak RSS. Run by hand (bench/run_ingest_bench.sh); never part of ctest.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

#include "bench/cdr_body_template.h"
#include "bench/guarded_main.h"
#include "bench/http_load.h"
#include "bench/latency_stats.h"
#include "bench/row_visibility.h"

namespace cdrd {
namespace {

// Set by SIGTERM/SIGINT: stop sending, let the requests in flight finish and
// report. A lock-free atomic store is async-signal-safe.
std::atomic<bool> g_stop{false};

void request_stop(int signal_number) {
  g_stop.store(true);
  // A second signal ends the process the default way.
  std::signal(signal_number, SIG_DFL);
}

// The generator must never load anything but this machine.
bool is_loopback_address(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// VmHWM (peak resident set) in KiB, or -1 when the process is not readable.
long read_peak_rss_kib(long pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double seconds_between(BenchClock::time_point from, BenchClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

struct Settings {
  LoadOptions load;
  std::string sample;
  std::string dsn;
  std::string account;
  long cdrd_pid = 0;
  bool pretty = false;
  bool keep_sample_times = false;
};

struct Report {
  size_t body_bytes = 0;
  size_t uuid_occurrences = 0;
  size_t moved_times = 0;
  LoadResult load;
  LatencySummary latency;
  double ack_wall_s = 0;
  bool polled = false;
  Visibility visibility;
  uint64_t expected_rows = 0;
  double visible_s = 0;
  long peak_rss_kib = -1;
};

double per_second(uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }

// CDRs whose request was still waiting for a reply when the run timed out.
uint64_t unanswered(const LoadResult& l) {
  uint64_t answered = l.acknowledged + l.failed_cdrs;
  for (const auto& entry : l.other_statuses) answered += entry.second;
  return l.cdrs_sent - answered;
}

void print_human(const Settings& s, const Report& r) {
  const LoadResult& l = r.load;
  fmt::print("cdrd_loadgen: {} CDRs to {}:{}{}, concurrency {}, {} thread(s){}\n", s.load.count, s.load.host,
             s.load.port, s.load.path, s.load.concurrency, s.load.threads,
             s.load.rate > 0 ? fmt::format(", paced at {} CDRs/s", s.load.rate) : "");
  fmt::print(
      "body              {} bytes ({}, uuid patched at {} places, {} clock readings moved to the last hour), "
      "account {}\n",
      r.body_bytes, s.sample, r.uuid_occurrences, r.moved_times, s.account);
  fmt::print("sent              {} CDRs in {} requests\n", l.cdrs_sent, l.requests);
  fmt::print("acknowledged      {} (HTTP 200)\n", l.acknowledged);
  std::string others;
  for (const auto& [status, n] : l.other_statuses)
    others += fmt::format("{}{}: {}", others.empty() ? "" : ", ", status, n);
  fmt::print("other statuses    {}\n", others.empty() ? "none" : others);
  fmt::print("transport errors  {} (CDRs never answered: {})\n", l.transport_errors, l.failed_cdrs);
  if (l.timed_out) fmt::print("unanswered        {} CDRs still in flight at the timeout\n", unanswered(l));
  if (l.stopped)
    fmt::print("stopped           by a signal after {} CDRs; the ones in flight were answered\n", l.cdrs_sent);
  if (!l.first_error_reply.empty()) fmt::print("first error reply {}\n", l.first_error_reply);
  fmt::print("wall to last ack  {:.3f} s{}\n", r.ack_wall_s, l.timed_out ? " (TIMED OUT)" : "");
  fmt::print("acks/s            {:.1f}\n", per_second(l.acknowledged, r.ack_wall_s));
  fmt::print("ack latency       p50 {:.2f} ms  p90 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms\n", r.latency.p50_ms,
             r.latency.p90_ms, r.latency.p99_ms, r.latency.max_ms);
  if (r.polled) {
    if (r.visibility.reached) {
      fmt::print("all rows visible  {:.3f} s after the first send ({} rows)\n", r.visible_s, r.visibility.rows);
      fmt::print("committed rows/s  {:.1f}\n", per_second(r.expected_rows, r.visible_s));
    } else {
      fmt::print("all rows visible  NOT REACHED: {} of {} rows before the timeout{}\n", r.visibility.rows,
                 r.expected_rows, r.visibility.last_error.empty() ? "" : " (" + r.visibility.last_error + ")");
    }
  }
  if (r.peak_rss_kib >= 0)
    fmt::print("cdrd peak RSS     {:.1f} MiB (VmHWM {} kB)\n", r.peak_rss_kib / 1024.0, r.peak_rss_kib);
}

std::string report_json(const Settings& s, const Report& r) {
  const LoadResult& l = r.load;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("count");
  w.Uint64(s.load.count);
  w.Key("concurrency");
  w.Int(s.load.concurrency);
  w.Key("threads");
  w.Int(s.load.threads);
  w.Key("body_bytes");
  w.Uint64(r.body_bytes);
  w.Key("account_id");
  w.String(s.account);
  w.Key("sent");
  w.Uint64(l.cdrs_sent);
  w.Key("requests");
  w.Uint64(l.requests);
  w.Key("acknowledged");
  w.Uint64(l.acknowledged);
  w.Key("other_statuses");
  w.StartObject();
  for (const auto& [status, n] : l.other_statuses) {
    const std::string key = std::to_string(status);
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.Uint64(n);
  }
  w.EndObject();
  w.Key("transport_errors");
  w.Uint64(l.transport_errors);
  w.Key("failed_cdrs");
  w.Uint64(l.failed_cdrs);
  w.Key("timed_out");
  w.Bool(l.timed_out);
  w.Key("stopped");
  w.Bool(l.stopped);
  w.Key("rate");
  w.Double(s.load.rate);
  w.Key("unanswered");
  w.Uint64(unanswered(l));
  w.Key("ack_wall_s");
  w.Double(r.ack_wall_s);
  w.Key("acks_per_s");
  w.Double(per_second(l.acknowledged, r.ack_wall_s));
  w.Key("ack_p50_ms");
  w.Double(r.latency.p50_ms);
  w.Key("ack_p90_ms");
  w.Double(r.latency.p90_ms);
  w.Key("ack_p99_ms");
  w.Double(r.latency.p99_ms);
  w.Key("ack_max_ms");
  w.Double(r.latency.max_ms);
  if (r.polled) {
    w.Key("rows_visible");
    w.Uint64(r.visibility.rows);
    w.Key("all_visible");
    w.Bool(r.visibility.reached);
    if (r.visibility.reached) {
      w.Key("visible_s");
      w.Double(r.visible_s);
      w.Key("committed_per_s");
      w.Double(per_second(r.expected_rows, r.visible_s));
    }
  }
  if (r.peak_rss_kib >= 0) {
    w.Key("cdrd_peak_rss_kib");
    w.Int64(r.peak_rss_kib);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

int run(Settings s) {
  if (s.load.host == "localhost") s.load.host = "127.0.0.1";
  if (!is_loopback_address(s.load.host)) {
    fmt::print(stderr, "--host {}: only loopback addresses (127.0.0.0/8, ::1) are allowed\n", s.load.host);
    return 2;
  }
  std::ifstream in(s.sample, std::ios::binary);
  std::stringstream sample;
  sample << in.rdbuf();
  if (!in) {
    fmt::print(stderr, "cannot read --sample {}\n", s.sample);
    return 2;
  }
  if (s.account.empty()) s.account = fmt::format("bench-{}-{}", ::getpid(), std::time(nullptr));
  CdrBodyTemplate body;
  std::string error;
  // Times moved to the hour before now, as a live switch sends them: the rows
  // land in the current month's partition as in production, not in
  // cdrs_default (the sample is from 2018).
  const int64_t move_to = s.keep_sample_times ? 0 : static_cast<int64_t>(std::time(nullptr)) - 3600;
  if (!CdrBodyTemplate::build(sample.str(), s.account, s.pretty, move_to, &body, &error)) {
    fmt::print(stderr, "--sample {}: {}\n", s.sample, error);
    return 2;
  }
  std::random_device entropy;
  s.load.run_id = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();

  const auto start = BenchClock::now();
  const auto deadline = start + std::chrono::seconds(s.load.timeout_s);
  std::unique_ptr<RunRowCounter> counter;
  uint64_t rows_before = 0;
  if (!s.dsn.empty()) {
    // Connecting before the load keeps connection set-up out of the visibility time.
    counter = std::make_unique<RunRowCounter>(s.dsn, s.account);
    if (!counter->count(&rows_before, &error)) {
      fmt::print(stderr, "--dsn: cannot count rows: {}\n", error);
      return 1;
    }
  }

  Report r;
  r.body_bytes = body.body().size();
  r.uuid_occurrences = body.uuid_occurrences();
  r.moved_times = body.moved_times();
  if (!run_http_load(s.load, body, &r.load, &error)) {
    fmt::print(stderr, "load did not start: {}\n", error);
    return 1;
  }
  if (r.load.first_send != BenchClock::time_point{} && r.load.last_ack > r.load.first_send) {
    r.ack_wall_s = seconds_between(r.load.first_send, r.load.last_ack);
  }
  if (counter && r.load.acknowledged > 0) {
    r.polled = true;
    r.expected_rows = r.load.acknowledged;
    // Every 100 ms: a count(*) of the run's rows costs the database real
    // CPU (tens of ms at 100k rows), which the writer competes with; the
    // rate's error is at most 0.1 s over the run.
    r.visibility = wait_until_visible(counter.get(), rows_before + r.expected_rows, deadline, 100);
    if (r.visibility.rows >= rows_before) r.visibility.rows -= rows_before;
    if (r.visibility.reached) r.visible_s = seconds_between(r.load.first_send, r.visibility.visible_at);
  }
  if (s.cdrd_pid > 0) r.peak_rss_kib = read_peak_rss_kib(s.cdrd_pid);
  r.latency = summarize_latencies(&r.load.ack_latencies_us);

  print_human(s, r);
  fmt::print("{}\n", report_json(s, r));
  // A run stopped by a signal is complete when every CDR it sent was acknowledged.
  const uint64_t expected = r.load.stopped ? r.load.cdrs_sent : s.load.count;
  const bool complete = r.load.acknowledged == expected && !r.load.timed_out && (!r.polled || r.visibility.reached);
  return complete ? 0 : 1;
}

// main's work; main only catches what escapes it.
int run_main(int argc, char** argv) {
  Settings s;
  s.sample = CDRD_BENCH_DEFAULT_SAMPLE;
  CLI::App app{
      "cdrd_loadgen: posts mod_json_cdr bodies to cdrd over keep-alive connections and reports "
      "acknowledged and committed CDRs/s, ack latency and cdrd's peak RSS"};
  app.add_option("--host", s.load.host, "cdrd address; loopback only (127.0.0.0/8, ::1)")->capture_default_str();
  app.add_option("--port", s.load.port, "cdrd HTTP port")->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--count", s.load.count, "CDRs to post")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--concurrency", s.load.concurrency, "keep-alive connections, one request in flight each")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--threads", s.load.threads, "generator threads sharing the connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--rate", s.load.rate, "CDRs per second over all connections, on a fixed schedule; 0 = unpaced")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--sample", s.sample, "mod_json_cdr JSON document used as the body")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  app.add_flag("--pretty", s.pretty, "post the sample tab-indented instead of compact as mod_json_cdr sends it");
  app.add_flag("--keep-sample-times", s.keep_sample_times,
               "post the sample's own times; by default they are moved to the hour before now");
  app.add_option("--dsn", s.dsn, "libpq DSN of cdrd's database: wait until every acknowledged row is visible");
  app.add_option("--account", s.account, "account_id put into every CDR (default bench-<pid>-<time>)");
  app.add_option("--cdrd-pid", s.cdrd_pid, "cdrd's pid: report its peak RSS (VmHWM)")->check(CLI::PositiveNumber);
  app.add_option("--timeout-s", s.load.timeout_s, "bound on the whole run, load and visibility wait")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--request-timeout-s", s.load.request_timeout_s, "a request without a reply fails after this long")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // A peer closing mid-write must surface as a failed request, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  s.load.stop = &g_stop;
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  return run(s);
}

}  // namespace
}  // namespace cdrd

int main(int argc, char** argv) { return cdrd::bench::guarded_main("cdrd_loadgen", cdrd::run_main, argc, argv); }
