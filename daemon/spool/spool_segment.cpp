#include "daemon/spool/spool_segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "daemon/spool/spool_files.h"
#include "daemon/spool/spool_frame.h"

namespace cdrd::spool {
namespace {

constexpr std::string_view kPrefix = "seg-";
constexpr std::string_view kSuffix = ".log";
constexpr size_t kDigits = 20;
// Large enough that a walk over small CDR frames is a handful of preads.
constexpr size_t kChunkBytes = size_t{256} * 1024;

bool parse_segment_name(std::string_view name, uint64_t* number) {
  if (name.size() != kPrefix.size() + kDigits + kSuffix.size()) return false;
  if (name.substr(0, kPrefix.size()) != kPrefix || name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  const std::string_view digits = name.substr(kPrefix.size(), kDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), *number);
  return result.ec == std::errc() && result.ptr == digits.data() + digits.size();
}

}  // namespace

std::string segment_file_name(uint64_t number) { return fmt::format("seg-{:020d}.log", number); }

std::string segment_path(const std::string& dir, uint64_t number) {
  return (std::filesystem::path(dir) / segment_file_name(number)).string();
}

bool list_segments(const std::string& dir, std::vector<uint64_t>* numbers, std::string* error) {
  numbers->clear();
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    uint64_t number = 0;
    if (parse_segment_name(it->path().filename().string(), &number)) numbers->push_back(number);
  }
  if (ec) {
    *error = fmt::format("cannot list directory {}: {}", dir, ec.message());
    return false;
  }
  std::sort(numbers->begin(), numbers->end());
  return true;
}

const char* describe(FrameStatus status) {
  switch (status) {
    case FrameStatus::kOk:
      return "ok";
    case FrameStatus::kEnd:
      return "end of data";
    case FrameStatus::kShortHeader:
      return "short frame header";
    case FrameStatus::kBadLength:
      return "frame length over 64 MiB";
    case FrameStatus::kShortPayload:
      return "short frame payload";
    case FrameStatus::kBadCrc:
      return "frame crc mismatch";
    case FrameStatus::kIoError:
      return "i/o error";
  }
  return "unknown";
}

SegmentReader::~SegmentReader() { close(); }

bool SegmentReader::open(const std::string& path, uint64_t number, std::string* error) {
  close();
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    *error = fmt::format("cannot open {}: {}", path, errno_text(errno));
    return false;
  }
  number_ = number;
  path_ = path;
  return true;
}

void SegmentReader::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_len_ = 0;
  buf_offset_ = 0;
}

bool SegmentReader::fill(uint64_t offset, size_t size, uint64_t limit, std::string* error) {
  if (offset >= buf_offset_ && offset + size <= buf_offset_ + buf_len_) return true;
  // Never buffer past `limit`: bytes beyond the durable end may still change.
  const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(size, kChunkBytes), limit - offset));
  if (buf_.size() < want) buf_.resize(want);
  buf_len_ = 0;
  const int64_t got = pread_full(fd_, buf_.data(), want, offset, path_, error);
  if (got < 0) return false;
  if (static_cast<size_t>(got) < size) {
    *error = fmt::format("{}: file ends at offset {}, before its data", path_, offset + static_cast<uint64_t>(got));
    return false;
  }
  buf_offset_ = offset;
  buf_len_ = static_cast<size_t>(got);
  return true;
}

