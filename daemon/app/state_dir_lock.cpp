#include "daemon/app/state_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cdrd {

std::unique_ptr<StateDirLock> StateDirLock::acquire(const std::string& state_dir, std::string* error) {
  if (::mkdir(state_dir.c_str(), 0750) != 0 && errno != EEXIST) {
    *error = "cannot create directory " + state_dir + ": " + std::strerror(errno);
    return nullptr;
  }
  const std::string path = state_dir + "/cdrd.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  int rc = 0;
  while ((rc = ::flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
  }
  if (rc != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      *error = "cannot lock " + path + ": " + std::strerror(err);
    } else {
      char buf[32] = {0};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      const long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
      *error = "state_dir " + state_dir + " is in use by another cdrd" +
               (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
               ": stop it first, or give this one a state_dir of its own";
    }
    ::close(fd);
    return nullptr;
  }
  // Our pid, for the message a second cdrd prints. Best effort: the lock,
  // not the file's content, is what keeps others out.
  const std::string pid = std::to_string(::getpid()) + "\n";
  // A full disk must not stop the restart that may be needed to free it.
  const bool written =
      ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
  (void)written;
  return std::unique_ptr<StateDirLock>(new StateDirLock(fd, path));
}

StateDirLock::~StateDirLock() { ::close(fd_); }

}  // namespace cdrd
