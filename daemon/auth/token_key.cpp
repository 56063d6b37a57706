#include "daemon/auth/token_key.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cdrd {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kMinSecretBytes = 16;

std::string os_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool read_key(const std::string& path, std::string* key, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = os_error("cannot open", path);
    return false;
  }
  struct stat st {};
  std::string bytes(kKeyBytes + 1, '\0');
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0) n = ::read(fd, bytes.data(), bytes.size());
  const int read_errno = errno;
  ::close(fd);
  errno = read_errno;
  if (n < 0) {
    *error = os_error("cannot read", path);
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    *error = path + " has mode " + mode + ": others could read it and sign tokens; chmod 600 it";
    return false;
  }
  if (static_cast<size_t>(n) != kKeyBytes) {
    *error = path + " must hold exactly " + std::to_string(kKeyBytes) +
             " bytes (remove it to have a new key made; that voids every token)";
    return false;
  }
  bytes.resize(kKeyBytes);
  *key = std::move(bytes);
  return true;
}

// Written to a temporary file, synced, then link()ed into place: a crash
// leaves either no key file or a whole one, and link() fails rather than
// replacing a key another process made meanwhile.
bool create_key(const std::string& path, std::string* error) {
  std::string bytes(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) != 1) {
    *error = "the random generator (RAND_bytes) failed; cannot make " + path;
    return false;
  }
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = os_error("cannot create", tmp);
    return false;
  }
  const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                       ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!written) {
    errno = write_errno;
    *error = os_error("cannot write", tmp);
    ::unlink(tmp.c_str());
    return false;
  }
  const bool linked = ::link(tmp.c_str(), path.c_str()) == 0 || errno == EEXIST;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!linked) {
    errno = link_errno;
    *error = os_error("cannot create", path);
    return false;
  }
  const std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

}  // namespace

bool load_token_key(const std::string& configured_secret, const std::string& key_path, std::string* key,
                    std::string* error) {
  if (!configured_secret.empty()) {
    if (configured_secret.size() < kMinSecretBytes) {
      *error = "api.token_secret: must be at least " + std::to_string(kMinSecretBytes) + " characters, got " +
               std::to_string(configured_secret.size());
      return false;
    }
    *key = configured_secret;
    return true;
  }
  if (::access(key_path.c_str(), F_OK) != 0) {
    if (errno != ENOENT) {
      *error = os_error("cannot access", key_path);
      return false;
    }
    if (!create_key(key_path, error)) return false;
  }
  return read_key(key_path, key, error);
}

}  // namespace cdrd
