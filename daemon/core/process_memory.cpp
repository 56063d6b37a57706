#include "daemon/core/process_memory.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace cdrd {

bool keep_freed_memory_for_reuse() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return false;
  // Setting the mmap threshold also turns off glibc's dynamic adjustment of
  // both thresholds, so neither moves afterwards.
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThresholdBytes)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThresholdBytes)) == 1;
}

}  // namespace cdrd
