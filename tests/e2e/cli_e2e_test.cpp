// The command line of the real binary: --version, --check-config, exit codes,
// and the systemd unit.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <charconv>
#include <fstream>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"

namespace cdrd::test {
namespace {

CommandResult run(const std::string& command) { return run_command(command); }

const std::string kBinary = CDRD_BINARY;

// True when text starts with "cdrd X.Y.Z", X, Y and Z unsigned decimal
// numbers (what sscanf(text, "cdrd %u.%u.%u") == 3 checked).
bool starts_with_version(const std::string& text) {
  const std::string prefix = "cdrd ";
  if (text.rfind(prefix, 0) != 0) return false;
  const char* p = text.data() + prefix.size();
  const char* const end = text.data() + text.size();
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (p == end || *p != '.') return false;
      ++p;
    }
    unsigned value = 0;
    const auto [next, error] = std::from_chars(p, end, value);
    if (error != std::errc()) return false;
    p = next;
  }
  return true;
}

TEST(CliE2E, VersionAndHelp) {
  CommandResult r = run(kBinary + " --version");
  EXPECT_EQ(r.exit_code, 0);
  // "cdrd X.Y.Z": std::regex would do, but g++ 12 under ASan warns inside <regex> (-Werror).
  EXPECT_TRUE(starts_with_version(r.output)) << r.output;
  r = run(kBinary + " --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--config", "--check-config", "--migrate", "--version"}) {
    EXPECT_NE(r.output.find(opt), std::string::npos) << opt;
  }
  EXPECT_EQ(run(kBinary + " --no-such-flag").exit_code, 2);
}

TEST(CliE2E, CheckConfigAcceptsTheShippedConfig) {
  const CommandResult r = run(kBinary + " --check-config --config " + CDRD_SOURCE_DIR "/config/cdrd.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(CliE2E, CheckConfigNamesTheBadKeyAndLine) {
  TempDir dir;
  const std::string path = dir.path() + "/bad.yaml";
  std::ofstream(path) << "state_dir: /tmp/x\nbatch:\n  max_rows: 10\n  max_rowz: 5\n";
  CommandResult r = run(kBinary + " --check-config --config " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("max_rowz"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":4"), std::string::npos) << r.output;

  std::ofstream(path) << "batch:\n  max_rows: lots\n";
  r = run(kBinary + " --check-config --config " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("batch.max_rows"), std::string::npos) << r.output;

  r = run(kBinary + " --check-config --config " + dir.path() + "/missing.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("missing.yaml"), std::string::npos) << r.output;
}

TEST(CliE2E, SystemdUnitVerifies) {
  if (run("command -v systemd-analyze").exit_code != 0) GTEST_SKIP() << "systemd-analyze is not installed";
  TempDir dir;
  std::ifstream in(CDRD_SOURCE_DIR "/systemd/cdrd.service");
  std::string unit((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The unit names the installed path; verify it against the binary we built.
  unit = replace_all(unit, "/usr/bin/cdrd", kBinary);
  EXPECT_NE(unit.find("Type=notify"), std::string::npos);
  EXPECT_NE(unit.find("WatchdogSec="), std::string::npos);
  std::ofstream(dir.path() + "/cdrd.service") << unit;
  const CommandResult r = run("systemd-analyze verify " + dir.path() + "/cdrd.service");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("cdrd.service:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cdrd::test
