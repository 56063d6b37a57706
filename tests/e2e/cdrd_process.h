// Runs the real cdrd binary for end-to-end tests: writes its config, starts
// it, waits for /readyz, signals it, collects its exit status.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>

#include "tests/support/test_files.h"

namespace cdrd::test {

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

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
  // Lines added under `listen:` (two-space indent), e.g. "  api: 127.0.0.1:9\n".
  void set_listen_extra(std::string yaml) { listen_extra_ = std::move(yaml); }
  // Lines added to the generated api: block (after its keys), e.g.
  // "  dialects: [wavix]\n".
  void set_api_extra(std::string yaml) { api_extra_ = std::move(yaml); }
  // How start() asks `target` (/healthz, /readyz) for its status (0 = no
  // answer); plain HTTP to port() unless set (a TLS listener needs its client).
  void set_probe(std::function<int(const std::string& target)> probe) { probe_ = std::move(probe); }
  // Waits for exit; returns the exit code, or 128+signal, or -1 on timeout.
  // After start() returned false because cdrd exited, returns that exit.
  int wait_exit(int timeout_s = 60);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Sets NAME=value in cdrd's environment (from the next start()), e.g.
  // NOTIFY_SOCKET and WATCHDOG_USEC for the sd_notify tests.
  void set_env(const std::string& name, const std::string& value) { env_[name] = value; }

  int port() const { return port_; }
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
  std::string listen_extra_;
  std::string api_extra_;
  std::function<int(const std::string& target)> probe_;
  pid_t pid_ = -1;
  int exit_code_ = -1;  // of the last exit seen
  std::map<std::string, std::string> env_;
};

}  // namespace cdrd::test
