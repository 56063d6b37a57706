// A write the disk refuses (ENOSPC on a full disk; here EFBIG from
// RLIMIT_FSIZE, which fails the same write() path deterministically and
// without root) must fail only the appends of that group: their frames are
// cut back out of the segment, nothing of them is ever read or replayed,
// and once there is room again later appends are durable. The spool must
// not stay broken until a restart (the fault matrix found that).
#include <signal.h>
#include <sys/resource.h>

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
    FileSizeLimit limit(10 * 1024);  // room for 10 frames of ~1 KB in the segment
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

}  // namespace
}  // namespace cdrd::spool_test
