// Process-wide counters, rendered by GET /metrics in Prometheus text format.
// Every field is a relaxed atomic: written from any thread, read by the
// renderer on the loop thread. No locks on hot paths.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace cdrd {

// Fixed-bucket latency histogram (seconds), lock-free.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  void observe(double seconds);
  // Appends the _bucket/_sum/_count lines for `name`.
  void render(const std::string& name, const std::string& help, std::string* out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

struct Metrics {
  // Ingest, by source route.
  std::atomic<uint64_t> received_json{0};    // POST /ingest/freeswitch/json requests
  std::atomic<uint64_t> received_xml{0};     // POST /ingest/freeswitch/xml requests
  std::atomic<uint64_t> received_import{0};  // POST /ingest/cdr requests
  std::atomic<uint64_t> received_esl{0};     // ESL hangup events
  std::atomic<uint64_t> rejected{0};         // bad input, kept in the rejects store
  std::atomic<uint64_t> unavailable{0};      // 503: spool full or failing
  std::atomic<uint64_t> spooled{0};          // records made durable in the spool
  // Writer.
  std::atomic<uint64_t> written{0};        // rows sent to PostgreSQL in committed batches
  std::atomic<uint64_t> inserted{0};       // rows that were new (not already present)
  std::atomic<uint64_t> batches{0};        // committed batches
  std::atomic<uint64_t> writer_errors{0};  // failed batch attempts (retried)
  std::atomic<int64_t> db_up{0};           // 1 when the writer's connection works
  // Spool state (gauges).
  std::atomic<int64_t> spool_bytes{0};
  std::atomic<int64_t> spool_pending_records{0};
  // Read API.
  std::atomic<uint64_t> api_requests{0};
  std::atomic<uint64_t> api_errors{0};

  LatencyHistogram batch_seconds;  // one committed batch, COPY to COMMIT
  LatencyHistogram ack_seconds;    // ingest request arrival to durable ack
  LatencyHistogram fsync_seconds;  // one spool group commit

  std::string render() const;
};

// The process's metrics. Components take a Metrics* so tests can use their own.
Metrics& global_metrics();

}  // namespace cdrd
