// Helpers of the BatchWriter tests against a real PostgreSQL: canonical
// records, a spool filled as acknowledged ingest would fill it, and a writer
// with short batches and back-off.
#pragma once

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/cdr_record.h"
#include "daemon/db/batch_writer.h"
#include "daemon/spool/spool.h"

namespace cdrd::test {

constexpr int64_t kGregorianOffset = 62167219200;

inline int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::string utc_text(int64_t unix_seconds, const char* format) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// A canonical record ending at `unix_end` (its own month's partition exists
// when that is the current month). `extra` is spliced in as more fields.
inline std::string cdr_json(const std::string& call_id, int64_t unix_end, const std::string& extra = "") {
  return R"({"id":"202401-)" + call_id + R"(","call_id":")" + call_id + R"(","account_id":"acc-1","timestamp":)" +
         std::to_string(unix_end + kGregorianOffset) + R"(,"source":"json_cdr")" + extra + "}";
}

inline std::string payload(const std::string& json, const std::string& raw = "", const std::string& raw_format = "") {
  return encode_spool_payload(CdrRecord{json, raw, raw_format});
}

// Polls `done` until it holds; gives up after a minute so a broken writer
// fails the test instead of hanging it. Asserts nothing about time.
inline bool eventually(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

inline std::unique_ptr<Spool> open_spool(const std::string& dir) {
  SpoolOptions options;
  options.dir = dir;
  std::string error;
  auto spool = Spool::open(options, &error);
  EXPECT_NE(spool, nullptr) << error;
  return spool;
}

// Appends and waits until every payload is fdatasync'd, as an acknowledged
// ingest would have.
inline void append_durably(Spool* spool, const std::vector<std::string>& payloads) {
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  size_t durable = 0;
  for (const auto& p : payloads) {
    ASSERT_EQ(spool->append(p,
                            [&](bool ok) {
                              std::lock_guard<std::mutex> lock(mu);
                              ++done;
                              if (ok) ++durable;
                              cv.notify_all();
                            }),
              Spool::AppendResult::kQueued);
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == payloads.size(); });
  ASSERT_EQ(durable, payloads.size());
}

inline bool drained(const Spool& spool) { return spool.committed() == spool.durable_end(); }

inline BatchWriterOptions fast_options(const std::string& dsn) {
  BatchWriterOptions o;
  o.dsn = dsn;
  o.max_rows = 100;
  o.max_delay = std::chrono::milliseconds(20);
  o.retry_initial = std::chrono::milliseconds(20);
  o.retry_max = std::chrono::milliseconds(200);
  o.partitions_ahead_months = 1;
  return o;
}

inline int64_t count(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  return tx.exec1(sql)[0].as<int64_t>();
}

}  // namespace cdrd::test
