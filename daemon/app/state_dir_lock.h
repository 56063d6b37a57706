// One cdrd per state directory. The spool, the rejects and the embedded
// PostgreSQL's data directory under state_dir belong to one process at a
// time; a second cdrd (or `cdrd --migrate`, `cdrd api-key` starting the
// embedded server) on the same state_dir must be refused, not share them.
//
// flock(2) on state_dir/cdrd.lock: the kernel drops the lock when its holder
// dies, however it dies (kill -9 included), so a stale lock never blocks a
// restart, and a held lock always means a live holder. The file also names
// the holder's pid for the message. The descriptor is O_CLOEXEC, so servers
// cdrd starts (postgres) never inherit the lock.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace cdrd {

class StateDirLock {
 public:
  // Creates `state_dir` (mode 0750; its parent must exist) if needed and
  // takes its lock without waiting. Null
  // with *error when another live process holds it: the message names the
  // directory and that process's pid.
  static std::unique_ptr<StateDirLock> acquire(const std::string& state_dir, std::string* error);
  ~StateDirLock();  // releases the lock (the file stays: unlinking it would race a new holder)
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  StateDirLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace cdrd
