// Small POSIX file helpers for the spool. Every failure message names the
// file and carries the errno text, because an operator reads them in the log.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cdrd::spool {

std::string errno_text(int err);

// Makes a file creation, rename or removal in `dir` durable.
bool fsync_directory(const std::string& dir, std::string* error);

// Writes every byte described by `iov` at `offset`, across short writes and
// IOV_MAX. `path` is only for the error message. `iov` is consumed.
bool pwritev_all(int fd, std::vector<iovec>* iov, uint64_t offset, const std::string& path, std::string* error);

// Reads up to `size` bytes at `offset`, stopping early only at end of file.
// Returns the number of bytes read, or -1 with *error set.
int64_t pread_full(int fd, char* out, size_t size, uint64_t offset, const std::string& path, std::string* error);

}  // namespace cdrd::spool
