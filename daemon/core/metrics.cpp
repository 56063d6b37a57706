#include "daemon/core/metrics.h"

#include <fmt/format.h>

namespace cdrd {

void LatencyHistogram::observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void LatencyHistogram::render(const std::string& name, const std::string& help, std::string* out) const {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], cumulative);
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative,
                 name, static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6, name,
                 count_.load(std::memory_order_relaxed));
}

namespace {
template <typename T>
void metric(std::string* out, const char* name, const char* type, const char* help, const std::atomic<T>& v) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name,
                 v.load(std::memory_order_relaxed));
}
// One labelled sample per ESL node for each family, families in a fixed order.
template <typename Get>
void esl_family(std::string* out, const char* name, const char* type, const char* help,
                const std::vector<std::unique_ptr<EslNodeMetrics>>& nodes, Get get) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  for (const auto& n : nodes) {
    // Prometheus label values escape backslash, quote and newline.
    std::string label;
    for (char c : n->node) {
      if (c == '\\' || c == '"') label += '\\';
      if (c == '\n') {
        label += "\\n";
        continue;
      }
      label += c;
    }
    fmt::format_to(std::back_inserter(*out), "{}{{node=\"{}\"}} {}\n", name, label, get(*n));
  }
}
}  // namespace

EslNodeMetrics& Metrics::esl_node(const std::string& name) {
  std::lock_guard<std::mutex> lock(esl_mu_);
  for (auto& n : esl_nodes_) {
    if (n->node == name) return *n;
  }
  esl_nodes_.push_back(std::make_unique<EslNodeMetrics>(name));
  return *esl_nodes_.back();
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(4096);
  fmt::format_to(std::back_inserter(out),
                 "# HELP cdrd_received_total Ingest requests and events received, by source.\n"
                 "# TYPE cdrd_received_total counter\n"
                 "cdrd_received_total{{source=\"json_cdr\"}} {}\n"
                 "cdrd_received_total{{source=\"xml_cdr\"}} {}\n"
                 "cdrd_received_total{{source=\"import\"}} {}\n"
                 "cdrd_received_total{{source=\"esl\"}} {}\n",
                 received_json.load(), received_xml.load(), received_import.load(), received_esl.load());
  metric(&out, "cdrd_rejected_total", "counter", "Inputs refused as bad and kept in the rejects store.", rejected);
  metric(&out, "cdrd_unavailable_total", "counter", "Ingest requests answered 503 (spool full or failing).",
         unavailable);
  fmt::format_to(std::back_inserter(out),
                 "# HELP cdrd_ingest_refused_total Ingest requests refused before reading the CDR, by reason.\n"
                 "# TYPE cdrd_ingest_refused_total counter\n"
                 "cdrd_ingest_refused_total{{reason=\"auth\"}} {}\n"
                 "cdrd_ingest_refused_total{{reason=\"address\"}} {}\n",
                 ingest_refused_auth.load(), ingest_refused_address.load());
  metric(&out, "cdrd_spooled_total", "counter", "CDRs made durable in the local spool.", spooled);
  metric(&out, "cdrd_written_total", "counter", "CDRs committed to PostgreSQL (including duplicates ignored).",
         written);
  metric(&out, "cdrd_inserted_total", "counter", "CDRs that were new rows in PostgreSQL.", inserted);
  metric(&out, "cdrd_batches_total", "counter", "Batches committed to PostgreSQL.", batches);
  metric(&out, "cdrd_writer_errors_total", "counter", "Failed batch attempts (each retried).", writer_errors);
  metric(&out, "cdrd_database_up", "gauge", "1 when the writer's database connection works.", db_up);
  fmt::format_to(std::back_inserter(out),
                 "# HELP cdrd_writer_retries_total Batch attempts that failed and were retried, by cause.\n"
                 "# TYPE cdrd_writer_retries_total counter\n"
                 "cdrd_writer_retries_total{{reason=\"connection\"}} {}\n"
                 "cdrd_writer_retries_total{{reason=\"in_doubt\"}} {}\n"
                 "cdrd_writer_retries_total{{reason=\"conflict\"}} {}\n"
                 "cdrd_writer_retries_total{{reason=\"resources\"}} {}\n"
                 "cdrd_writer_retries_total{{reason=\"interrupted\"}} {}\n"
                 "cdrd_writer_retries_total{{reason=\"other\"}} {}\n"
                 "# HELP cdrd_writer_backoff_seconds Upper bound of the writer's last back-off wait.\n"
                 "# TYPE cdrd_writer_backoff_seconds gauge\n"
                 "cdrd_writer_backoff_seconds {}\n",
                 writer_retries_connection.load(), writer_retries_in_doubt.load(), writer_retries_conflict.load(),
                 writer_retries_resources.load(), writer_retries_interrupted.load(), writer_retries_other.load(),
                 static_cast<double>(writer_backoff_ms.load()) / 1000.0);
  metric(&out, "cdrd_quarantined_total", "counter", "Rows PostgreSQL refused or unreadable, put in cdrs_quarantine.",
         quarantined);
  metric(&out, "cdrd_rows_default_partition_total", "counter",
         "Rows written into cdrs_default: no monthly partition covers their month.", rows_default_partition);
  metric(&out, "cdrd_partitions_dropped_total", "counter", "Monthly partitions dropped by database.retention_months.",
         partitions_dropped);
  metric(&out, "cdrd_rows_copied_direct_total", "counter",
         "Rows COPYed straight into cdrs: no stored version of their leg, once in their batch.", rows_copied_direct);
  metric(&out, "cdrd_direct_copy_conflicts_total", "counter",
         "Direct COPYs that met a stored row after all and were written by the upsert instead.", direct_copy_conflicts);
  metric(&out, "cdrd_calls_relinked_total", "counter",
         "Stored legs re-linked into another call (interaction_id, direction_class, root) by a later leg.",
         calls_relinked);
  out += fmt::format(
      "# HELP cdrd_rated_total Charges computed, by side.\n"
      "# TYPE cdrd_rated_total counter\n"
      "cdrd_rated_total{{side=\"customer\"}} {}\n"
      "cdrd_rated_total{{side=\"vendor\"}} {}\n"
      "# HELP cdrd_unrated_total Legs to charge with no deck assigned or no matching prefix (rating.status unrated).\n"
      "# TYPE cdrd_unrated_total counter\n"
      "cdrd_unrated_total{{side=\"customer\"}} {}\n"
      "cdrd_unrated_total{{side=\"vendor\"}} {}\n",
      customer_rated.load(), vendor_rated.load(), customer_unrated.load(), vendor_unrated.load());
  metric(&out, "cdrd_rating_reloads_total", "counter", "Rate decks and assignments reloaded by the writer.",
         rating_reloads);
  const auto seconds = [](const std::atomic<uint64_t>& us) {
    return static_cast<double>(us.load(std::memory_order_relaxed)) / 1e6;
  };
  out += fmt::format(
      "# HELP cdrd_writer_step_seconds_total Wall time of the batch writer's steps, summed over batches.\n"
      "# TYPE cdrd_writer_step_seconds_total counter\n"
      "cdrd_writer_step_seconds_total{{step=\"prepare\"}} {}\n"
      "cdrd_writer_step_seconds_total{{step=\"call_step\"}} {}\n"
      "cdrd_writer_step_seconds_total{{step=\"rows\"}} {}\n"
      "cdrd_writer_step_seconds_total{{step=\"checkpoint\"}} {}\n",
      seconds(writer_prepare_us), seconds(writer_call_step_us), seconds(writer_rows_us), seconds(writer_checkpoint_us));
  out += fmt::format(
      "# HELP cdrd_writer_share_seconds_total Wall time of the writer's shares (several connections), summed over "
      "batches: connection 0 (its rows, the links, its commit) and the slowest other connection.\n"
      "# TYPE cdrd_writer_share_seconds_total counter\n"
      "cdrd_writer_share_seconds_total{{connection=\"0\"}} {}\n"
      "cdrd_writer_share_seconds_total{{connection=\"others\"}} {}\n"
      "# HELP cdrd_writer_connection0_share Connection 0's part of a batch's rows (0 to 1), moved until its share "
      "takes as long as the others'.\n"
      "# TYPE cdrd_writer_connection0_share gauge\n"
      "cdrd_writer_connection0_share {}\n",
      seconds(writer_share0_us), seconds(writer_lanes_us),
      static_cast<double>(writer_share0_permille.load(std::memory_order_relaxed)) / 1000.0);
  metric(&out, "cdrd_spool_bytes", "gauge", "Bytes in spool segments not yet committed to PostgreSQL.", spool_bytes);
  metric(&out, "cdrd_spool_pending_records", "gauge", "Durable spool records not yet committed to PostgreSQL.",
         spool_pending_records);
  metric(&out, "cdrd_api_requests_total", "counter", "Read API requests.", api_requests);
  metric(&out, "cdrd_api_errors_total", "counter", "Read API requests answered with an error.", api_errors);
  metric(&out, "cdrd_api_exports_total", "counter", "Streamed reads started (paginate=false, CSV).", api_exports);
  metric(&out, "cdrd_api_exports_refused_total", "counter", "Streamed reads refused with 429 (api.max_exports).",
         api_exports_refused);
  metric(&out, "cdrd_api_exports_cancelled_total", "counter",
         "Streamed reads cut short (client gone, cdrd stopping, database error).", api_exports_cancelled);
  metric(&out, "cdrd_api_export_rows_total", "counter", "Rows sent by streamed reads.", api_export_rows);
  metric(&out, "cdrd_http_connections", "gauge", "Open HTTP connections, every listener together.", http_connections);
  metric(&out, "cdrd_http_connection_limit_hits_total", "counter",
         "Times limits.max_connections was reached and accepting stopped.", http_connection_limit_hits);
  metric(&out, "cdrd_http_request_deadline_total", "counter",
         "HTTP connections closed because no whole request arrived within limits.request_timeout_s.",
         http_request_deadline_cuts);
  metric(&out, "cdrd_http_protocol_errors_total", "counter",
         "Requests refused by the HTTP parser (malformed, headers or body over the limits).", http_errors_rewritten);
  batch_seconds.render("cdrd_batch_seconds", "Time to write and commit one batch.", &out);
  ack_seconds.render("cdrd_ack_seconds", "Ingest request arrival to durable acknowledgement.", &out);
  fsync_seconds.render("cdrd_spool_sync_seconds", "One spool group commit (write + fdatasync).", &out);
  std::lock_guard<std::mutex> lock(esl_mu_);
  if (!esl_nodes_.empty()) {
    const auto relaxed = std::memory_order_relaxed;
    esl_family(&out, "cdrd_esl_connected", "gauge", "1 while the ESL link is authenticated and subscribed.", esl_nodes_,
               [&](const EslNodeMetrics& n) { return n.connected.load(relaxed); });
    esl_family(&out, "cdrd_esl_events_total", "counter", "ESL event frames received (hangups and heartbeats).",
               esl_nodes_, [&](const EslNodeMetrics& n) { return n.events.load(relaxed); });
    esl_family(&out, "cdrd_esl_reconnects_total", "counter", "ESL connection attempts after a lost or failed one.",
               esl_nodes_, [&](const EslNodeMetrics& n) { return n.reconnects.load(relaxed); });
    esl_family(&out, "cdrd_esl_auth_failures_total", "counter", "ESL auth answered -ERR invalid (wrong password).",
               esl_nodes_, [&](const EslNodeMetrics& n) { return n.auth_failures.load(relaxed); });
    esl_family(&out, "cdrd_esl_spool_refusals_total", "counter",
               "ESL hangups the spool refused (full or failing); reading paused and the append retried.", esl_nodes_,
               [&](const EslNodeMetrics& n) { return n.spool_refusals.load(relaxed); });
  }
  return out;
}

Metrics& global_metrics() {
  static Metrics metrics;
  return metrics;
}

}  // namespace cdrd
