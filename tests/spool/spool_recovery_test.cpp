#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>

#include "daemon/core/metrics.h"
#include "daemon/spool/spool.h"
#include "tests/spool/spool_test_support.h"

namespace cdrd::spool_test {
namespace {

std::vector<std::string> payloads_from(int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) out.push_back(payload_for(i));
  return out;
}

void fill(Spool* spool, int count) {
  for (int i = 0; i < count; ++i) ASSERT_TRUE(append_durably(spool, payload_for(i)));
}

void flip_byte(const std::string& path, size_t at) {
  std::string bytes = read_file(path);
  ASSERT_LT(at, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ 0x5a);
  write_file(path, bytes);
}

TEST(SpoolRecovery, CommitDeletesSegmentsWhollyBeforeIt) {
  TempDir dir;
  Metrics metrics;
  SpoolOptions options = options_for(dir, /*segment_bytes=*/100);
  options.metrics = &metrics;
  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);
  fill(spool.get(), 20);
  const auto records = read_all(spool.get(), SpoolPosition{});
  ASSERT_EQ(records.size(), 20u);
  EXPECT_EQ(metrics.spool_pending_records.load(), 20);

  std::string error;
  ASSERT_TRUE(spool->commit(records[7].next, &error)) << error;  // inside segment 2
  EXPECT_EQ(spool->committed(), (SpoolPosition{2, 76}));
  std::vector<std::string> expected{"checkpoint"};
  for (uint64_t s = 2; s <= 6; ++s) expected.push_back(segment_name(s));
  EXPECT_EQ(files_in(options.dir), expected);
  EXPECT_EQ(spool->live_bytes(), 38u + 3 * 114 + 76);
  EXPECT_EQ(metrics.spool_bytes.load(), static_cast<int64_t>(38 + 3 * 114 + 76));
  EXPECT_EQ(metrics.spool_pending_records.load(), 12);

  // The end of segment 2 is the start of segment 3: segment 2 goes too.
  ASSERT_TRUE(spool->commit(records[8].next, &error)) << error;
  EXPECT_EQ(spool->committed(), (SpoolPosition{3, 0}));
  EXPECT_FALSE(std::filesystem::exists(options.dir + "/" + segment_name(2)));
  EXPECT_TRUE(std::filesystem::exists(options.dir + "/" + segment_name(3)));
  EXPECT_EQ(metrics.spool_pending_records.load(), 11);

  // What is already committed is not read again, even when asked from the start.
  EXPECT_EQ(payloads_of(read_all(spool.get(), SpoolPosition{})), payloads_from(9, 19));
}

TEST(SpoolRecovery, CommitRefusesPositionsThatAreNotRecordBoundaries) {
  TempDir dir;
  auto spool = open_spool(options_for(dir, /*segment_bytes=*/100));
  ASSERT_NE(spool, nullptr);
  fill(spool.get(), 4);
  std::string error;
  EXPECT_FALSE(spool->commit(SpoolPosition{0, 40}, &error));
  EXPECT_NE(error.find("not a record boundary"), std::string::npos) << error;
  EXPECT_FALSE(spool->commit(SpoolPosition{1, 76}, &error));
  EXPECT_NE(error.find("past the durable end"), std::string::npos) << error;
  EXPECT_EQ(spool->committed(), (SpoolPosition{0, 0}));
  ASSERT_TRUE(spool->commit(SpoolPosition{1, 38}, &error)) << error;
  EXPECT_FALSE(spool->commit(SpoolPosition{0, 38}, &error));
  EXPECT_NE(error.find("before the committed position"), std::string::npos) << error;
}

TEST(SpoolRecovery, ReopenReplaysExactlyTheUncommittedRecords) {
  TempDir dir;
  Metrics metrics;
  SpoolOptions options = options_for(dir, /*segment_bytes=*/100);
  uint64_t live_before = 0;
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 20);
    const auto records = read_all(spool.get(), SpoolPosition{});
    std::string error;
    ASSERT_TRUE(spool->commit(records[7].next, &error)) << error;
    live_before = spool->live_bytes();
  }
  options.metrics = &metrics;
  auto reopened = open_spool(options);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->committed(), (SpoolPosition{2, 76}));
  EXPECT_EQ(reopened->durable_end(), (SpoolPosition{6, 76}));
  EXPECT_EQ(reopened->live_bytes(), live_before);
  EXPECT_EQ(metrics.spool_bytes.load(), static_cast<int64_t>(live_before));
  EXPECT_EQ(metrics.spool_pending_records.load(), 12);
  EXPECT_EQ(payloads_of(read_all(reopened.get(), reopened->committed())), payloads_from(8, 19));

  // New appends continue after the replayed ones.
  ASSERT_TRUE(append_durably(reopened.get(), "after-restart"));
  const auto records = read_all(reopened.get(), reopened->committed());
  ASSERT_EQ(records.size(), 13u);
  EXPECT_EQ(records.back().payload, "after-restart");
  EXPECT_EQ(records.back().next, (SpoolPosition{6, 97}));
}

TEST(SpoolRecovery, TornTailOfTheLastSegmentIsCutOff) {
  TempDir dir;
  const SpoolOptions options = options_for(dir);
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 3);
  }
  // A crash mid-write: the third frame is cut short and followed by junk.
  const std::string segment = options.dir + "/" + segment_name(0);
  std::string bytes = read_file(segment);
  ASSERT_EQ(bytes.size(), 114u);
  bytes.resize(76 + 10);
  bytes += std::string("\x13\x37garbage", 9);
  write_file(segment, bytes);

  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(std::filesystem::file_size(segment), 76u);
  EXPECT_EQ(spool->durable_end(), (SpoolPosition{0, 76}));
  EXPECT_EQ(spool->live_bytes(), 76u);
  EXPECT_EQ(payloads_of(read_all(spool.get(), SpoolPosition{})), payloads_from(0, 1));
  ASSERT_TRUE(append_durably(spool.get(), "next"));
  const auto records = read_all(spool.get(), SpoolPosition{});
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].payload, "next");
}

