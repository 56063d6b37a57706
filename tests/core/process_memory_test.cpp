// keep_freed_memory_for_reuse(): a block the size of a writer batch's COPY
// buffer comes from the heap, not from its own mmap, and its memory stays
// with the process when it is freed, ready for the next batch.
#include "daemon/core/process_memory.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace cdrd {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerMalloc = true;  // the sanitizer's allocator ignores mallopt
#else
constexpr bool kSanitizerMalloc = false;
#endif

TEST(ProcessMemory, ABatchSizedBlockIsHeapAndStaysForReuseAfterFree) {
  if (kSanitizerMalloc) GTEST_SKIP() << "a sanitizer build replaces glibc's malloc";
  ASSERT_EQ(::unsetenv("GLIBC_TUNABLES"), 0);
  ASSERT_TRUE(keep_freed_memory_for_reuse());
  constexpr size_t kBlock = 16U << 20;  // 16 MB: over glibc's default 128 KB mmap threshold
  const struct mallinfo2 before = mallinfo2();
  void* block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const struct mallinfo2 held = mallinfo2();
  // Not an mmap of its own (with the defaults hblkhd would grow by 16 MB).
  EXPECT_EQ(held.hblkhd, before.hblkhd);
  EXPECT_GE(held.arena, kBlock);
  std::free(block);
  const struct mallinfo2 after = mallinfo2();
  // Still the process's: 16 MB of free top is under the 64 MB trim threshold
  // (with the defaults, 128 KB, it would have gone back to the kernel).
  EXPECT_GE(after.fordblks, kBlock);
}

TEST(ProcessMemory, TheOperatorsMallocTunablesWin) {
  ASSERT_EQ(::setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1048576", 1), 0);
  EXPECT_FALSE(keep_freed_memory_for_reuse());
  ASSERT_EQ(::unsetenv("GLIBC_TUNABLES"), 0);
}

}  // namespace
}  // namespace cdrd
