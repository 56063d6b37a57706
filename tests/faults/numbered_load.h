// Numbered load for the fault matrix, as Kafka's and rsyslog's tests do it:
// every CDR carries a sequence number (channel variable ecallmgr_fault_seq,
// stored as record->custom_channel_vars->fault_seq) and a uuid of its own, so
// each one can be found again in PostgreSQL and counted.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/esl/esl_test_server.h"

namespace cdrd::test {

// The mod_json_cdr body of number `seq` ("h<seq>") for `account`.
std::string numbered_json_cdr(const std::string& account, uint64_t seq);
// The text/event-plain body of a CHANNEL_HANGUP_COMPLETE numbered "e<seq>".
std::string numbered_esl_event(const std::string& account, uint64_t seq);

struct HttpLoadCounts {
  uint64_t sent = 0;            // distinct numbers offered at least once
  uint64_t acknowledged = 0;    // numbers that got a 200 (each once, however many tries)
  uint64_t status_503 = 0;      // 503 answers seen (every try)
  uint64_t other_errors = 0;    // transport errors and statuses other than 200/503 (every try)
  uint64_t unexpected_4xx = 0;  // 4xx answers: the body was refused, never retried
};

// Posts numbered mod_json_cdr bodies to POST /ingest/freeswitch/json from
// `threads` keep-alive connections, one request per `interval` per thread.
// A 503 or a transport error is retried later with the same body (as
// FreeSWITCH does); a number counts as acknowledged once it got a 200.
class HttpLoad {
 public:
  HttpLoad(int port, std::string account, int threads, std::chrono::milliseconds interval);
  ~HttpLoad();  // finish(now)

  void start();
  // Stops offering new numbers, keeps retrying the unacknowledged ones until
  // all are acknowledged or `deadline` passes, then joins. True when every
  // number was acknowledged.
  bool finish(std::chrono::steady_clock::time_point deadline);

  HttpLoadCounts counts() const;
  std::set<uint64_t> acknowledged() const;
  std::set<uint64_t> sent() const;

 private:
  void run(int thread_index);

  const int port_;
  const std::string account_;
  const int threads_;
  const std::chrono::milliseconds interval_;
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<bool> no_new_{false};
  std::atomic<bool> give_up_{false};
  std::vector<std::thread> workers_;
  mutable std::mutex mu_;
  std::set<uint64_t> sent_;          // guarded by mu_
  std::set<uint64_t> acknowledged_;  // guarded by mu_
  HttpLoadCounts counts_;            // guarded by mu_ (sent/acknowledged from the sets)
};

// Numbered CHANNEL_HANGUP_COMPLETE events from an EslTestServer: each
// connection's script is a generator that writes the next number every
// `interval` until stop(). ESL has no acknowledgement: "sent" is an event
// handed to the socket; one written into a connection cdrd never read
// (cdrd killed) is lost by protocol, as with FreeSWITCH.
class EslLoad {
 public:
  EslLoad(EslTestServer* server, std::string account, std::chrono::milliseconds interval);
  void start();  // installs the default session script; start the server afterwards
  // No new events; the one being written finishes.
  void stop() { stop_.store(true); }
  uint64_t sent() const { return next_seq_.load() - 1; }

 private:
  EslTestServer* server_;
  const std::string account_;
  const std::chrono::milliseconds interval_;
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<bool> stop_{false};
};

}  // namespace cdrd::test