TEST(SpoolRecovery, AbsurdLengthInTheLastSegmentIsATornTail) {
  TempDir dir;
  const SpoolOptions options = options_for(dir);
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 2);
  }
  const std::string segment = options.dir + "/" + segment_name(0);
  // Length 0xffffffff, then more bytes than a short-header check would need.
  write_file(segment, read_file(segment) + std::string(64, '\xff'));
  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(std::filesystem::file_size(segment), 76u);
  EXPECT_EQ(payloads_of(read_all(spool.get(), SpoolPosition{})), payloads_from(0, 1));
}

TEST(SpoolRecovery, CorruptionInAnEarlierSegmentFailsOpenNamingFileAndOffset) {
  TempDir dir;
  const SpoolOptions options = options_for(dir, /*segment_bytes=*/100);
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 8);  // segments 0, 1 full, 2 with two records
  }
  const std::string segment = options.dir + "/" + segment_name(0);
  flip_byte(segment, 38 + 8 + 3);  // inside the payload of the second record

  std::string error;
  EXPECT_EQ(Spool::open(options, &error), nullptr);
  EXPECT_NE(error.find(segment), std::string::npos) << error;
  EXPECT_NE(error.find("offset 38"), std::string::npos) << error;
  EXPECT_NE(error.find("crc"), std::string::npos) << error;
  // Nothing was cut: the evidence stays for the operator.
  EXPECT_EQ(std::filesystem::file_size(segment), 114u);
}

TEST(SpoolRecovery, CorruptCheckpointIsReported) {
  TempDir dir;
  const SpoolOptions options = options_for(dir);
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 3);
    std::string error;
    ASSERT_TRUE(spool->commit(SpoolPosition{0, 38}, &error)) << error;
  }
  const std::string checkpoint = options.dir + "/checkpoint";
  std::string error;
  // Two slots: the commit went into slot 1; a torn slot 0 (the older one) is survivable.
  flip_byte(checkpoint, 10);
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(spool->committed(), (SpoolPosition{0, 38}));
  }
  flip_byte(checkpoint, 28 + 10);
  EXPECT_EQ(Spool::open(options, &error), nullptr);
  EXPECT_NE(error.find(checkpoint), std::string::npos) << error;
  EXPECT_NE(error.find("bad checksum"), std::string::npos) << error;

  write_file(checkpoint, "short");
  EXPECT_EQ(Spool::open(options, &error), nullptr);
  EXPECT_NE(error.find(checkpoint), std::string::npos) << error;
}

TEST(SpoolRecovery, CheckpointPointingAtAMissingSegmentIsReported) {
  TempDir dir;
  const SpoolOptions options = options_for(dir, /*segment_bytes=*/100);
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 7);
    std::string error;
    ASSERT_TRUE(spool->commit(SpoolPosition{1, 38}, &error)) << error;
  }
  std::filesystem::remove(options.dir + "/" + segment_name(1));
  std::string error;
  EXPECT_EQ(Spool::open(options, &error), nullptr);
  EXPECT_NE(error.find(segment_name(1)), std::string::npos) << error;
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
}

TEST(SpoolRecovery, SegmentsLeftBeforeTheCheckpointAreRemovedOnOpen) {
  TempDir dir;
  const SpoolOptions options = options_for(dir, /*segment_bytes=*/100);
  std::string kept;
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 7);
    kept = read_file(options.dir + "/" + segment_name(0));
    std::string error;
    ASSERT_TRUE(spool->commit(SpoolPosition{2, 0}, &error)) << error;
  }
  // As if commit() had crashed between the checkpoint rename and the unlink.
  write_file(options.dir + "/" + segment_name(0), kept);
  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);
  EXPECT_FALSE(std::filesystem::exists(options.dir + "/" + segment_name(0)));
  EXPECT_EQ(payloads_of(read_all(spool.get(), SpoolPosition{})), payloads_from(6, 6));
}

TEST(SpoolRecovery, FailedWriteIsNotAcknowledgedAndLeavesNoFrameBehind) {
  TempDir dir;
  const SpoolOptions options = options_for(dir);
  {
    auto spool = open_spool(options);
    ASSERT_NE(spool, nullptr);
    fill(spool.get(), 2);
    // A file size limit makes the next write fail part-way, like a full disk.
    struct rlimit saved {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto saved_handler = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limited = saved;
    limited.rlim_cur = 100;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
    const bool durable = append_durably(spool.get(), std::string(200, 'z'));
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    ::signal(SIGXFSZ, saved_handler);

    EXPECT_FALSE(durable);
    // Cut back cleanly: only that group failed (spool_disk_full_test.cpp has the rest).
    EXPECT_TRUE(spool->healthy());
    EXPECT_EQ(spool->durable_end(), (SpoolPosition{0, 76}));
    EXPECT_EQ(std::filesystem::file_size(options.dir + "/" + segment_name(0)), 76u);
  }
  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);
  EXPECT_TRUE(spool->healthy());
  EXPECT_EQ(payloads_of(read_all(spool.get(), SpoolPosition{})), payloads_from(0, 1));
}

}  // namespace
}  // namespace cdrd::spool_test
