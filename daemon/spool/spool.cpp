#include "daemon/spool/spool.h"

#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "daemon/core/metrics.h"
#include "daemon/spool/spool_checkpoint.h"
#include "daemon/spool/spool_files.h"
#include "daemon/spool/spool_frame.h"
#include "daemon/spool/spool_segment.h"

namespace cdrd {
namespace {

struct PendingAppend {
  std::string payload;
  Spool::DoneFn done;
};

uint64_t frame_bytes(const std::string& payload) { return spool::kFrameHeaderBytes + payload.size(); }

std::string to_string(const SpoolPosition& position) {
  return fmt::format("{}:{}", spool::segment_file_name(position.segment), position.offset);
}

}  // namespace

struct Spool::Impl {
  explicit Impl(SpoolOptions spool_options) : options(std::move(spool_options)) {}

  bool recover(std::string* error);
  void run_sync();
  // Writes and fdatasyncs one group, rotating as segments fill. *sizes gets
  // the new durable size of every segment touched, in order. On failure
  // *undone tells whether the files are back where the group started.
  bool write_group(std::vector<PendingAppend>* group, std::vector<std::pair<uint64_t, uint64_t>>* sizes, bool* undone,
                   std::string* error);
  // Cuts the files back to where a failed group started, so that no frame of
  // it (acknowledged to nobody) survives a restart. False when that failed.
  bool undo_group(SpoolPosition start, const std::vector<uint64_t>& created);

  // The following require `mu`.
  // A position at the very end of a closed segment is the start of the next one.
  SpoolPosition normalize(SpoolPosition position) const;
  // Shut down and nothing is left to become durable.
  bool drained() const { return shut_down && pending.empty() && !writing; }
  void publish_gauges() const;

  const SpoolOptions options;

  mutable std::mutex mu;
  std::condition_variable sync_cv;     // the sync thread: pending work, or stop
  std::condition_variable durable_cv;  // read(): durable_end moved, or shutdown
  std::vector<PendingAppend> pending;
  uint64_t queued_bytes = 0;  // frames pending or being written
  bool writing = false;
  bool shut_down = false;
  bool stop_sync = false;
  bool failed = false;
  SpoolPosition committed;
  SpoolPosition durable_end;
  std::map<uint64_t, uint64_t> segment_sizes;  // durable bytes of each live segment
  uint64_t live_bytes = 0;                     // durable bytes after `committed`
  uint64_t live_records = 0;                   // durable records after `committed`

  spool::SegmentWriter writer;  // the sync thread's (open() uses it before the thread starts)

  std::mutex consumer_mu;  // serializes read() and commit(): commit deletes what read reads
  spool::SegmentReader reader;

  std::thread sync_thread;
};

SpoolPosition Spool::Impl::normalize(SpoolPosition position) const {
  for (auto it = segment_sizes.find(position.segment); it != segment_sizes.end(); ++it) {
    const auto next = std::next(it);
    if (next == segment_sizes.end() || position.offset != it->second) break;
    position = SpoolPosition{next->first, 0};
  }
  return position;
}

void Spool::Impl::publish_gauges() const {
  if (options.metrics == nullptr) return;
  options.metrics->spool_bytes.store(static_cast<int64_t>(live_bytes), std::memory_order_relaxed);
  options.metrics->spool_pending_records.store(static_cast<int64_t>(live_records), std::memory_order_relaxed);
}

bool Spool::Impl::recover(std::string* error) {
  const std::string& dir = options.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = fmt::format("cannot create spool directory {}: {}", dir, ec.message());
    return false;
  }
  // Left by a commit interrupted before its rename; the old checkpoint stands.
  std::filesystem::remove(spool::checkpoint_path(dir) + ".tmp", ec);

  bool have_checkpoint = false;
  SpoolPosition start;
  if (!spool::read_checkpoint(dir, &start, &have_checkpoint, error)) return false;
  std::vector<uint64_t> numbers;
  if (!spool::list_segments(dir, &numbers, error)) return false;
  if (!have_checkpoint && !numbers.empty()) start = SpoolPosition{numbers.front(), 0};

