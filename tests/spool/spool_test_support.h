// Helpers shared by the spool tests: a scratch directory, durable appends,
// reading everything back, and raw file surgery for the recovery cases.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "daemon/spool/spool.h"
#include "tests/support/test_files.h"

namespace cdrd::spool_test {

using test::read_file;
using test::TempDir;
using test::write_file;

inline std::string segment_name(uint64_t number) {
  std::string digits = std::to_string(number);
  return "seg-" + std::string(20 - digits.size(), '0') + digits + ".log";
}

// 30 bytes for every i < 100: 38-byte frames, so three of them fill a 100-byte segment.
inline std::string payload_for(int i) {
  std::string payload = (i < 10 ? "record-0" : "record-") + std::to_string(i) + "-";
  payload.resize(30, '.');
  return payload;
}

inline SpoolOptions options_for(const TempDir& dir, uint64_t segment_bytes = 64ull << 20,
                                uint64_t max_bytes = 2ull << 30) {
  SpoolOptions options;
  options.dir = dir.path() + "/spool";
  options.segment_bytes = segment_bytes;
  options.max_bytes = max_bytes;
  return options;
}

inline std::unique_ptr<Spool> open_spool(const SpoolOptions& options) {
  std::string error;
  auto spool = Spool::open(options, &error);
  EXPECT_NE(spool, nullptr) << error;
  return spool;
}

// Appends and waits for the sync thread's verdict.
inline bool append_durably(Spool* spool, std::string payload) {
  auto promise = std::make_shared<std::promise<bool>>();
  auto verdict = promise->get_future();
  const auto status = spool->append(std::move(payload), [promise](bool durable) { promise->set_value(durable); });
  if (status != Spool::AppendResult::kQueued) return false;
  return verdict.get();
}

// Everything durable from `from` on, following `next`, without waiting.
inline std::vector<SpoolRecord> read_all(Spool* spool, SpoolPosition from, size_t per_call = 1000) {
  std::vector<SpoolRecord> all;
  std::vector<SpoolRecord> batch;
  while (spool->read(from, per_call, std::chrono::steady_clock::now(), &batch) && !batch.empty()) {
    from = batch.back().next;
    for (auto& record : batch) all.push_back(std::move(record));
  }
  return all;
}

inline std::vector<std::string> payloads_of(const std::vector<SpoolRecord>& records) {
  std::vector<std::string> payloads;
  payloads.reserve(records.size());
  for (const auto& record : records) payloads.push_back(record.payload);
  return payloads;
}

inline std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace cdrd::spool_test
