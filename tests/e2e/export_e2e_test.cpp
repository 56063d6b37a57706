// End to end: the limits of streamed reads (api.max_exports, a client that
// stops reading or goes away) and their memory: exporting 300,000 rows must
// not make cdrd's resident set grow with the size of the export.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "tests/e2e/bulk_cdrs.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

// 2021-03-01T00:00:00Z.
constexpr long long kT0 = 1614556800LL + 62167219200LL;
const std::string kWindow = "created_from=" + std::to_string(kT0) + "&created_to=" + std::to_string(kT0 + 20LL * 86400);
const std::string kExport = "/v2/accounts/acct-a/cdrs?" + kWindow;

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{120, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_get(int fd, const std::string& target, const std::string& accept) {
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: all-key\r\n" +
                          (accept.empty() ? "" : "Accept: " + accept + "\r\n") + "Connection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
}

// Reads up to the end of the response head; returns it (status line and headers).
std::string read_head(int fd, std::string* rest) {
  std::string raw;
  char buf[4096];
  while (raw.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return raw;
    raw.append(buf, static_cast<size_t>(n));
  }
  const size_t end = raw.find("\r\n\r\n") + 4;
  *rest = raw.substr(end);
  return raw.substr(0, end);
}

// A streamed response read without keeping it: the chunked framing decoded
// as it arrives, CSV records counted (line breaks outside quotes), JSON
// records counted by the start of each one.
struct Streamed {
  std::string head;
  uint64_t bytes = 0;
  uint64_t csv_lines = 0;
  uint64_t json_records = 0;
  bool complete = false;  // the terminating chunk arrived
  std::string first;      // the first 64 KB of the body
  std::string last;       // the last 64 KB
};

// Reads the rest of a response whose head was read (`data`: what came after
// it), then closes `fd`.
void read_body(int fd, std::string data, Streamed* streamed) {
  Streamed& out = *streamed;
  enum { kSize, kData, kDataEnd, kDone } state = kSize;
  std::string line;
  size_t left = 0;
  bool in_quotes = false;
  // A row of Kazoo's ({"id":"...) or a stored record ({"id": "...).
  const std::string marker = "{\"id\":";
  std::string carry;
  auto body = [&](const char* p, size_t n) {
    out.bytes += n;
    if (out.first.size() < 65536) out.first.append(p, std::min(n, 65536 - out.first.size()));
    out.last.append(p, n);
    if (out.last.size() > 131072) out.last.erase(0, out.last.size() - 65536);
    for (size_t i = 0; i < n; ++i) {
      if (p[i] == '"') in_quotes = !in_quotes;
      if (p[i] == '\n' && !in_quotes) ++out.csv_lines;
    }
    std::string text = carry + std::string(p, n);
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) ++out.json_records;
    carry = text.size() >= marker.size() ? text.substr(text.size() - marker.size() + 1) : text;
  };
  char buf[65536];
  for (;;) {
    size_t i = 0;
    while (i < data.size() && state != kDone) {
      if (state == kSize) {
        const size_t eol = data.find("\r\n", i);
        if (eol == std::string::npos) {
          line += data.substr(i);
          i = data.size();
          break;
        }
        line += data.substr(i, eol - i);
        i = eol + 2;
        left = std::strtoul(line.c_str(), nullptr, 16);
        line.clear();
        state = left == 0 ? kDone : kData;
        if (left == 0) out.complete = true;
      } else if (state == kData) {
        const size_t n = std::min(left, data.size() - i);
        body(data.data() + i, n);
        i += n;
        left -= n;
        if (left == 0) {
          state = kDataEnd;
          left = 2;
        }
      } else {  // the CRLF after a chunk's data
        const size_t n = std::min(left, data.size() - i);
        i += n;
        left -= n;
        if (left == 0) state = kSize;
      }
    }
    if (state == kDone) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    data.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
}

Streamed stream_get(int port, const std::string& target, const std::string& accept) {
  Streamed out;
  const int fd = connect_to(port);
  if (fd < 0) return out;
  send_get(fd, target, accept);
  std::string data;
  out.head = read_head(fd, &data);
  read_body(fd, data, &out);
  return out;
}

int status_of(const std::string& head) {
  return head.size() > 12 ? static_cast<int>(std::strtol(head.c_str() + 9, nullptr, 10)) : 0;
}

// cdrd's pid: the process whose command line names this test's config.
pid_t find_cdrd(const std::string& config_path) {
  DIR* proc = ::opendir("/proc");
  pid_t found = -1;
  while (dirent* e = ::readdir(proc)) {
    const auto pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
    if (pid <= 0) continue;
    std::ifstream f("/proc/" + std::string(e->d_name) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmdline.find(config_path) != std::string::npos) found = pid;
  }
  ::closedir(proc);
  return found;
}

// VmHWM (peak resident set) in kB.
long vm_hwm_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

class ExportE2E : public ::testing::Test {
 protected:
  void start(const std::string& max_exports = "") {
    dsn_ = create_migrated_database("e2e_export");
    if (!max_exports.empty()) ::setenv("CDRD_API_MAX_EXPORTS", max_exports.c_str(), 1);
#if defined(__SANITIZE_ADDRESS__)
    // ASan keeps freed blocks in a 256 MB quarantine by default, which would
    // count as growth here; a small one still catches use-after-free.
    const char* asan = std::getenv("ASAN_OPTIONS");
    ::setenv("ASAN_OPTIONS", (std::string(asan ? asan : "") + ":quarantine_size_mb=8").c_str(), 1);
#endif
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    const bool started = cdrd_->start();
    ::unsetenv("CDRD_API_MAX_EXPORTS");
    ASSERT_TRUE(started) << cdrd_->log();
  }
  HttpResponse get(const std::string& target, const std::string& accept = "") {
    std::map<std::string, std::string> headers = {{"X-Auth-Token", "all-key"}};
    if (!accept.empty()) headers["Accept"] = accept;
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TEST_F(ExportE2E, OneExportTooManyIs429AndAClientThatLeavesFreesItsSlot) {
  start("1");
  insert_bulk_cdrs(dsn_, "acct-a", "bulk", kT0, 30000, 10);  // ~40 MB of CSV: far more than the socket buffers

  // A client that asks for the export and then reads nothing: cdrd stops
  // producing once its buffer is full, and the export stays open.
  const int held = connect_to(cdrd_->port());
  ASSERT_GE(held, 0);
  send_get(held, kExport, "text/csv");
  std::string rest;
  ASSERT_EQ(status_of(read_head(held, &rest)), 200);

  for (const auto& [target, accept] :
       std::map<std::string, std::string>{{kExport, "application/octet-stream"}, {kExport + "&paginate=false", ""}}) {
    const HttpResponse r = get(target, accept);
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "too_many_exports") << r.body;
    EXPECT_EQ(r.headers.count("retry-after") ? r.headers.at("retry-after") : "", "1");
  }
  // Pages are not exports.
  EXPECT_EQ(get(kExport + "&page_size=10").status, 200);
  EXPECT_NE(get("/metrics").body.find("cdrd_api_exports_refused_total 2\n"), std::string::npos);

  // The client goes away in the middle: its slot is freed.
  ::close(held);
  ASSERT_TRUE(eventually([&] { return get(kExport + "&paginate=false&filter_id=bulk-0000001").status == 200; }));
  const Streamed next = stream_get(cdrd_->port(), kExport, "text/csv");
  EXPECT_EQ(status_of(next.head), 200);
  EXPECT_TRUE(next.complete);
  EXPECT_EQ(next.csv_lines, 30001u);
  EXPECT_NE(get("/metrics").body.find("cdrd_api_exports_cancelled_total 1\n"), std::string::npos);
}

// SIGTERM while an export waits for a client that does not read: the
// producer is woken, the transfer ends without its last chunk, and cdrd
// stops cleanly.
TEST_F(ExportE2E, StoppingCutsAnExportThatWaitsForItsClient) {
  start();
  insert_bulk_cdrs(dsn_, "acct-a", "bulk", kT0, 30000, 10);
  const int held = connect_to(cdrd_->port());
  ASSERT_GE(held, 0);
  send_get(held, kExport, "text/csv");
  Streamed out;
  std::string rest;
  out.head = read_head(held, &rest);
  ASSERT_EQ(status_of(out.head), 200);
  // Some of the body first (then no more reading), so the cut is mid-body.
  char buf[65536];
  while (rest.size() < (256u << 10)) {
    const ssize_t n = ::recv(held, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    rest.append(buf, static_cast<size_t>(n));
  }
  cdrd_->signal(SIGTERM);
  EXPECT_EQ(cdrd_->wait_exit(60), 0) << cdrd_->log();
  read_body(held, rest, &out);
  EXPECT_FALSE(out.complete);
  EXPECT_GT(out.csv_lines, 0u);
  EXPECT_LT(out.csv_lines, 30001u);
}

TEST_F(ExportE2E, ExportingThreeHundredThousandRowsTakesConstantMemory) {
  start();
  constexpr int kRows = 300000;
  insert_bulk_cdrs(dsn_, "acct-a", "bulk", kT0, kRows, 100);
  const pid_t pid = find_cdrd(cdrd_->config_path());
  ASSERT_GT(pid, 0);
  // The read threads' connections are open after a first request.
  ASSERT_EQ(get(kExport + "&page_size=1000").status, 200);
  const long before_kb = vm_hwm_kb(pid);
  ASSERT_GT(before_kb, 0);

  const auto csv_started = std::chrono::steady_clock::now();
  const Streamed csv = stream_get(cdrd_->port(), kExport, "text/csv");
  const double csv_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - csv_started).count();
  EXPECT_EQ(status_of(csv.head), 200) << csv.head;
  EXPECT_TRUE(csv.complete);
  EXPECT_EQ(csv.csv_lines, static_cast<uint64_t>(kRows) + 1);
  // Kazoo's CSV: its header, then the newest row, every cell quoted.
  const std::string header = "\"ID\",\"call_id\",\"caller_id_number\",";
  EXPECT_EQ(csv.first.compare(0, header.size(), header), 0) << csv.first.substr(0, 200);
  const size_t first_row = csv.first.find('\n') + 1;
  EXPECT_EQ(csv.first.compare(first_row, 31, "\"bulk-0300000\",\"bulk-0300000\",\""), 0)
      << csv.first.substr(first_row, 100);
  EXPECT_GT(csv.bytes, 80u << 20);  // about 370 bytes a row

  const Streamed json = stream_get(cdrd_->port(), kExport + "&paginate=false&ascending=true", "");
  EXPECT_EQ(status_of(json.head), 200) << json.head;
  EXPECT_TRUE(json.complete);
  EXPECT_EQ(json.json_records, static_cast<uint64_t>(kRows));
  EXPECT_EQ(json.first.compare(0, 23, "{\"data\":[{\"id\":\"bulk-00"), 0) << json.first.substr(0, 100);
  EXPECT_NE(json.last.find("],\"page_size\":300000,\"request_id\":"), std::string::npos);

  // Buffering either body would take hundreds of MB.
  const long after_kb = vm_hwm_kb(pid);
  std::cout << "cdrd VmHWM " << before_kb << " kB before, " << after_kb << " kB after exporting " << csv.bytes
            << " bytes of CSV and " << json.bytes << " bytes of JSON; CSV at " << static_cast<long>(kRows / csv_seconds)
            << " rows/s (informational)\n";
  EXPECT_LT(after_kb - before_kb, 64 * 1024) << "VmHWM " << before_kb << " kB -> " << after_kb << " kB";
}

}  // namespace
}  // namespace cdrd::test
