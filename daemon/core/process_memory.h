// How the process's malloc keeps freed memory (glibc).
//
// glibc serves a block over its mmap threshold (128 KB at first, raised as
// such blocks are freed) with its own mmap, and gives the free top of a heap
// back to the kernel once it passes the trim threshold. cdrd's writer
// allocates and frees some 25 MB per batch (1,000 records of an 11 KB raw
// document and its JSON, then the COPY buffer). With the defaults that
// memory went back to the kernel after a batch and was faulted in again by
// the next one: on the development VM, where a page fault is expensive, the
// writer's prepare step cost 63 instead of 15 µs a row. Fixed thresholds
// keep up to kTrimThresholdBytes of freed heap for reuse; what a process
// holds is then close to its peak, which is what the RSS bound (100 MB under
// the ingest bench) is about anyway.
#pragma once

#include <cstddef>

namespace cdrd {

inline constexpr size_t kMmapThresholdBytes = 32U << 20;  // blocks larger than this are mmap'ed
inline constexpr size_t kTrimThresholdBytes = 64U << 20;  // freed heap kept for reuse

// Sets both thresholds, unless the operator set glibc's malloc tunables
// (GLIBC_TUNABLES naming glibc.malloc.*), which then win. False when not
// applied (tunables set, or mallopt refused); the process works either way.
bool keep_freed_memory_for_reuse();

}  // namespace cdrd
