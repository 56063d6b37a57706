#include "tests/support/test_files.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cdrd::test {
namespace fs = std::filesystem;
namespace {

constexpr char kTempPrefix[] = "cdrd-test-";

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie (dead, not yet reaped by whoever inherited it) is as good as gone.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

// A postmaster.pid under `dir` whose postmaster still runs: that server is
// still shutting down (it got SIGINT when its owner died), so the directory
// is not ours to remove yet.
bool has_live_postmaster(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it.depth() >= 2) it.disable_recursion_pending();
    if (it->path().filename() != "postmaster.pid") continue;
    std::ifstream in(it->path());
    long pid = 0;
    if (in >> pid && process_alive(static_cast<pid_t>(pid))) return true;
  }
  return false;
}

// Temp dirs left by test processes that were killed before their
// destructors ran: the dir name carries the owner's pid.
void remove_stale_temp_dirs() {
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  if (ec) return;
  for (const auto& entry : fs::directory_iterator(tmp, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kTempPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + std::strlen(kTempPrefix), nullptr, 10);
    if (pid <= 0 || pid == getpid() || process_alive(static_cast<pid_t>(pid))) continue;
    if (has_live_postmaster(entry.path())) continue;
    std::error_code ignored;
    fs::remove_all(entry.path(), ignored);
  }
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string test_data_path(const std::string& relative) { return std::string(CDRD_TEST_DATA_DIR) + "/" + relative; }

std::string read_sample(const std::string& name) { return read_file(test_data_path("freeswitch/" + name)); }

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

TempDir::TempDir() {
  static const bool cleaned = (remove_stale_temp_dirs(), true);
  (void)cleaned;
  std::string tmpl = (fs::temp_directory_path() / (kTempPrefix + std::to_string(getpid()) + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  path_ = tmpl;
  // mkdtemp makes it 0700; a server may run as another user (we are root).
  if (chmod(path_.c_str(), 0755) != 0) {
    const std::string why = std::strerror(errno);
    std::error_code ignored;
    fs::remove_all(path_, ignored);
    throw std::runtime_error("chmod " + path_ + ": " + why);
  }
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return result;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) result.output.append(buf, n);
  const int status = ::pclose(p);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace cdrd::test
