#include "adapters/freeswitch/esl_event.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "adapters/freeswitch/byte_scan.h"
#include "adapters/freeswitch/percent_decode.h"

namespace cdrd {
namespace {

std::string_view as_view(const rapidjson::Value& string) { return {string.GetString(), string.GetStringLength()}; }

// switch_event_serialize(): "Name: url-encoded value\n" per header, then
// either "\n" or "Content-Length: N\n\n" and N bytes of event body.
bool parse_plain(std::string_view text, EslEvent* out, std::string* error) {
  // The decoded text is never longer than the encoded one: one allocation.
  // Hangup events' lines average some 50 bytes, so the spans mostly fit too.
  constexpr size_t kBytesPerLineGuess = 32;
  out->headers.reserve(text.size(), text.size() / kBytesPerLineGuess + 16);
  size_t length_header = SIZE_MAX;  // the first Content-Length
  size_t pos = 0;
  size_t line_number = 0;
  while (pos < text.size()) {
    const size_t newline = pos + byte_scan::find_byte(text.data() + pos, text.size() - pos, '\n');
    std::string_view line = text.substr(pos, newline - pos);
    pos = newline + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the headers; an event body may follow
    const size_t colon = byte_scan::find_byte(line.data(), line.size(), ':');
    if (colon == line.size() || colon == 0) {
      *error = "event line " + std::to_string(line_number) + " is not 'Name: value': '" +
               std::string(line.substr(0, 60)) + "'";
      return false;
    }
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    // A '+' is a literal plus: FreeSWITCH encodes a space as %20.
    out->headers.add_percent_decoded(name, value);
    if (length_header == SIZE_MAX && name == "Content-Length") length_header = out->headers.size() - 1;
  }
  if (length_header == SIZE_MAX) return true;
  const std::string_view length_text = out->headers[length_header].value;
  if (length_text.empty()) return true;
  size_t length = 0;
  const auto [end, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (ec != std::errc() || end != length_text.data() + length_text.size()) {
    *error = "event Content-Length '" + std::string(length_text) + "' is not a number";
    return false;
  }
  // A last header line without its '\n' leaves pos one past the end; substr()
  // below would throw there (found by fuzz/esl_event_fuzzer: an uncaught
  // std::out_of_range on the ESL client's loop thread).
  pos = std::min(pos, text.size());
  const size_t available = text.size() - pos;
  if (length > available) {
    *error = "event Content-Length " + std::to_string(length) + " but " + std::to_string(available) +
             " bytes follow the headers";
    return false;
  }
  out->body.assign(text.substr(pos, length));
  return true;
}

// switch_event_serialize_json(): one object; a header with several values is
// an array of strings; "_body" is the event body.
bool parse_json(std::string_view text, EslEvent* out, std::string* error) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    *error = "event JSON parse error at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
             rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  if (!doc.IsObject()) {
    *error = "the JSON event is not an object";
    return false;
  }
  out->headers.reserve(text.size(), doc.MemberCount());
  for (const auto& m : doc.GetObject()) {
    const std::string_view name = as_view(m.name);
    if (m.value.IsString()) {
      if (name == "_body") {
        out->body.assign(as_view(m.value));
      } else {
        out->headers.add(name, as_view(m.value));
      }
      continue;
    }
    if (m.value.IsArray()) {
      bool strings = true;
      for (const auto& item : m.value.GetArray()) strings = strings && item.IsString();
      if (strings) {
        for (const auto& item : m.value.GetArray()) out->headers.add(name, as_view(item));
        continue;
      }
    }
    *error = "JSON event member '" + std::string(name) + "' is not a string or an array of strings";
    return false;
  }
  return true;
}

}  // namespace

EslHeaders::EslHeaders(const EslHeaders& other) : capacity_(other.used_), used_(other.used_), spans_(other.spans_) {
  if (used_ > 0) {
    text_.reset(new char[used_]);
    std::memcpy(text_.get(), other.text_.get(), used_);
  }
}

EslHeaders& EslHeaders::operator=(const EslHeaders& other) {
  if (this != &other) *this = EslHeaders(other);
  return *this;
}

void EslHeaders::grow(size_t bytes) {
  const size_t capacity = std::max(capacity_ * 2, used_ + bytes);
  std::unique_ptr<char[]> text(new char[capacity]);
  if (used_ > 0) std::memcpy(text.get(), text_.get(), used_);
  text_ = std::move(text);
  capacity_ = capacity;
}

void EslHeaders::add_percent_decoded(std::string_view name, std::string_view value) {
  char* out = room(name.size() + value.size());
  std::memcpy(out, name.data(), name.size());
  const size_t value_size = percent_decode_to(value, out + name.size());
  add_span(name.size(), value_size);
}

std::string_view EslEvent::header(std::string_view name) const {
  for (const EslHeader h : headers) {
    if (h.name == name) return h.value;
  }
  return {};
}

bool parse_esl_event(const EslFrame& frame, EslEvent* out, std::string* error) {
  *out = EslEvent();
  const std::string_view type = frame.content_type();
  bool ok = false;
  if (type == "text/event-plain") {
    ok = parse_plain(frame.body, out, error);
  } else if (type == "text/event-json") {
    ok = parse_json(frame.body, out, error);
  } else {
    *error = "not an event frame: Content-Type '" + std::string(type) + "'";
    return false;
  }
  if (ok && out->name().empty()) {
    *error = "the event has no Event-Name";
    ok = false;
  }
  if (!ok) {
    *out = EslEvent();
    return false;
  }
  out->raw = frame.body;
  return true;
}

}  // namespace cdrd
