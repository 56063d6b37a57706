// Process-wide counters, rendered by GET /metrics in Prometheus text format.
// Every field is a relaxed atomic: written from any thread, read by the
// renderer on the loop thread. No locks on hot paths.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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

// One ESL link (one freeswitch: entry), rendered with a node="<name>" label.
struct EslNodeMetrics {
  explicit EslNodeMetrics(std::string node_name) : node(std::move(node_name)) {}
  const std::string node;
  std::atomic<int64_t> connected{0};        // 1 while authenticated and subscribed
  std::atomic<uint64_t> events{0};          // event frames received (hangups and heartbeats)
  std::atomic<uint64_t> reconnects{0};      // connection attempts after a lost or failed one
  std::atomic<uint64_t> auth_failures{0};   // -ERR invalid answers to auth
  std::atomic<uint64_t> spool_refusals{0};  // appends refused (spool full or failing) and retried
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
  // Ingest requests refused before reading the CDR (ingest_guard.h).
  std::atomic<uint64_t> ingest_refused_auth{0};     // 401: no or wrong basic auth (ingest.basic_auth)
  std::atomic<uint64_t> ingest_refused_address{0};  // 403: peer not in ingest.allow_from
  // Writer.
  std::atomic<uint64_t> written{0};        // rows sent to PostgreSQL in committed batches
  std::atomic<uint64_t> inserted{0};       // rows that were new (not already present)
  std::atomic<uint64_t> batches{0};        // committed batches
  std::atomic<uint64_t> writer_errors{0};  // failed batch attempts (retried)
  std::atomic<int64_t> db_up{0};           // 1 when the writer's connection works
  // Writer: why batches were retried (batch_sql.h DbErrorClass), the
  // back-off, the quarantine and the partitions.
  std::atomic<uint64_t> writer_retries_connection{0};   // broken connection, 08xxx
  std::atomic<uint64_t> writer_retries_in_doubt{0};     // connection lost in COMMIT
  std::atomic<uint64_t> writer_retries_conflict{0};     // 40xxx serialization failure, deadlock
  std::atomic<uint64_t> writer_retries_resources{0};    // 53xxx disk full, out of memory
  std::atomic<uint64_t> writer_retries_interrupted{0};  // 57xxx statement timeout, admin shutdown
  std::atomic<uint64_t> writer_retries_other{0};        // anything unclassified (never quarantined)
  std::atomic<int64_t> writer_backoff_ms{0};            // the last back-off waited (its upper bound)
  std::atomic<uint64_t> quarantined{0};                 // rows put in cdrs_quarantine
  std::atomic<uint64_t> rows_default_partition{0};      // rows written into cdrs_default (no monthly partition)
  std::atomic<uint64_t> partitions_dropped{0};          // monthly partitions dropped by database.retention_months
  std::atomic<uint64_t> rows_copied_direct{0};          // rows COPYed straight into cdrs (no upsert needed)
  std::atomic<uint64_t> direct_copy_conflicts{0};       // direct COPYs that met a stored row and took the upsert
  // Call assembly and rating (daemon/db/call_store.h).
  std::atomic<uint64_t> calls_relinked{0};    // stored rows whose call-level fields a later leg changed
  std::atomic<uint64_t> customer_rated{0};    // customer charges computed
  std::atomic<uint64_t> customer_unrated{0};  // root legs with no customer deck or no matching prefix
  std::atomic<uint64_t> vendor_rated{0};      // vendor charges computed
  std::atomic<uint64_t> vendor_unrated{0};    // trunk legs with no vendor deck or no matching prefix
  std::atomic<uint64_t> rating_reloads{0};    // rate decks reloaded after a change
  // Wall time of the batch writer's steps, summed over batches (µs): where a
  // batch's time goes (bench/run_ingest_bench.sh prints it per row).
  std::atomic<uint64_t> writer_prepare_us{0};     // spool payloads decoded, typed columns taken
  std::atomic<uint64_t> writer_call_step_us{0};   // links, walk, assembly, rating, re-links (connection 0)
  std::atomic<uint64_t> writer_rows_us{0};        // rows and links written, every share committed
  std::atomic<uint64_t> writer_checkpoint_us{0};  // Spool::commit() after the batch
  // Several writer connections: how long connection 0 and the slowest lane
  // took for their shares (µs, summed), and connection 0's share of the rows
  // now (per mille), which the writer moves until both take as long.
  std::atomic<uint64_t> writer_share0_us{0};
  std::atomic<uint64_t> writer_lanes_us{0};
  std::atomic<int64_t> writer_share0_permille{0};
  // Spool state (gauges).
  std::atomic<int64_t> spool_bytes{0};
  std::atomic<int64_t> spool_pending_records{0};
  // Read API.
  std::atomic<uint64_t> api_requests{0};
  std::atomic<uint64_t> api_errors{0};
  // Streamed reads (paginate=false, CSV export).
  std::atomic<uint64_t> api_exports{0};            // started
  std::atomic<uint64_t> api_exports_refused{0};    // 429: api.max_exports already running
  std::atomic<uint64_t> api_exports_cancelled{0};  // cut short: client gone, server stopping, database error
  std::atomic<uint64_t> api_export_rows{0};        // rows sent by streamed reads
  // HTTP connections and limits (daemon/http/connection_gate.h).
  std::atomic<int64_t> http_connections{0};             // open now, every listener together
  std::atomic<uint64_t> http_connection_limit_hits{0};  // times limits.max_connections stopped accepting
  std::atomic<uint64_t> http_request_deadline_cuts{0};  // closed: no whole request within limits.request_timeout_s
  std::atomic<uint64_t> http_errors_rewritten{0};       // libevent's own 400/413/417 pages answered as JSON

  LatencyHistogram batch_seconds;  // one committed batch, COPY to COMMIT
  LatencyHistogram ack_seconds;    // ingest request arrival to durable ack
  LatencyHistogram fsync_seconds;  // one spool group commit

  std::string render() const;

  // The metrics of ESL node `name`, created on first use. The reference stays
  // valid for the life of this Metrics (the hot path then needs no lock).
  EslNodeMetrics& esl_node(const std::string& name);

 private:
  mutable std::mutex esl_mu_;
  std::vector<std::unique_ptr<EslNodeMetrics>> esl_nodes_;  // guarded by esl_mu_; order of creation
};

// The process's metrics. Components take a Metrics* so tests can use their own.
Metrics& global_metrics();

}  // namespace cdrd
