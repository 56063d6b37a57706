// FreeSWITCH Event Socket (mod_event_socket) framing, both directions of the
// wire: a frame is a block of "Name: value" header lines ended by an empty
// line, followed by exactly Content-Length bytes of body when that header is
// present. Pure code: bytes in, frames out; no sockets, no globals.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdrd {

// One frame as received. Header values are kept as sent (the outer frame
// headers are not percent-encoded; event bodies are, see esl_event.h).
struct EslFrame {
  std::vector<std::pair<std::string, std::string>> headers;  // in order; a name may repeat
  std::string body;                                          // Content-Length bytes, "" when none
  // The first value of `name` (case-sensitive, as FreeSWITCH sends them), "" when absent.
  std::string_view header(std::string_view name) const;
  // Content-Type, e.g. "auth/request", "command/reply", "text/event-plain",
  // "text/event-json", "text/disconnect-notice", "api/response".
  std::string_view content_type() const { return header("Content-Type"); }
};

struct EslFrameLimits {
  size_t max_header_bytes = size_t{64} * 1024;       // one header block; more is a protocol error
  size_t max_body_bytes = size_t{16} * 1024 * 1024;  // one Content-Length; more is a protocol error
};

// Incremental parser: feed() any split of the byte stream (one byte at a
// time works) and get whole frames out, in order. Keeps only the bytes of
// the frame in progress. After a protocol error (bad Content-Length, header
// block or body over the limits, a header line without ':') it stays failed:
// the connection must be dropped and a new parser made for the next one.
class EslFrameParser {
 public:
  explicit EslFrameParser(EslFrameLimits limits = {}) : limits_(limits) {}
  // Appends every frame completed by `bytes` to *out. False with *error set on
  // a protocol error (frames completed before it are still appended).
  bool feed(std::string_view bytes, std::vector<EslFrame>* out, std::string* error);
  // Bytes of an incomplete frame held (0 between frames): lets a caller tell
  // a clean close from one in the middle of a frame.
  size_t buffered() const { return buffer_.size(); }

 private:
  EslFrameLimits limits_;
  std::string buffer_;
  size_t scanned_ = 0;    // bytes of buffer_ already searched for the end of the header block
  bool in_body_ = false;  // header block parsed, waiting for body bytes
  size_t body_length_ = 0;
  EslFrame pending_;
  bool failed_ = false;
  size_t line_start_ = 0;     // where the header line being received begins in buffer_
  size_t stream_offset_ = 0;  // stream position of buffer_[0], for error messages
};

}  // namespace cdrd
