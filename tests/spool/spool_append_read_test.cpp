#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "daemon/core/metrics.h"
#include "daemon/spool/spool.h"
#include "daemon/spool/spool_frame.h"
#include "tests/spool/spool_test_support.h"

namespace cdrd::spool_test {
namespace {

std::string le32(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::string expected_frame(const std::string& payload) {
  const uLong crc =
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return le32(static_cast<uint32_t>(payload.size())) + le32(static_cast<uint32_t>(crc)) + payload;
}

uint64_t sync_count(const Metrics& metrics) {
  const std::string text = metrics.render();
  const std::string key = "cdrd_spool_sync_seconds_count ";
  const auto at = text.find(key);
  EXPECT_NE(at, std::string::npos);
  return std::stoull(text.substr(at + key.size()));
}

// The frame's checksum is zlib's crc32 whatever computes it: the CRC-32
// check value of "123456789" is 0xCBF43926, and zlib agrees on every length
// from 0 to 300 bytes and on a 1 MiB payload (ISA-L folds long inputs
// differently from short ones).
TEST(SpoolFrame, PayloadCrcIsZlibsCrc32) {
  EXPECT_EQ(spool::payload_crc("123456789", 9), 0xCBF43926u);
  std::string data;
  uint32_t x = 12345;
  for (int i = 0; i < (1 << 20); ++i) {
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 24));
  }
  auto zlib_crc = [](const char* p, size_t n) {
    return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(p), static_cast<uInt>(n)));
  };
  for (size_t n = 0; n <= 300; ++n)
    ASSERT_EQ(spool::payload_crc(data.data() + 7, n), zlib_crc(data.data() + 7, n)) << n;
  EXPECT_EQ(spool::payload_crc(data.data(), data.size()), zlib_crc(data.data(), data.size()));
}

TEST(SpoolAppendRead, RoundTripKeepsPayloadsAndPositions) {
  TempDir dir;
  auto spool = open_spool(options_for(dir));
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->durable_end(), (SpoolPosition{0, 0}));

  ASSERT_TRUE(append_durably(spool.get(), "alpha"));
  ASSERT_TRUE(append_durably(spool.get(), std::string("br\0vo!", 6)));
  ASSERT_TRUE(append_durably(spool.get(), ""));
  EXPECT_EQ(spool->durable_end(), (SpoolPosition{0, 35}));
  EXPECT_EQ(spool->live_bytes(), 35u);

  std::vector<SpoolRecord> records;
  ASSERT_TRUE(spool->read(SpoolPosition{0, 0}, 10, std::chrono::steady_clock::now(), &records));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].payload, "alpha");
  EXPECT_EQ(records[0].next, (SpoolPosition{0, 13}));
  EXPECT_EQ(records[1].payload, std::string("br\0vo!", 6));
  EXPECT_EQ(records[1].next, (SpoolPosition{0, 27}));
  EXPECT_EQ(records[2].payload, "");
  EXPECT_EQ(records[2].next, (SpoolPosition{0, 35}));

  // Reading from the middle starts at that record, and max_records bounds the answer.
  ASSERT_TRUE(spool->read(SpoolPosition{0, 13}, 1, std::chrono::steady_clock::now(), &records));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload, std::string("br\0vo!", 6));

  // The segment file holds exactly the documented frames: length, zlib crc32, payload, little-endian.
  EXPECT_EQ(read_file(options_for(dir).dir + "/" + segment_name(0)),
            expected_frame("alpha") + expected_frame(std::string("br\0vo!", 6)) + expected_frame(""));
}

