#include "daemon/spool/spool_files.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace cdrd::spool {

std::string errno_text(int err) { return std::generic_category().message(err); }

bool fsync_directory(const std::string& dir, std::string* error) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("cannot open directory {}: {}", dir, errno_text(errno));
    return false;
  }
  const bool ok = ::fsync(fd) == 0;
  if (!ok) *error = fmt::format("fsync of directory {} failed: {}", dir, errno_text(errno));
  ::close(fd);
  return ok;
}

bool pwritev_all(int fd, std::vector<iovec>* iov, uint64_t offset, const std::string& path, std::string* error) {
  size_t first = 0;
  while (first < iov->size()) {
    const int count = static_cast<int>(std::min<size_t>(iov->size() - first, IOV_MAX));
    const ssize_t written = ::pwritev(fd, iov->data() + first, count, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("write to {} at offset {} failed: {}", path, offset, errno_text(errno));
      return false;
    }
    if (written == 0) {
      *error = fmt::format("write to {} at offset {} made no progress", path, offset);
      return false;
    }
    offset += static_cast<uint64_t>(written);
    // A short write leaves the rest of the vector for the next call.
    size_t left = static_cast<size_t>(written);
    while (first < iov->size() && left >= (*iov)[first].iov_len) {
      left -= (*iov)[first].iov_len;
      ++first;
    }
    if (left > 0) {
      (*iov)[first].iov_base = static_cast<char*>((*iov)[first].iov_base) + left;
      (*iov)[first].iov_len -= left;
    }
  }
  return true;
}

int64_t pread_full(int fd, char* out, size_t size, uint64_t offset, const std::string& path, std::string* error) {
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("read of {} at offset {} failed: {}", path, offset + done, errno_text(errno));
      return -1;
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return static_cast<int64_t>(done);
}

}  // namespace cdrd::spool
