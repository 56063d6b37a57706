#include "adapters/freeswitch/esl_frame.h"

#include <charconv>

namespace cdrd {
namespace {

std::string_view trim_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Header names FreeSWITCH sends are tokens; a space or a control byte in a
// name means the stream lost its framing (e.g. a Content-Length that did not
// match its body), and going on would misread every later frame.
bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}

std::string quoted(std::string_view text) {
  constexpr size_t kShown = 60;
  std::string out = "'";
  out.append(text.substr(0, kShown));
  if (text.size() > kShown) out.append("...");
  out.append("'");
  return out;
}

}  // namespace

std::string_view EslFrame::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

bool EslFrameParser::feed(std::string_view bytes, std::vector<EslFrame>* out, std::string* error) {
  if (failed_) {
    *error = "the ESL stream had a protocol error earlier; a new connection needs a new parser";
    return false;
  }
  // Frames are read from `data`: the held bytes with the new ones appended,
  // or, when nothing is held (a read that starts at a frame boundary), the
  // new bytes themselves, so that a whole frame is copied once (into its
  // body), not twice. Only an incomplete frame at the end is kept.
  const bool holding = !buffer_.empty();
  if (holding) buffer_.append(bytes);
  const std::string_view data = holding ? std::string_view(buffer_) : bytes;
  // `start` is where the frame in progress begins in data; the consumed
  // prefix is dropped once at the end, so many small frames cost one move.
  size_t start = 0;
  const auto offset_of = [&](size_t pos) { return std::to_string(stream_offset_ + pos); };
  const auto protocol_error = [&](std::string message) {
    failed_ = true;
    *error = std::move(message);
    buffer_.clear();
    pending_ = EslFrame();
    return false;
  };

  while (true) {
    if (in_body_) {
      // The header block stays held until the frame is whole, so buffered()
      // is never 0 in the middle of a frame; the body begins at line_start_.
      if (data.size() - line_start_ < body_length_) break;
      pending_.body.assign(data, line_start_, body_length_);
      start = line_start_ + body_length_;
      scanned_ = line_start_ = start;
      in_body_ = false;
      out->push_back(std::move(pending_));
      pending_ = EslFrame();
      continue;
    }
    const size_t newline = data.find('\n', scanned_);
    if (newline == std::string_view::npos) {
      // A '\r' held last may be that of the empty line ending the block,
      // which the limit does not count; were it counted here, a block at the
      // limit would pass whole and fail when its CRLF arrives split (found by
      // fuzz/esl_frame_fuzzer). A longer line is caught when its '\n' arrives.
      size_t held = data.size() - start;
      if (held > 0 && data.back() == '\r') --held;
      if (held > limits_.max_header_bytes) {
        return protocol_error("ESL header block over " + std::to_string(limits_.max_header_bytes) +
                              " bytes in the frame at stream offset " + offset_of(start));
      }
      scanned_ = data.size();
      break;
    }
    const size_t line_start = line_start_;
    const std::string_view line = trim_cr(data.substr(line_start, newline - line_start));
    scanned_ = line_start_ = newline + 1;
    if (line.empty()) {
      if (pending_.headers.empty()) {
        // An empty line between frames carries nothing; libesl skips it too.
        start = scanned_;
        continue;
      }
      // End of the header block.
      size_t length = 0;
      const std::string* length_text = nullptr;
      for (const auto& [name, value] : pending_.headers) {
        if (name != "Content-Length") continue;
        if (length_text == nullptr) {
          length_text = &value;
        } else if (value != *length_text) {
          return protocol_error("conflicting Content-Length headers in the frame at stream offset " + offset_of(start));
        }
      }
      if (length_text != nullptr) {
        const char* first = length_text->data();
        const char* last = first + length_text->size();
        const auto [end, ec] = std::from_chars(first, last, length);
        if (first == last || ec != std::errc() || end != last) {
          return protocol_error("bad Content-Length " + quoted(*length_text) + " in the frame at stream offset " +
                                offset_of(start));
        }
        if (length > limits_.max_body_bytes) {
          return protocol_error("Content-Length " + std::to_string(length) + " over the limit of " +
                                std::to_string(limits_.max_body_bytes) + " bytes in the frame at stream offset " +
                                offset_of(start));
        }
      }
      if (length > 0) {
        in_body_ = true;
        body_length_ = length;
        continue;
      }
      start = scanned_;
      out->push_back(std::move(pending_));
      pending_ = EslFrame();
      continue;
    }
    if (scanned_ - start > limits_.max_header_bytes) {
      return protocol_error("ESL header block over " + std::to_string(limits_.max_header_bytes) +
                            " bytes in the frame at stream offset " + offset_of(start));
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return protocol_error("ESL header line without ':' at stream offset " + offset_of(line_start) + ": " +
                            quoted(line));
    }
    const std::string_view name = line.substr(0, colon);
    if (!valid_header_name(name)) {
      return protocol_error("invalid ESL header name " + quoted(name) + " at stream offset " + offset_of(line_start));
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    pending_.headers.emplace_back(name, value);
  }

  if (holding) {
    buffer_.erase(0, start);
  } else {
    buffer_.assign(data.substr(start));
  }
  stream_offset_ += start;
  scanned_ -= start;
  line_start_ -= start;
  return true;
}

}  // namespace cdrd
