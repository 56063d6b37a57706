#include "adapters/freeswitch/esl_event.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>

#include "adapters/freeswitch/percent_decode.h"

namespace cdrd {
namespace {

std::string_view as_view(const rapidjson::Value& string) { return {string.GetString(), string.GetStringLength()}; }

// switch_event_serialize(): "Name: url-encoded value\n" per header, then
// either "\n" or "Content-Length: N\n\n" and N bytes of event body.
bool parse_plain(std::string_view text, EslEvent* out, std::string* error) {
  size_t pos = 0;
  size_t line_number = 0;
  while (pos < text.size()) {
    size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    std::string_view line = text.substr(pos, newline - pos);
    pos = newline + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the headers; an event body may follow
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *error = "event line " + std::to_string(line_number) + " is not 'Name: value': '" +
               std::string(line.substr(0, 60)) + "'";
      return false;
    }
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    // A '+' is a literal plus: FreeSWITCH encodes a space as %20.
    out->headers.emplace_back(std::string(line.substr(0, colon)), percent_decode(value, PlusMeans::kPlus));
  }
  const std::string_view length_text = out->header("Content-Length");
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
  for (const auto& m : doc.GetObject()) {
    const std::string_view name = as_view(m.name);
    if (m.value.IsString()) {
      if (name == "_body") {
        out->body.assign(as_view(m.value));
      } else {
        out->headers.emplace_back(std::string(name), std::string(as_view(m.value)));
      }
      continue;
    }
    if (m.value.IsArray()) {
      bool strings = true;
      for (const auto& item : m.value.GetArray()) strings = strings && item.IsString();
      if (strings) {
        for (const auto& item : m.value.GetArray()) out->headers.emplace_back(std::string(name), as_view(item));
        continue;
      }
    }
    *error = "JSON event member '" + std::string(name) + "' is not a string or an array of strings";
    return false;
  }
  return true;
}

}  // namespace

std::string_view EslEvent::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
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
