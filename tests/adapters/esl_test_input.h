// Turns the ESL samples into what mod_event_socket sends, for the ESL tests.
//
// Plain bodies (esl_hangup_plain_*) are framed as they are. Decoded dumps
// (esl_hangup_decoded_*) are an ESL client's debug print, not wire format:
// plain_body_from_decoded_dump() drops the "RECV EVENT" title, the terminal's
// trailing padding, joins the lines of multi-line values (SDP) back to their
// header with "\n", and percent-encodes every value as FreeSWITCH would.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/esl_frame.h"
#include "adapters/freeswitch/percent_decode.h"

namespace cdrd::test {

// Every byte outside RFC 3986's unreserved set becomes %XX (a space too, so '+' stays a plus).
inline std::string percent_encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.append({'%', kHex[u >> 4], kHex[u & 15]});
    }
  }
  return out;
}

// switch_event_serialize() ends the header lines with an empty line; the
// samples lost that final "\n\n" when they were cut out of their sources.
inline std::string complete_plain_body(std::string body) {
  while (body.size() < 2 || body.compare(body.size() - 2, 2, "\n\n") != 0) body.push_back('\n');
  return body;
}

inline std::string frame_event(const std::string& body, std::string_view content_type = "text/event-plain") {
  return "Content-Length: " + std::to_string(body.size()) + "\nContent-Type: " + std::string(content_type) + "\n\n" +
         body;
}

// A dump line starts a header when it is "Name: ..." with a token name; any
// other line (an SDP line, an empty line) continues the previous value.
inline bool starts_header(std::string_view line) {
  const size_t colon = line.find(": ");
  if (colon == std::string_view::npos || colon == 0) return false;
  for (char c : line.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

inline std::string plain_body_from_decoded_dump(std::string_view dump) {
  std::vector<std::pair<std::string, std::string>> headers;
  size_t pos = 0;
  while (pos < dump.size()) {
    size_t newline = dump.find('\n', pos);
    if (newline == std::string_view::npos) newline = dump.size();
    std::string_view line = dump.substr(pos, newline - pos);
    pos = newline + 1;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    if (starts_header(line)) {
      const size_t colon = line.find(": ");
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    } else if (!headers.empty()) {
      headers.back().second.append("\n").append(line);
    }
  }
  std::string body;
  for (const auto& [name, value] : headers) body.append(name).append(": ").append(percent_encode(value)).append("\n");
  return body + "\n";
}

// The text/event-json form of a plain body (switch_event_serialize_json):
// one object, decoded values, a repeated header as an array of strings.
inline std::string json_body_from_plain(std::string_view plain) {
  std::vector<std::pair<std::string, std::vector<std::string>>> headers;
  size_t pos = 0;
  while (pos < plain.size()) {
    size_t newline = plain.find('\n', pos);
    if (newline == std::string_view::npos) newline = plain.size();
    const std::string_view line = plain.substr(pos, newline - pos);
    pos = newline + 1;
    if (line.empty()) break;
    const size_t colon = line.find(": ");
    const std::string name(line.substr(0, colon));
    const std::string value = percent_decode(line.substr(colon + 2), PlusMeans::kPlus);
    bool repeated = false;
    for (auto& header : headers) {
      if (header.first == name) {
        header.second.push_back(value);
        repeated = true;
      }
    }
    if (!repeated) headers.push_back({name, {value}});
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [name, values] : headers) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    if (values.size() > 1) w.StartArray();
    for (const auto& v : values) w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    if (values.size() > 1) w.EndArray();
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// The one event of `body` framed as mod_event_socket frames it, through the
// frame parser; an empty event (name "") when it does not parse.
inline EslEvent event_from_body(const std::string& body, std::string_view content_type = "text/event-plain") {
  EslFrameParser parser;
  std::vector<EslFrame> frames;
  std::string error;
  EslEvent event;
  if (!parser.feed(frame_event(body, content_type), &frames, &error) || frames.size() != 1 ||
      !parse_esl_event(frames[0], &event, &error)) {
    return EslEvent();
  }
  return event;
}

}  // namespace cdrd::test
