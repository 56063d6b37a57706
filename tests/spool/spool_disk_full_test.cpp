// A write the disk refuses (ENOSPC on a full disk; here EFBIG from
// RLIMIT_FSIZE, which fails the same write() path deterministically and
// without root) must fail only the appends of that group: their frames are
// cut back out of the segment, nothing of them is ever read or replayed,
// and once there is room again later appends are durable. The spool must
// not stay broken until a restart (the fault matrix found that).
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "tests/spool/spool_test_support.h"

namespace cdrd::spool_test {
namespace {

// Lowers the file size limit of this process for the test's lifetime.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing us
    set(bytes);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }
  void set(rlim_t bytes) {
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  void lift() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

 private:
  rlimit saved_{};
  sighandler_t old_handler_ = SIG_DFL;
};

std::string big_payload(int i) {
  std::string payload = "record-" + std::to_string(i) + "-";
  payload.resize(1000, 'x');
  return payload;
}

TEST(SpoolDiskFull, AFailedWriteFailsOnlyItsGroupAndLaterAppendsSucceed) {
  TempDir dir;
  std::vector<std::string> durable;
  {
    auto spool = open_spool(options_for(dir));
    ASSERT_NE(spool, nullptr);
    FileSizeLimit limit(rlim_t{10} * 1024);  // room for 10 frames of ~1 KB in the segment
    int i = 0;
    int refused = 0;
    for (; i < 30; ++i) {
      if (append_durably(spool.get(), big_payload(i))) {
        durable.push_back(big_payload(i));
      } else {
        ++refused;
      }
    }
    EXPECT_EQ(durable.size(), 10u);
    EXPECT_EQ(refused, 20);
    EXPECT_TRUE(spool->healthy()) << "a cleanly cut-back failure must not break the spool";
    EXPECT_EQ(payloads_of(read_all(spool.get(), spool->committed())), durable);

    // Room again (the writer committed, or the operator freed the disk).
    limit.lift();
    for (int j = 0; j < 5; ++j, ++i) {
      ASSERT_TRUE(append_durably(spool.get(), big_payload(i)));
      durable.push_back(big_payload(i));
    }
    EXPECT_EQ(payloads_of(read_all(spool.get(), spool->committed())), durable);
  }
  // After a restart exactly the durable records are replayed: no frame of a
  // refused group survived.
  auto reopened = open_spool(options_for(dir));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(payloads_of(read_all(reopened.get(), reopened->committed())), durable);
}

// A really full disk (a 64 KiB tmpfs, so root only): the commit that frees
// the disk must not need new space itself (the checkpoint is overwritten in
// place), and appends succeed again once it has deleted segments.
TEST(SpoolDiskFull, CommitOnAFullDiskFreesItForLaterAppends) {
  TempDir dir;
  const SpoolOptions options = options_for(dir, /*segment_bytes=*/uint64_t{8} * 1024);
  std::filesystem::create_directories(options.dir);
  if (::mount("tmpfs", options.dir.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << std::strerror(errno);
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{options.dir};
  auto spool = open_spool(options);
  ASSERT_NE(spool, nullptr);
  int i = 0;
  while (i < 1000 && append_durably(spool.get(), big_payload(i))) ++i;
  ASSERT_LT(i, 1000) << "the disk never filled";
  EXPECT_TRUE(spool->healthy());
  EXPECT_FALSE(append_durably(spool.get(), big_payload(i))) << "still full";
  const auto records = read_all(spool.get(), spool->committed());
  ASSERT_EQ(records.size(), static_cast<size_t>(i));
  std::string error;
  ASSERT_TRUE(spool->commit(records.back().next, &error)) << error;
  EXPECT_TRUE(append_durably(spool.get(), big_payload(i)));
  EXPECT_EQ(payloads_of(read_all(spool.get(), spool->committed())), std::vector<std::string>{big_payload(i)});
}

}  // namespace
}  // namespace cdrd::spool_test
