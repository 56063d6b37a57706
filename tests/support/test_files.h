// Files, temporary directories and child commands for every kind of test
// (unit, pg, e2e, faults): written once here instead of in each test file.
#pragma once

#include <string>

namespace cdrd::test {

// The whole file; throws std::runtime_error naming it when it cannot be read.
std::string read_file(const std::string& path);
// Creates or replaces the file; throws std::runtime_error when it cannot.
void write_file(const std::string& path, const std::string& content);
// A sample of tests/data/freeswitch (the copy of ../shared/samples/freeswitch).
std::string read_sample(const std::string& name);
// The path of a file under tests/data.
std::string test_data_path(const std::string& relative);
// `text` with every `from` replaced by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to);

// A new directory "<temp dir>/cdrd-test-<pid>-XXXXXX", mode 0755 so that a
// PostgreSQL server running as another user (the tests run as root in CI)
// can reach what is created inside it. Removed with its contents on
// destruction; the next TempDir of any test process also removes those whose
// process died without cleaning up (killed by a ctest timeout), unless a
// server still runs in them.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // the exit status; 128 + signal when killed; -1 when it could not run
  std::string output;  // stdout and stderr, interleaved as written
};
// Runs `command` with /bin/sh and waits for it.
CommandResult run_command(const std::string& command);

}  // namespace cdrd::test
