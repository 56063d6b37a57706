// Runs the real cdrd binary for end-to-end tests: writes its config, starts
// it, waits for /readyz, signals it, collects its exit status.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace cdrd::test {

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// A fresh directory under /tmp (removed by the destructor of TempDir).
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
};

class CdrdProcess {
 public:
  // `extra_yaml` is appended to the generated configuration (top-level keys).
  // The configuration and cdrd's log go in `state_dir`, which is also the
  // configured state_dir unless `config_state_dir` is given (e.g. a relative
  // path, resolved against `working_dir`, where cdrd is started when set).
  CdrdProcess(std::string state_dir, std::string dsn, std::string extra_yaml = "", std::string config_state_dir = "",
              std::string working_dir = "");
  ~CdrdProcess();  // SIGKILL if still running

  // Starts cdrd and waits until GET /healthz answers (and /readyz when
  // `wait_ready`). False if it exited or did not come up within `timeout_s`.
  bool start(bool wait_ready = true, int timeout_s = 90);
  void signal(int sig);
  // Waits for exit; returns the exit code, or 128+signal, or -1 on timeout.
  int wait_exit(int timeout_s = 60);
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sets an environment variable for the next start() (fault tests: LD_PRELOAD, FAKETIME_*).
  void set_env(const std::string& name, const std::string& value) { env_.emplace_back(name, value); }
  const std::string& state_dir() const { return state_dir_; }
  std::string log() const;  // cdrd's stderr so far
  std::string config_path() const { return state_dir_ + "/cdrd.yaml"; }

 private:
  std::string state_dir_;
  std::string dsn_;
  std::string extra_yaml_;
  std::string config_state_dir_;
  std::string working_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::vector<std::pair<std::string, std::string>> env_;
};

}  // namespace cdrd::test
