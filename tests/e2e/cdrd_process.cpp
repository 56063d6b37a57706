#include "tests/e2e/cdrd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/e2e/http_client.h"

namespace cdrd::test {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Port 0 when bind fails, as getsockname reports for an unbound socket.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return 0;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

CdrdProcess::CdrdProcess(std::string state_dir, std::string dsn, std::string extra_yaml, std::string config_state_dir,
                         std::string working_dir)
    : state_dir_(std::move(state_dir)),
      dsn_(std::move(dsn)),
      extra_yaml_(std::move(extra_yaml)),
      config_state_dir_(std::move(config_state_dir)),
      working_dir_(std::move(working_dir)) {
  port_ = free_port();
}

CdrdProcess::~CdrdProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool CdrdProcess::start(bool wait_ready, int timeout_s) {
  {
    std::ofstream cfg(config_path());
    cfg << "state_dir: " << (config_state_dir_.empty() ? state_dir_ : config_state_dir_) << "\n"
        << "node_name: e2e-node\n"
        << "listen:\n  http: 127.0.0.1:" << port_ << "\n"
        << listen_extra_ << "database:\n  dsn: \"" << dsn_ << "\"\n"
        << "batch:\n  max_rows: 100\n  max_delay_ms: 20\n"
        << "api:\n  keys:\n"
        << "    - key: all-key\n      accounts: [\"*\"]\n"
        << "    - key: a-key\n      accounts: [\"acct-a\"]\n"
        << api_extra_ << "log:\n  level: info\n"
        << extra_yaml_;
  }
  // The child's environment is built before fork(): the child of a threaded
  // process should not allocate.
  std::vector<std::string> env_entries;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (env_.count(entry.substr(0, entry.find('='))) == 0) env_entries.push_back(entry);
  }
  for (const auto& [name, value] : env_) env_entries.push_back(name + "=" + value);
  std::vector<char*> envp;
  envp.reserve(env_entries.size() + 1);
  for (auto& entry : env_entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string log = state_dir_ + "/cdrd.log";
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 2);
    ::dup2(fd, 1);
    if (!working_dir_.empty() && ::chdir(working_dir_.c_str()) != 0) _exit(126);
    ::execle(CDRD_BINARY, CDRD_BINARY, "--config", config_path().c_str(), static_cast<char*>(nullptr), envp.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
      return false;
    }
    const std::string target = wait_ready ? "/readyz" : "/healthz";
    if ((probe_ ? probe_(target) : http_request(port_, "GET", target).status) == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void CdrdProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int CdrdProcess::wait_exit(int timeout_s) {
  if (pid_ <= 0) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string CdrdProcess::log() const {
  std::ifstream in(state_dir_ + "/cdrd.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cdrd::test
