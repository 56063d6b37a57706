// BatchWriter: the one thread that moves durable spool records into
// PostgreSQL. It owns its pqxx::connection (no other thread touches it).
//
// Loop: read up to max_rows durable records from the spool (waiting at most
// max_delay_ms after the first for the batch to fill), then in ONE
// transaction COPY them into a temp staging table and
//   INSERT INTO cdrs SELECT DISTINCT ON (id, ts, account_id) ... FROM staging
//   ON CONFLICT (id, ts, account_id) DO UPDATE ... WHERE the new source ranks higher,
// commit, and only then Spool::commit() the batch's end position. The same
// leg over ESL and over mod_json_cdr/mod_xml_cdr is one row holding the
// richer record (json_cdr = xml_cdr = import > esl), whichever came first; a
// replay of the same record changes nothing. A crash anywhere replays the
// batch from the spool, so every acknowledged CDR is in `cdrs` exactly once.
// Errors (classify_db_error() in batch_sql.h): a row PostgreSQL refuses as
// data (bad value, constraint, value too large; also at COMMIT, from a
// deferred constraint) -> the batch is split until the bad rows are
// isolated; they go to cdrs_quarantine with the error text and the good rows
// are written. Anything else (broken connection, in-doubt commit,
// serialization failure, deadlock, disk full, shutdown, and whatever is not
// classified) -> reconnect and retry the same batch with capped exponential
// back-off, forever; it never quarantines a row.
// Rows that land in cdrs_default (no partition for their month) are counted
// and their months logged; database.retention_months drops old partitions.
//
// Several connections (options.connections, database.writer_connections):
// the batch's call step (links, the walk, assembly, rating, re-links) runs
// once, on this thread's connection; the rows are then split by leg (a hash
// of account and call_id: both versions of a leg share a connection) and
// each share is written in its own transaction, share 0 here and the others
// by WriterLanes (writer_lane.h), each a thread owning one connection, all
// at once. The links go in with share 0, so share 0 takes fewer rows: after
// each batch the split moves towards connection 0 and the slowest lane
// finishing together (cdrd_writer_connection0_share). The spool forgets the batch only
// when every share has committed; the next batch's walk starts after that,
// so it sees all of them. A share that fails makes the whole batch retry
// (transient error) or go through the one-connection split path (data
// error); the shares already committed replay as unchanged upserts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "daemon/spool/spool.h"

namespace cdrd {

struct Metrics;

struct BatchWriterOptions {
  std::string dsn;                               // libpq conninfo; required
  size_t max_rows = 1000;                        // rows per batch. Default 1000.
  std::chrono::milliseconds max_delay{200};      // batch fill wait. Default 200 ms.
  std::chrono::milliseconds retry_initial{100};  // first back-off after a failure. Default 100 ms.
  std::chrono::milliseconds retry_max{5000};     // back-off cap. Default 5 s.
  int partitions_ahead_months = 3;               // ensure_partitions() at connect and daily
  int retention_months = 0;                      // drop_expired_partitions() at connect and daily; 0 = keep all
  // Connections writing each batch in parallel (database.writer_connections).
  // Default 2.
  int connections = 2;
};

class BatchWriter {
 public:
  BatchWriter(BatchWriterOptions options, Spool* spool, Metrics* metrics);
  ~BatchWriter();  // stop()

  // Starts the thread; it reads from spool->committed().
  void start();
  // Asks the thread to finish: the batch in flight is committed (or, if the
  // database is down, left in the spool for the next start), then it exits.
  // Blocks until the thread has exited.
  void stop();

  bool connected() const { return connected_.load(); }
  // When the thread last showed it is not stuck: it finished a batch, found
  // the spool empty, or woke from a back-off wait (steady clock). The systemd
  // watchdog is fed only while this is recent.
  std::chrono::steady_clock::time_point last_progress() const {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(progress_ticks_.load()));
  }

 private:
  void run();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> connected_{false};
  std::atomic<std::chrono::steady_clock::rep> progress_ticks_{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  std::thread thread_;
};

// The writer's split of a batch between its connections: connection 0's
// part of the rows for the next batch, from its part `share0` in this one
// and how long connection 0 and the slowest of `lanes` other connections
// took for their shares. Moves towards both taking as long, by half a
// Newton step; stays within [kMinConnection0Share, kMaxConnection0Share],
// so connection 0 and the lanes always keep some rows to be timed by.
inline constexpr double kMinConnection0Share = 0.02;
inline constexpr double kMaxConnection0Share = 0.98;
double next_connection0_share(double share0, uint64_t share0_us, uint64_t slowest_lane_us, size_t lanes);

}  // namespace cdrd
