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
constexpr size_t kFileBytes = kBodyBytes + 4;

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
  if (static_cast<size_t>(got) != kFileBytes) {
    *error = fmt::format("checkpoint {} is corrupt: {} bytes, expected {}", path, got, kFileBytes);
    return false;
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0 ||
      payload_crc(reinterpret_cast<const char*>(bytes.data()), kBodyBytes) != get_u32_le(bytes.data() + kBodyBytes)) {
    *error = fmt::format("checkpoint {} is corrupt: bad checksum", path);
    return false;
  }
  position->segment = get_u64_le(bytes.data() + 8);
  position->offset = get_u64_le(bytes.data() + 16);
  *found = true;
  return true;
}

bool write_checkpoint(const std::string& dir, const SpoolPosition& position, std::string* error) {
  std::array<unsigned char, kFileBytes> bytes{};
  std::memcpy(bytes.data(), kMagic, sizeof(kMagic));
  put_u64_le(position.segment, bytes.data() + 8);
  put_u64_le(position.offset, bytes.data() + 16);
  put_u32_le(payload_crc(reinterpret_cast<const char*>(bytes.data()), kBodyBytes), bytes.data() + kBodyBytes);

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

}  // namespace cdrd::spool
