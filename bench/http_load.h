// The load itself: `concurrency` keep-alive HTTP/1.1 connections (libevent's
// evhttp client), spread over a few threads with one event_base each. Every
// connection posts one CDR, waits for the whole reply, then posts the next,
// until `count` CDRs have been answered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/cdr_body_template.h"

namespace cdrd {

struct LoadOptions {
  std::string host = "127.0.0.1";  // a literal loopback address
  int port = 8080;
  std::string path = "/ingest/freeswitch/json";  // requested as path?uuid=<call uuid>
  uint64_t count = 1000;
  int concurrency = 32;
  int threads = 1;
  int timeout_s = 600;         // the whole load stops after this long
  int request_timeout_s = 30;  // one request fails after this long
  int max_attempts = 3;        // per CDR on transport errors; a resend reuses the uuid, so cdrd deduplicates it
  uint64_t run_id = 0;         // uuid prefix of this run (format_bench_uuid)
  // CDRs per second over all connections; 0 = as fast as the connections go.
  // CDR i is sent no earlier than i / rate seconds after the start: a fixed
  // schedule, so a slow reply delays only its connection, not the rate.
  double rate = 0;
  // When set and true, connections stop taking new CDRs; the ones in flight
  // finish (a graceful stop, e.g. on SIGTERM).
  const std::atomic<bool>* stop = nullptr;
};

using BenchClock = std::chrono::steady_clock;

struct LoadResult {
  uint64_t cdrs_sent = 0;                  // distinct CDRs posted at least once
  uint64_t requests = 0;                   // including resends after transport errors
  uint64_t acknowledged = 0;               // 200 replies
  std::map<int, uint64_t> other_statuses;  // final non-200 reply per CDR, by status
  uint64_t transport_errors = 0;           // requests that got no reply (each resent while attempts last)
  uint64_t failed_cdrs = 0;                // CDRs that never got any reply
  std::vector<uint64_t> ack_latencies_us;  // of the 200 replies
  std::string first_error_reply;           // status and start of the first non-200 body, for diagnosis
  bool timed_out = false;
  bool stopped = false;  // options.stop ended the load before `count`
  BenchClock::time_point first_send{};
  BenchClock::time_point last_ack{};  // of the last reply of any status
};

// Runs the load to completion or timeout. False with *error only when it
// could not start (bad address, no event base).
bool run_http_load(const LoadOptions& options, const CdrBodyTemplate& body, LoadResult* result, std::string* error);

}  // namespace cdrd
