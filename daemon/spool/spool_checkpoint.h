// The checkpoint file: the committed SpoolPosition with its own checksum,
// replaced atomically so a crash leaves either the old or the new one.
//   "CDRDSPC1" | u64 segment | u64 offset | u32 crc32 of the 24 bytes before (little-endian)
#pragma once

#include <string>

#include "daemon/spool/spool.h"

namespace cdrd::spool {

std::string checkpoint_path(const std::string& dir);

// *found=false (and true returned) when there is no checkpoint yet.
bool read_checkpoint(const std::string& dir, SpoolPosition* position, bool* found, std::string* error);
// Temp file, fsync, rename over the old one, fsync the directory.
bool write_checkpoint(const std::string& dir, const SpoolPosition& position, std::string* error);

}  // namespace cdrd::spool