TEST(SpoolAppendRead, GroupCommitSyncsManyAppendsAtOnce) {
  TempDir dir;
  Metrics metrics;
  SpoolOptions options = options_for(dir);
  options.metrics = &metrics;
  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);

  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  constexpr int kAppends = kThreads * kPerThread;
  std::mutex mu;
  std::condition_variable cv;
  int attempted = 0;
  int queued = 0;
  int called = 0;
  int durable = 0;
  bool first = true;
  // The first callback holds the sync thread until every append is in, so the
  // rest must be taken as one group: exactly what group commit promises.
  auto done = [&](bool ok) {
    std::unique_lock<std::mutex> lock(mu);
    if (first) {
      first = false;
      cv.wait(lock, [&] { return attempted == kAppends; });
    }
    ++called;
    if (ok) ++durable;
    cv.notify_all();
  };
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const auto status = spool->append("cdr-" + std::to_string(t) + "-" + std::to_string(i), done);
        std::lock_guard<std::mutex> lock(mu);
        ++attempted;
        if (status == Spool::AppendResult::kQueued) ++queued;
        cv.notify_all();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_EQ(queued, kAppends);
    cv.wait(lock, [&] { return called == queued; });
    EXPECT_EQ(durable, kAppends);
  }
  EXPECT_EQ(metrics.spooled.load(), static_cast<uint64_t>(kAppends));
  const uint64_t syncs = sync_count(metrics);
  EXPECT_LT(syncs, static_cast<uint64_t>(kAppends));
  EXPECT_GE(syncs, 1u);
  EXPECT_LE(syncs, 2u);
  EXPECT_EQ(metrics.spool_pending_records.load(), kAppends);
  EXPECT_EQ(metrics.spool_bytes.load(), static_cast<int64_t>(spool->live_bytes()));

  const auto records = read_all(spool.get(), SpoolPosition{});
  ASSERT_EQ(records.size(), static_cast<size_t>(kAppends));
  std::set<std::string> unique;
  for (const auto& record : records) unique.insert(record.payload);
  EXPECT_EQ(unique.size(), static_cast<size_t>(kAppends));
  EXPECT_EQ(unique.count("cdr-3-499"), 1u);
  EXPECT_EQ(records.back().next, spool->durable_end());
}

TEST(SpoolAppendRead, RotatesSegmentsAndReadsAcrossThemInOrder) {
  TempDir dir;
  const SpoolOptions options = options_for(dir, /*segment_bytes=*/100);
  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);
  // 30-byte payloads make 38-byte frames: the third frame in a segment reaches 100 bytes and closes it.
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(payload_for(i));
    ASSERT_TRUE(append_durably(spool.get(), sent.back()));
  }
  std::vector<std::string> expected_files = {"checkpoint"};  // made by open(), to be overwritten in place
  for (uint64_t s = 0; s <= 6; ++s) expected_files.push_back(segment_name(s));
  EXPECT_EQ(files_in(options.dir), expected_files);
  for (uint64_t s = 0; s < 6; ++s) EXPECT_EQ(std::filesystem::file_size(options.dir + "/" + segment_name(s)), 114u);
  EXPECT_EQ(std::filesystem::file_size(options.dir + "/" + segment_name(6)), 76u);
  EXPECT_EQ(spool->durable_end(), (SpoolPosition{6, 76}));
  EXPECT_EQ(spool->live_bytes(), 6u * 114 + 76);

  // Four at a time, following `next` across every rotation.
  const auto records = read_all(spool.get(), SpoolPosition{0, 0}, 4);
  EXPECT_EQ(payloads_of(records), sent);
  ASSERT_EQ(records.size(), 20u);
  EXPECT_EQ(records[0].next, (SpoolPosition{0, 38}));
  EXPECT_EQ(records[2].next, (SpoolPosition{1, 0}));  // the end of a closed segment is the next one's start
  EXPECT_EQ(records[3].next, (SpoolPosition{1, 38}));
  EXPECT_EQ(records[19].next, (SpoolPosition{6, 76}));

  // A position at the very end of a closed segment reads on from the next one.
  std::vector<SpoolRecord> batch;
  ASSERT_TRUE(spool->read(SpoolPosition{0, 114}, 1, std::chrono::steady_clock::now(), &batch));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].payload, sent[3]);
}

TEST(SpoolAppendRead, FullSpoolRefusesUntilCommit) {
  TempDir dir;
  // Room for exactly three 38-byte frames.
  auto spool = open_spool(options_for(dir, 64ull << 20, /*max_bytes=*/114));
  ASSERT_NE(spool, nullptr);
  const std::string payload(30, 'x');
  ASSERT_TRUE(append_durably(spool.get(), payload));
  ASSERT_TRUE(append_durably(spool.get(), payload));
  ASSERT_TRUE(append_durably(spool.get(), payload));
  bool called = false;
  EXPECT_EQ(spool->append(payload, [&](bool) { called = true; }), Spool::AppendResult::kFull);
  EXPECT_EQ(spool->append("", nullptr), Spool::AppendResult::kFull);
  EXPECT_EQ(spool->live_bytes(), 114u);

  const auto records = read_all(spool.get(), spool->committed());
  ASSERT_EQ(records.size(), 3u);
  std::string error;
  ASSERT_TRUE(spool->commit(records[0].next, &error)) << error;
  EXPECT_EQ(spool->live_bytes(), 76u);
  EXPECT_TRUE(append_durably(spool.get(), payload));
  EXPECT_EQ(spool->append(payload, nullptr), Spool::AppendResult::kFull);
  EXPECT_FALSE(called);
}