  // commit() deletes these right after moving the checkpoint; a crash in between leaves them.
  bool removed = false;
  while (!numbers.empty() && numbers.front() < start.segment) {
    const std::string path = spool::segment_path(dir, numbers.front());
    if (::unlink(path.c_str()) != 0) {
      *error = fmt::format("cannot remove committed segment {}: {}", path, spool::errno_text(errno));
      return false;
    }
    numbers.erase(numbers.begin());
    removed = true;
  }
  if (removed && !spool::fsync_directory(dir, error)) return false;

  if (have_checkpoint && (numbers.empty() || numbers.front() != start.segment)) {
    *error = fmt::format("checkpoint {} points to {} offset {}, but that segment file is missing",
                         spool::checkpoint_path(dir), spool::segment_path(dir, start.segment), start.offset);
    return false;
  }
  if (numbers.empty()) {
    if (!writer.create(spool::segment_path(dir, start.segment), start.segment, error) ||
        !spool::fsync_directory(dir, error)) {
      return false;
    }
    segment_sizes[start.segment] = 0;
  } else {
    for (size_t i = 0; i < numbers.size(); ++i) {
      const std::string path = spool::segment_path(dir, numbers[i]);
      const uint64_t from = numbers[i] == start.segment ? start.offset : 0;
      spool::SegmentScan scan;
      if (!spool::scan_segment(path, from, &scan, error)) return false;
      if (scan.stop != spool::FrameStatus::kEnd) {
        if (i + 1 < numbers.size()) {
          *error =
              fmt::format("{}: bad frame at offset {} ({}) in a segment that is not the last: the spool is corrupt",
                          path, scan.valid_end, spool::describe(scan.stop));
          return false;
        }
        // A torn write from a crash: nothing from here on was acknowledged.
        spdlog::warn("spool: {}: cutting a torn tail at offset {} ({}, {} bytes dropped)", path, scan.valid_end,
                     spool::describe(scan.stop), scan.file_size - scan.valid_end);
      }
      segment_sizes[numbers[i]] = scan.valid_end;
      live_bytes += scan.valid_end - from;
      live_records += scan.records;
    }
    const uint64_t last = numbers.back();
    // Also performs the torn-tail cut, durably.
    if (!writer.open_existing(spool::segment_path(dir, last), last, segment_sizes[last], error)) return false;
    if (writer.size() >= options.segment_bytes) {
      // Rotate now, so that whether a durable record ends its segment is settled.
      if (!writer.create(spool::segment_path(dir, last + 1), last + 1, error) || !spool::fsync_directory(dir, error)) {
        return false;
      }
      segment_sizes[last + 1] = 0;
    }
  }
  durable_end = SpoolPosition{writer.number(), writer.size()};
  committed = normalize(start);
  if (!have_checkpoint) {
    // Made now, while there is room: later commits overwrite it in place and
    // need no new space (a commit is what frees a full disk).
    std::string why;
    if (!spool::write_checkpoint(dir, committed, &why)) {
      spdlog::warn("spool: cannot create the checkpoint yet ({}); the first commit will", why);
    }
  }
  spdlog::info("spool: {} recovered, {} records ({} bytes) after the checkpoint {}", dir, live_records, live_bytes,
               to_string(committed));
  return true;
}

bool Spool::Impl::write_group(std::vector<PendingAppend>* group, std::vector<std::pair<uint64_t, uint64_t>>* sizes,
                              bool* undone, std::string* error) {
  const SpoolPosition start{writer.number(), writer.size()};
  std::vector<uint64_t> created;
  std::vector<spool::FrameHeader> headers(group->size());
  std::vector<iovec> iov;
  const auto fail = [&] {
    *undone = undo_group(start, created);
    return false;
  };
  bool unsynced = false;
  size_t i = 0;
  while (i < group->size()) {
    iov.clear();
    uint64_t bytes = 0;
    // Frames go whole into one segment; the frame that reaches segment_bytes closes it.
    while (i < group->size() && writer.size() + bytes < options.segment_bytes) {
      std::string& payload = (*group)[i].payload;
      headers[i] = spool::encode_frame_header(payload);
      iov.push_back(iovec{headers[i].data(), headers[i].size()});
      if (!payload.empty()) iov.push_back(iovec{payload.data(), payload.size()});
      bytes += frame_bytes(payload);
      ++i;
    }
    if (bytes > 0) {
      if (!writer.append(&iov, bytes, error)) return fail();
      unsynced = true;
      sizes->emplace_back(writer.number(), writer.size());
    }
    if (writer.size() >= options.segment_bytes) {
      if (unsynced && !writer.sync(error)) return fail();
      unsynced = false;
      const uint64_t next = writer.number() + 1;
      if (!writer.create(spool::segment_path(options.dir, next), next, error)) return fail();
      created.push_back(next);
      if (!spool::fsync_directory(options.dir, error)) return fail();
      sizes->emplace_back(next, 0);
    }
  }
  if (unsynced && !writer.sync(error)) return fail();
  return true;
}

bool Spool::Impl::undo_group(SpoolPosition start, const std::vector<uint64_t>& created) {
  std::string error;
  bool ok = true;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    const std::string path = spool::segment_path(options.dir, *it);
    if (::unlink(path.c_str()) != 0) {
      error = fmt::format("cannot remove {}: {}", path, spool::errno_text(errno));
      ok = false;
    }
  }
  if (ok && !created.empty()) {
    ok = spool::fsync_directory(options.dir, &error) &&
         writer.open_existing(spool::segment_path(options.dir, start.segment), start.segment, start.offset, &error);
  } else if (ok) {
    ok = writer.truncate(start.offset, &error);
  }
  if (!ok) {
    spdlog::error(
        "spool: could not undo the failed group at {} ({}); its records were not acknowledged, "
        "but a restart will replay them",
        to_string(start), error);
  }
  return ok;
}

void Spool::Impl::run_sync() {
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    sync_cv.wait(lock, [this] { return !pending.empty() || stop_sync; });
    if (pending.empty()) break;
    std::vector<PendingAppend> group;
    group.swap(pending);
    uint64_t group_bytes = 0;
    for (const PendingAppend& append : group) group_bytes += frame_bytes(append.payload);
    const bool already_failed = failed;
    writing = true;
    lock.unlock();

    std::vector<std::pair<uint64_t, uint64_t>> sizes;
    std::string error;
    bool undone = false;
    const auto started = std::chrono::steady_clock::now();
    const bool durable = !already_failed && write_group(&group, &sizes, &undone, &error);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    if (!durable && !already_failed) {
      // A full disk (ENOSPC) is the usual cause and passes once the writer
      // commits and frees segments: with the files cut back cleanly, the
      // next group is simply tried. Only files in an unknown state (the cut
      // failed) make the spool refuse everything until a restart.
      if (undone) {
        spdlog::error("spool: {}; {} records not acknowledged (answered 503); later appends are tried again", error,
                      group.size());
      } else {
        spdlog::error("spool: {}; {} records not acknowledged, appends refused until restart", error, group.size());
      }
    }

    lock.lock();
    queued_bytes -= group_bytes;
    if (durable) {
      for (const auto& [segment, size] : sizes) segment_sizes[segment] = size;
      durable_end = SpoolPosition{writer.number(), writer.size()};
      live_bytes += group_bytes;
      live_records += group.size();
    } else if (already_failed || !undone) {
      failed = true;
    }
    writing = false;
    publish_gauges();
    lock.unlock();
    durable_cv.notify_all();

    if (durable && options.metrics != nullptr) {
      options.metrics->spooled.fetch_add(group.size(), std::memory_order_relaxed);
      options.metrics->fsync_seconds.observe(took.count());
    }
    // Only now, after durable_end is published, may anyone be told "durable".
    for (PendingAppend& append : group) {
      if (append.done) append.done(durable);
    }
    group.clear();
    lock.lock();
  }
  lock.unlock();
  durable_cv.notify_all();
}

Spool::Spool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Spool> Spool::open(const SpoolOptions& options, std::string* error) {
  if (options.dir.empty()) {
    *error = "no spool directory configured";
    return nullptr;
  }
  if (options.segment_bytes == 0) {
    *error = fmt::format("spool {}: segment_bytes must be above 0", options.dir);
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(options);
  if (!impl->recover(error)) return nullptr;
  impl->publish_gauges();
  impl->sync_thread = std::thread([raw = impl.get()] {
    // The name top -H and /proc/<pid>/task/*/comm show (bench/run_ingest_bench.sh
    // reports each thread's CPU by it).
    pthread_setname_np(pthread_self(), "cdrd-spool");
    raw->run_sync();
  });
  return std::unique_ptr<Spool>(new Spool(std::move(impl)));
}

Spool::~Spool() {
  shutdown();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop_sync = true;
  }
  impl_->sync_cv.notify_one();
  impl_->sync_thread.join();
}

Spool::AppendResult Spool::append(std::string payload, DoneFn done) {
  Impl& s = *impl_;
  // Bigger than a frame may be: it could never be stored, so it is as good as full.
  if (payload.size() > spool::kMaxPayloadBytes) return AppendResult::kFull;
  const uint64_t bytes = frame_bytes(payload);
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.shut_down || s.failed) return AppendResult::kFailed;
    if (s.live_bytes + s.queued_bytes + bytes > s.options.max_bytes) return AppendResult::kFull;
    wake = s.pending.empty();
    s.pending.push_back(PendingAppend{std::move(payload), std::move(done)});
    s.queued_bytes += bytes;
  }
  // A non-empty list means the sync thread is already due to come back for it.
  if (wake) s.sync_cv.notify_one();
  return AppendResult::kQueued;
}

bool Spool::read(SpoolPosition from, size_t max_records, std::chrono::steady_clock::time_point deadline,
                 std::vector<SpoolRecord>* out) {
  Impl& s = *impl_;
  out->clear();
  std::lock_guard<std::mutex> consumer(s.consumer_mu);
  std::unique_lock<std::mutex> lock(s.mu);
  // Records before the checkpoint may already be deleted, so reading starts no earlier.
  SpoolPosition start;
  const auto ready = [&] {
    start = s.normalize(std::max(from, s.committed));
    return start < s.durable_end || s.drained();
  };
  s.durable_cv.wait_until(lock, deadline, ready);
  if (!(start < s.durable_end)) return !s.drained();
  if (max_records == 0) return true;
  const SpoolPosition end = s.durable_end;
  const std::map<uint64_t, uint64_t> sizes(s.segment_sizes.lower_bound(start.segment), s.segment_sizes.end());
  lock.unlock();

  std::string error;
  SpoolPosition position = start;
  while (out->size() < max_records && position < end) {
    const auto it = sizes.find(position.segment);
    if (it == sizes.end()) {
      error = fmt::format("segment {} is not in the spool", spool::segment_file_name(position.segment));
      break;
    }
    const uint64_t limit = position.segment == end.segment ? end.offset : it->second;
    if (position.offset >= limit) {
      const auto next = std::next(it);
      if (next == sizes.end()) break;
      position = SpoolPosition{next->first, 0};
      continue;
    }
    const std::string path = spool::segment_path(s.options.dir, position.segment);
    if ((!s.reader.is_open() || s.reader.number() != position.segment) &&
        !s.reader.open(path, position.segment, &error)) {
      break;
    }
    SpoolRecord record;
    uint64_t frame_end = 0;
    const spool::FrameStatus status = s.reader.read_frame(position.offset, limit, &record.payload, &frame_end, &error);
    if (status != spool::FrameStatus::kOk) {
      if (status != spool::FrameStatus::kIoError) {
        error = fmt::format("{}: {} at offset {}", path, spool::describe(status), position.offset);
      }
      break;
    }
    position.offset = frame_end;
    if (position.segment != end.segment && frame_end == it->second) position = SpoolPosition{std::next(it)->first, 0};
    record.next = position;
    out->push_back(std::move(record));
  }
  if (!error.empty()) {
    spdlog::error("spool: cannot read back durable records: {}", error);
    if (out->empty()) {
      // Returning at once would make the consumer spin on the bad frame.
      lock.lock();
      s.durable_cv.wait_until(lock, deadline, [&] { return s.shut_down; });
      return !s.shut_down;
    }
  }
  return true;
}

bool Spool::commit(SpoolPosition upto, std::string* error) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> consumer(s.consumer_mu);
  std::unique_lock<std::mutex> lock(s.mu);
  const SpoolPosition target = s.normalize(upto);
  const SpoolPosition from = s.normalize(s.committed);
  const auto target_it = s.segment_sizes.find(target.segment);
  if (target < from) {
    *error = fmt::format("commit position {} is before the committed position {}", to_string(upto), to_string(from));
    return false;
  }
  if (s.durable_end < target || target_it == s.segment_sizes.end() || target.offset > target_it->second) {
    *error = fmt::format("commit position {} is past the durable end {}", to_string(upto), to_string(s.durable_end));
    return false;
  }
  if (target == from) return true;
  const std::map<uint64_t, uint64_t> sizes(s.segment_sizes.find(from.segment), std::next(target_it));
  lock.unlock();

  // Counting the released records also proves that `upto` is a record boundary.
  uint64_t records = 0;
  SpoolPosition position = from;
  while (position != target) {
    const auto it = sizes.find(position.segment);
    const uint64_t limit = position.segment == target.segment ? target.offset : it->second;
    if (position.offset == limit) {
      position = SpoolPosition{std::next(it)->first, 0};
      continue;
    }
    const std::string path = spool::segment_path(s.options.dir, position.segment);
    if ((!s.reader.is_open() || s.reader.number() != position.segment) &&
        !s.reader.open(path, position.segment, error)) {
      return false;
    }
    uint64_t frame_end = 0;
    const spool::FrameStatus status = s.reader.read_frame(position.offset, limit, nullptr, &frame_end, error);
    if (status != spool::FrameStatus::kOk) {
      if (status != spool::FrameStatus::kIoError) {
        *error = fmt::format("commit position {} is not a record boundary ({}: {} at offset {})", to_string(upto), path,
                             spool::describe(status), position.offset);
      }
      return false;
    }
    position.offset = frame_end;
    ++records;
  }
  if (!spool::write_checkpoint(s.options.dir, target, error)) return false;

  std::vector<uint64_t> obsolete;
  lock.lock();
  s.committed = target;
  while (!s.segment_sizes.empty() && s.segment_sizes.begin()->first < target.segment) {
    obsolete.push_back(s.segment_sizes.begin()->first);
    s.segment_sizes.erase(s.segment_sizes.begin());
  }
  s.live_bytes = 0;
  for (const auto& entry : s.segment_sizes) s.live_bytes += entry.second;
  s.live_bytes -= target.offset;
  s.live_records -= records;
  s.publish_gauges();
  lock.unlock();

  if (s.reader.is_open() && s.reader.number() < target.segment) s.reader.close();
  for (const uint64_t segment : obsolete) {
    // A leftover is harmless: open() removes segments before the checkpoint.
    const std::string path = spool::segment_path(s.options.dir, segment);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      spdlog::warn("spool: cannot remove committed segment {}: {}", path, spool::errno_text(errno));
    }
  }
  return true;
}

SpoolPosition Spool::committed() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->committed;
}

SpoolPosition Spool::durable_end() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->durable_end;
}

uint64_t Spool::live_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->live_bytes;
}

bool Spool::healthy() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return !impl_->failed;
}

void Spool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->shut_down = true;
  }
  impl_->durable_cv.notify_all();
}

}  // namespace cdrd
