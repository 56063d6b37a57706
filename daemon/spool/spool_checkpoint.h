// The checkpoint file: the committed SpoolPosition in two slots, each
//   "CDRDSPC1" | u64 segment | u64 offset | u32 crc32 of the 24 bytes before (little-endian)
// The valid slot with the larger position is the checkpoint. A commit
// overwrites the other slot in place and fdatasyncs: a crash tears at most
// that slot (the older position stays, and replaying from it is harmless),
// and a full disk cannot block the commit that frees it. A file of one slot
// (the format before the slots) is read as that slot.
#pragma once

#include <string>

#include "daemon/spool/spool.h"

namespace cdrd::spool {

std::string checkpoint_path(const std::string& dir);

// *found=false (and true returned) when there is no checkpoint yet.
bool read_checkpoint(const std::string& dir, SpoolPosition* position, bool* found, std::string* error);
// In place into the older slot; the first one (no file yet) through a temp
// file, fsync, rename and an fsync of the directory.
bool write_checkpoint(const std::string& dir, const SpoolPosition& position, std::string* error);

}  // namespace cdrd::spool