TEST(SpoolAppendRead, PendingBytesCountTowardsFull) {
  TempDir dir;
  auto spool = open_spool(options_for(dir, 64ull << 20, /*max_bytes=*/76));
  ASSERT_NE(spool, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  // Holding the sync thread in the first callback keeps the second append pending.
  ASSERT_EQ(spool->append(std::string(30, 'a'),
                          [&](bool) {
                            std::unique_lock<std::mutex> lock(mu);
                            entered = true;
                            cv.notify_all();
                            cv.wait(lock, [&] { return release; });
                          }),
            Spool::AppendResult::kQueued);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  EXPECT_EQ(spool->live_bytes(), 38u);
  EXPECT_EQ(spool->append(std::string(30, 'b'), nullptr), Spool::AppendResult::kQueued);
  EXPECT_EQ(spool->append(std::string(30, 'c'), nullptr), Spool::AppendResult::kFull);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST(SpoolAppendRead, ReadWaitsUntilTheDeadlineWhenNothingIsDurable) {
  TempDir dir;
  auto spool = open_spool(options_for(dir));
  ASSERT_NE(spool, nullptr);
  std::vector<SpoolRecord> records{SpoolRecord{"stale", {}}};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  EXPECT_TRUE(spool->read(SpoolPosition{0, 0}, 10, deadline, &records));
  EXPECT_TRUE(records.empty());
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

TEST(SpoolAppendRead, ReadReturnsAsSoonAsARecordIsDurable) {
  TempDir dir;
  auto spool = open_spool(options_for(dir));
  ASSERT_NE(spool, nullptr);
  std::vector<SpoolRecord> records;
  bool ok = false;
  std::thread reader([&] {
    ok = spool->read(SpoolPosition{0, 0}, 10, std::chrono::steady_clock::now() + std::chrono::hours(1), &records);
  });
  ASSERT_TRUE(append_durably(spool.get(), "late"));
  reader.join();
  EXPECT_TRUE(ok);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload, "late");
}

TEST(SpoolAppendRead, ShutdownWakesABlockedRead) {
  TempDir dir;
  auto spool = open_spool(options_for(dir));
  ASSERT_NE(spool, nullptr);
  std::vector<SpoolRecord> records;
  std::atomic<int> result{-1};
  std::thread reader([&] {
    result = spool->read(SpoolPosition{0, 0}, 10, std::chrono::steady_clock::now() + std::chrono::hours(1), &records)
                 ? 1
                 : 0;
  });
  spool->shutdown();
  reader.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_TRUE(records.empty());
}

TEST(SpoolAppendRead, AfterShutdownReadReturnsWhatIsLeftThenFalse) {
  TempDir dir;
  auto spool = open_spool(options_for(dir));
  ASSERT_NE(spool, nullptr);
  ASSERT_TRUE(append_durably(spool.get(), "one"));
  ASSERT_TRUE(append_durably(spool.get(), "two"));
  spool->shutdown();
  EXPECT_EQ(spool->append("three", nullptr), Spool::AppendResult::kFailed);
  EXPECT_TRUE(spool->healthy());

  std::vector<SpoolRecord> records;
  const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
  ASSERT_TRUE(spool->read(SpoolPosition{0, 0}, 10, far, &records));
  EXPECT_EQ(payloads_of(records), (std::vector<std::string>{"one", "two"}));
  EXPECT_FALSE(spool->read(records.back().next, 10, far, &records));
  EXPECT_TRUE(records.empty());
}

TEST(SpoolAppendRead, DestructorFlushesPendingAppends) {
  TempDir dir;
  const SpoolOptions options = options_for(dir);
  std::atomic<int> durable{0};
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(spool->append("flush-" + std::to_string(i), [&](bool ok) { durable += ok ? 1 : 0; }),
                Spool::AppendResult::kQueued);
    }
  }
  EXPECT_EQ(durable.load(), 100);
  auto reopened = open_spool(options);
  ASSERT_NE(reopened, nullptr);
  const auto records = read_all(reopened.get(), reopened->committed());
  ASSERT_EQ(records.size(), 100u);
  EXPECT_EQ(records.front().payload, "flush-0");
  EXPECT_EQ(records.back().payload, "flush-99");
}

}  // namespace
}  // namespace cdrd::spool_test