FrameStatus SegmentReader::read_frame(uint64_t offset, uint64_t limit, std::string* payload, uint64_t* frame_end,
                                      std::string* error) {
  if (offset >= limit) return FrameStatus::kEnd;
  if (limit - offset < kFrameHeaderBytes) return FrameStatus::kShortHeader;
  if (!fill(offset, kFrameHeaderBytes, limit, error)) return FrameStatus::kIoError;
  const DecodedFrameHeader header =
      decode_frame_header(reinterpret_cast<const unsigned char*>(buf_.data() + (offset - buf_offset_)));
  if (header.length > kMaxPayloadBytes) return FrameStatus::kBadLength;
  if (limit - offset - kFrameHeaderBytes < header.length) return FrameStatus::kShortPayload;
  *frame_end = offset + kFrameHeaderBytes + header.length;
  if (payload == nullptr) return FrameStatus::kOk;

  const uint64_t payload_offset = offset + kFrameHeaderBytes;
  if (kFrameHeaderBytes + header.length <= kChunkBytes) {
    if (!fill(offset, kFrameHeaderBytes + header.length, limit, error)) return FrameStatus::kIoError;
    payload->assign(buf_.data() + (payload_offset - buf_offset_), header.length);
  } else {
    // A big frame goes straight into its string instead of growing the buffer.
    payload->resize(header.length);
    const int64_t got = pread_full(fd_, payload->data(), header.length, payload_offset, path_, error);
    if (got < 0) return FrameStatus::kIoError;
    if (static_cast<uint64_t>(got) < header.length) {
      *error = fmt::format("{}: file ends at offset {}, before its data", path_,
                           payload_offset + static_cast<uint64_t>(got));
      return FrameStatus::kIoError;
    }
  }
  if (payload_crc(payload->data(), payload->size()) != header.crc) return FrameStatus::kBadCrc;
  return FrameStatus::kOk;
}

bool scan_segment(const std::string& path, uint64_t offset, SegmentScan* scan, std::string* error) {
  *scan = SegmentScan{};
  std::error_code ec;
  scan->file_size = std::filesystem::file_size(path, ec);
  if (ec) {
    *error = fmt::format("cannot stat {}: {}", path, ec.message());
    return false;
  }
  if (offset > scan->file_size) {
    *error = fmt::format("{}: scan start {} is past the end of the file ({} bytes)", path, offset, scan->file_size);
    return false;
  }
  SegmentReader reader;
  if (!reader.open(path, 0, error)) return false;
  std::string payload;
  scan->valid_end = offset;
  for (;;) {
    uint64_t frame_end = 0;
    const FrameStatus status = reader.read_frame(scan->valid_end, scan->file_size, &payload, &frame_end, error);
    if (status == FrameStatus::kIoError) return false;
    if (status != FrameStatus::kOk) {
      scan->stop = status;
      return true;
    }
    scan->valid_end = frame_end;
    ++scan->records;
  }
}

bool truncate_segment(const std::string& path, uint64_t size, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("cannot open {}: {}", path, errno_text(errno));
    return false;
  }
  bool ok = true;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    *error = fmt::format("cannot truncate {} to {} bytes: {}", path, size, errno_text(errno));
    ok = false;
  } else if (::fdatasync(fd) != 0) {
    *error = fmt::format("fdatasync of {} failed: {}", path, errno_text(errno));
    ok = false;
  }
  ::close(fd);
  return ok;
}

SegmentWriter::~SegmentWriter() { close(); }

bool SegmentWriter::open_existing(const std::string& path, uint64_t number, uint64_t size, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("cannot open {} for writing: {}", path, errno_text(errno));
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = fmt::format("cannot stat {}: {}", path, errno_text(errno));
    ::close(fd);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) != size) {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fdatasync(fd) != 0) {
      *error = fmt::format("cannot cut {} back to {} bytes: {}", path, size, errno_text(errno));
      ::close(fd);
      return false;
    }
  }
  close();
  fd_ = fd;
  number_ = number;
  size_ = size;
  path_ = path;
  return true;
}

bool SegmentWriter::create(const std::string& path, uint64_t number, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = fmt::format("cannot create {}: {}", path, errno_text(errno));
    return false;
  }
  close();
  fd_ = fd;
  number_ = number;
  size_ = 0;
  path_ = path;
  return true;
}

void SegmentWriter::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SegmentWriter::append(std::vector<iovec>* iov, uint64_t bytes, std::string* error) {
  if (!pwritev_all(fd_, iov, size_, path_, error)) return false;
  size_ += bytes;
  return true;
}

bool SegmentWriter::sync(std::string* error) {
  if (::fdatasync(fd_) != 0) {
    *error = fmt::format("fdatasync of {} failed: {}", path_, errno_text(errno));
    return false;
  }
  return true;
}

bool SegmentWriter::truncate(uint64_t size, std::string* error) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    *error = fmt::format("cannot truncate {} to {} bytes: {}", path_, size, errno_text(errno));
    return false;
  }
  size_ = size;
  return sync(error);
}

}  // namespace cdrd::spool
