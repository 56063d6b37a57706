#include "daemon/spool/spool_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "daemon/spool/spool_files.h"
#include "daemon/spool/spool_frame.h"

namespace cdrd::spool {
namespace {

constexpr char kMagic[8] = {'C', 'D', 'R', 'D', 'S', 'P', 'C', '1'};
constexpr size_t kBodyBytes = 24;
constexpr size_t kSlotBytes = kBodyBytes + 4;
constexpr size_t kFileBytes = 2 * kSlotBytes;

using Slot = std::array<unsigned char, kSlotBytes>;

Slot encode_slot(const SpoolPosition& position) {
  Slot bytes{};
  std::memcpy(bytes.data(), kMagic, sizeof(kMagic));
  put_u64_le(position.segment, bytes.data() + 8);
  put_u64_le(position.offset, bytes.data() + 16);
  put_u32_le(payload_crc(reinterpret_cast<const char*>(bytes.data()), kBodyBytes), bytes.data() + kBodyBytes);
  return bytes;
}

bool decode_slot(const unsigned char* bytes, SpoolPosition* position) {
  if (std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0 ||
      payload_crc(reinterpret_cast<const char*>(bytes), kBodyBytes) != get_u32_le(bytes + kBodyBytes)) {
    return false;
  }
  position->segment = get_u64_le(bytes + 8);
  position->offset = get_u64_le(bytes + 16);
  return true;
}

// The newest valid slot of `got` bytes (one slot: the format before slots).
// *newest_slot gets its index; false when no slot is valid.
bool newest_of(const unsigned char* bytes, int64_t got, SpoolPosition* position, size_t* newest_slot) {
  bool any = false;
  for (size_t slot = 0; slot * kSlotBytes + kSlotBytes <= static_cast<size_t>(got); ++slot) {
    SpoolPosition p;
    if (!decode_slot(bytes + slot * kSlotBytes, &p)) continue;
    if (!any || *position < p) {
      *position = p;
      *newest_slot = slot;
    }
    any = true;
  }
  return any;
}

// The first checkpoint: both slots at once, through a temp file and a rename.
bool create_checkpoint(const std::string& dir, const SpoolPosition& position, std::string* error) {
  const Slot slot = encode_slot(position);
  std::array<unsigned char, kFileBytes> bytes{};
  std::memcpy(bytes.data(), slot.data(), kSlotBytes);
  std::memcpy(bytes.data() + kSlotBytes, slot.data(), kSlotBytes);
  const std::string path = checkpoint_path(dir);
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = fmt::format("cannot create {}: {}", temp, errno_text(errno));
    return false;
  }
  std::vector<iovec> iov{{bytes.data(), bytes.size()}};
  bool ok = pwritev_all(fd, &iov, 0, temp, error);
  if (ok && ::fsync(fd) != 0) {
    *error = fmt::format("fsync of {} failed: {}", temp, errno_text(errno));
    ok = false;
  }
  ::close(fd);
  if (ok && std::rename(temp.c_str(), path.c_str()) != 0) {
    *error = fmt::format("cannot rename {} to {}: {}", temp, path, errno_text(errno));
    ok = false;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    return false;
  }
  return fsync_directory(dir, error);
}

}  // namespace

std::string checkpoint_path(const std::string& dir) { return (std::filesystem::path(dir) / "checkpoint").string(); }

bool read_checkpoint(const std::string& dir, SpoolPosition* position, bool* found, std::string* error) {
  const std::string path = checkpoint_path(dir);
  *found = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    *error = fmt::format("cannot open checkpoint {}: {}", path, errno_text(errno));
    return false;
  }
  // One byte more than expected, to tell a long file from a good one.
  std::array<unsigned char, kFileBytes + 1> bytes{};
  const int64_t got = pread_full(fd, reinterpret_cast<char*>(bytes.data()), bytes.size(), 0, path, error);
  ::close(fd);
  if (got < 0) return false;
  if (static_cast<size_t>(got) != kFileBytes && static_cast<size_t>(got) != kSlotBytes) {
    *error = fmt::format("checkpoint {} is corrupt: {} bytes, expected {}", path, got, kFileBytes);
    return false;
  }
  // A torn write spoils only the slot being written; the other one holds the
  // previous checkpoint, and replaying from it is harmless.
  size_t newest = 0;
  if (!newest_of(bytes.data(), got, position, &newest)) {
    *error = fmt::format("checkpoint {} is corrupt: bad checksum", path);
    return false;
  }
  *found = true;
  return true;
}

bool write_checkpoint(const std::string& dir, const SpoolPosition& position, std::string* error) {
  const std::string path = checkpoint_path(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return create_checkpoint(dir, position, error);
    *error = fmt::format("cannot open checkpoint {}: {}", path, errno_text(errno));
    return false;
  }
  std::array<unsigned char, kFileBytes> bytes{};
  const int64_t got = pread_full(fd, reinterpret_cast<char*>(bytes.data()), bytes.size(), 0, path, error);
  SpoolPosition newest_position;
  size_t newest = 0;
  if (got < 0 || !newest_of(bytes.data(), got, &newest_position, &newest)) {
    ::close(fd);
    if (got >= 0) *error = fmt::format("checkpoint {} is corrupt: bad checksum", path);
    return false;
  }
  // Overwrite the other slot in place: no new block is needed, so a full
  // disk cannot stop the commit that would free it (and the newest slot
  // stays intact until the write is durable).
  const Slot slot = encode_slot(position);
  std::vector<iovec> iov{{const_cast<unsigned char*>(slot.data()), slot.size()}};
  bool ok = pwritev_all(fd, &iov, (1 - newest) * kSlotBytes, path, error);
  if (ok && ::fdatasync(fd) != 0) {
    *error = fmt::format("fdatasync of {} failed: {}", path, errno_text(errno));
    ok = false;
  }
  ::close(fd);
  return ok;
}

}  // namespace cdrd::spool
