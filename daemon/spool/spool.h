// Spool: the local durable log between ingest and PostgreSQL.
//
// Threads. Producers (the ingest loop, the ESL client) call append(), which
// only copies the payload into an in-memory pending list under a mutex and
// never touches the disk. One sync thread owned by the Spool takes the whole
// pending list at once (group commit), writes it to the current segment,
// fdatasync()s, publishes the new durable end, and then runs each append's
// `done` callback. One consumer (the BatchWriter thread) calls read() for
// durable records and commit() once they are in PostgreSQL.
//
// Files, under options.dir:
//   seg-<20-digit number>.log  append-only segments; each record is framed as
//                              u32 length | u32 crc32(payload) | payload
//                              (little-endian; crc32 as computed by zlib; a
//                              length above 64 MiB is a bad frame). Rotated
//                              once a segment reaches segment_bytes.
//   checkpoint                 the committed position (segment, offset) plus
//                              a checksum; replaced atomically (write temp,
//                              fsync, rename, fsync dir).
// Recovery (open): read the checkpoint, scan every segment from it, stop at
// the first bad frame (short header, short payload, bad crc) in the LAST
// segment and truncate the file there (a torn write from a crash; none of
// those records was acknowledged). A bad frame in an earlier segment is
// corruption: open() fails and says where.
// Segments entirely before the committed position are deleted by commit().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cdrd {

struct Metrics;

struct SpoolOptions {
  // Directory of the segment files and the checkpoint. Created if missing.
  std::string dir;
  // Bytes of not-yet-committed data (live segments) above which append()
  // answers kFull. Default 2 GiB.
  uint64_t max_bytes = 2ull << 30;
  // A segment is closed and a new one started once it reaches this size.
  // Default 64 MiB.
  uint64_t segment_bytes = 64ull << 20;
  // Optional; counters spool_bytes, spool_pending_records, spooled and the
  // fsync_seconds histogram are kept up to date when set.
  Metrics* metrics = nullptr;
};

// A place in the spool: byte `offset` of segment number `segment`.
struct SpoolPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  bool operator==(const SpoolPosition& o) const { return segment == o.segment && offset == o.offset; }
  bool operator!=(const SpoolPosition& o) const { return !(*this == o); }
  bool operator<(const SpoolPosition& o) const {
    return segment < o.segment || (segment == o.segment && offset < o.offset);
  }
};

struct SpoolRecord {
  std::string payload;
  // The position just after this record: pass it to commit() once the record
  // (and every one before it) is in the database, or to read() to continue.
  // The end of a closed segment is given as the start of the next one.
  SpoolPosition next;
};

class Spool {
 public:
  enum class AppendResult {
    kQueued,  // `done` will be called exactly once
    kFull,    // over max_bytes (or a payload over 64 MiB); `done` is not called; answer 503
    kFailed,  // the spool is broken (a write or sync failed) or shut down; `done` is not called
  };
  // Runs on the sync thread. durable=false when the write or fdatasync failed:
  // the record must not be acknowledged (and is not in the spool: offer it again).
  using DoneFn = std::function<void(bool durable)>;

  // Opens (creating if needed) and recovers the spool, starts the sync thread.
  // Returns nullptr with *error set (naming the file and offset) on failure.
  static std::unique_ptr<Spool> open(const SpoolOptions& options, std::string* error);

  // Flushes whatever is pending (running its callbacks), stops the sync thread.
  ~Spool();

  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Thread-safe; never blocks on disk I/O.
  AppendResult append(std::string payload, DoneFn done);

  // Consumer side (one thread). Fills `out` with durable records that start at
  // or after `from`, at most `max_records`. Returns as soon as at least one is
  // available; otherwise waits until `deadline` and returns with `out` empty.
  // Returns false only when the spool was shut down and no record is left
  // after `from`. Records are read back from the segment files, so a consumer
  // that lags behind does not grow memory. Reading never starts before
  // committed(): those records may already be deleted.
  bool read(SpoolPosition from, size_t max_records, std::chrono::steady_clock::time_point deadline,
            std::vector<SpoolRecord>* out);

  // Persists that every record before `upto` is in the database (the
  // checkpoint) and deletes segments that lie entirely before it. After a
  // restart, read() from committed() replays what comes after. Fails, with
  // *error set, when `upto` is not a record boundary between committed() and
  // durable_end(), or when the checkpoint cannot be written.
  bool commit(SpoolPosition upto, std::string* error);

  // The committed position (as recovered by open(), then as last committed).
  SpoolPosition committed() const;
  // The end of the durable data (everything before it has been fdatasync'd).
  SpoolPosition durable_end() const;

  // Bytes between the committed position and the end of the spool.
  uint64_t live_bytes() const;
  // False once a write or sync has failed and its records could not be cut
  // back out of the files (the spool then refuses appends until restart). A
  // failed group that was cut back cleanly (e.g. ENOSPC) only fails its own
  // appends (durable=false); later appends are tried again.
  bool healthy() const;

  // Wakes a blocked read(); after it, read() returns what is left and then false.
  // append() answers kFailed. Pending appends are still flushed.
  void shutdown();

 private:
  struct Impl;
  explicit Spool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdrd
