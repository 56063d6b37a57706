// One segment file: its name, reading frames back through a bounded buffer,
// recovery's scan, and the append side owned by the sync thread.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cdrd::spool {

// "seg-<20-digit number>.log": fixed width so a directory listing sorts in log order.
std::string segment_file_name(uint64_t number);
std::string segment_path(const std::string& dir, uint64_t number);
// The segment numbers present in `dir`, ascending. Other files are ignored.
bool list_segments(const std::string& dir, std::vector<uint64_t>* numbers, std::string* error);

enum class FrameStatus {
  kOk,
  kEnd,           // exactly at the limit: no frame starts here
  kShortHeader,   // fewer than 8 bytes before the limit
  kBadLength,     // length above kMaxPayloadBytes
  kShortPayload,  // the payload runs past the limit
  kBadCrc,
  kIoError,
};
const char* describe(FrameStatus status);

// Sequential frame reader over one segment. Reads in chunks so that walking
// many small frames costs few syscalls, while memory stays bounded.
class SegmentReader {
 public:
  SegmentReader() = default;
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  bool open(const std::string& path, uint64_t number, std::string* error);
  void close();
  bool is_open() const { return fd_ >= 0; }
  uint64_t number() const { return number_; }

  // Decodes the frame starting at `offset`, never reading at or past `limit`.
  // With `payload`, the payload is copied out and its crc verified; without,
  // only the header is checked (a cheap walk over frame boundaries).
  // On kOk, *frame_end is the offset just after the frame.
  FrameStatus read_frame(uint64_t offset, uint64_t limit, std::string* payload, uint64_t* frame_end,
                         std::string* error);

 private:
  // Makes [offset, offset + size) available in buf_.
  bool fill(uint64_t offset, size_t size, uint64_t limit, std::string* error);

  int fd_ = -1;
  uint64_t number_ = 0;
  std::string path_;
  std::vector<char> buf_;
  uint64_t buf_offset_ = 0;
  size_t buf_len_ = 0;
};

struct SegmentScan {
  uint64_t file_size = 0;
  uint64_t valid_end = 0;  // offset just after the last good frame
  uint64_t records = 0;    // good frames from the scan start to valid_end
  FrameStatus stop = FrameStatus::kEnd;
};
// Verifies every frame from `offset` to the end of the file.
bool scan_segment(const std::string& path, uint64_t offset, SegmentScan* scan, std::string* error);

// Cuts a segment file back to `size` and makes the cut durable.
bool truncate_segment(const std::string& path, uint64_t size, std::string* error);

// The open segment, appended to by the sync thread only.
class SegmentWriter {
 public:
  SegmentWriter() = default;
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Continues an existing segment whose valid data ends at `size`.
  bool open_existing(const std::string& path, uint64_t number, uint64_t size, std::string* error);
  // Starts a new, empty segment; fails if the file exists.
  bool create(const std::string& path, uint64_t number, std::string* error);
  void close();

  // Writes at the end; `iov` is consumed. On failure size() is unchanged.
  bool append(std::vector<iovec>* iov, uint64_t bytes, std::string* error);
  bool sync(std::string* error);
  // Drops everything from `size` on (used to undo a failed group).
  bool truncate(uint64_t size, std::string* error);

  uint64_t number() const { return number_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  uint64_t number_ = 0;
  uint64_t size_ = 0;
  std::string path_;
};

}  // namespace cdrd::spool
