// In-situ JSON parsing with RapidJSON that copies the plain runs of a string
// (no escape, no quote, no control byte) 16 bytes at a time (8 without
// SSE2). RapidJSON does this only in its SSE2/SSE4.2/NEON builds, which cdrd
// does not define for the whole program; the reader's hooks for it
// (ScanCopyUnescapedString, SkipWhitespace) are specialized here for a
// stream type of the normalizers' own, so no other user of RapidJSON sees a
// different reader. Parsing the strings of a JSON CDR byte by byte was a
// quarter of its normalization.
#pragma once

#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <cstring>
#include <string>
#include <string_view>

#include "adapters/freeswitch/byte_scan.h"

namespace cdrd {

// RapidJSON's in-situ stream under a name of its own (see above).
struct InsituJsonStream : rapidjson::InsituStringStream {
  explicit InsituJsonStream(char* text) : rapidjson::InsituStringStream(text) {}
};

// NUL bytes after the document in the buffer parsed in situ: the text's own
// terminator, and room for the 16-byte reads that stop at it.
constexpr size_t kInsituPadding = byte_scan::kScanPadding;

// A copy of `json` to parse in situ, followed by kInsituPadding NUL bytes.
inline std::string padded_copy(std::string_view json) {
  std::string buffer;
  buffer.reserve(json.size() + kInsituPadding);
  buffer.append(json).append(kInsituPadding, '\0');
  return buffer;
}

}  // namespace cdrd

namespace rapidjson {

// As for RapidJSON's own in-situ stream: the reader works on a local copy.
template <>
struct StreamTraits<cdrd::InsituJsonStream> {
  enum { copyOptimization = 1 };
};

// The reader's hook before each character of a string: copy the plain run in
// one go (RapidJSON's own SIMD versions do the same). The string ends at
// '"', its escapes start at '\\', and the document's terminating NUL is a
// control byte, so the run never passes it; the reads past it stay in the
// padding of padded_copy().
template <>
template <>
inline void GenericReader<UTF8<>, UTF8<>, CrtAllocator>::ScanCopyUnescapedString(cdrd::InsituJsonStream& is,
                                                                                 cdrd::InsituJsonStream& os) {
  const size_t run = cdrd::byte_scan::json_plain_run_padded(is.src_);
  // Once an escape was decoded the output lags behind the input.
  if (os.dst_ != is.src_) std::memmove(os.dst_, is.src_, run);
  os.dst_ += run;
  is.src_ += run;
}

// White space between tokens (pretty-printed CDRs are full of it): a plain
// pointer loop, without the generic version's copy of the stream per call.
template <>
inline void SkipWhitespace(cdrd::InsituJsonStream& is) {
  char* p = is.src_;
  while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') ++p;
  is.src_ = p;
}

}  // namespace rapidjson
