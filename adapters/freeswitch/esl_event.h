// An ESL event: the body of a text/event-plain frame (header lines
// "Name: percent-encoded value", an empty line, then the event's own body of
// the event's Content-Length bytes) or of a text/event-json frame (one JSON
// object of strings; "_body" holds the event's own body).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/freeswitch/esl_frame.h"

namespace cdrd {

struct EslEvent {
  // Event headers in order, values percent-decoded (a '+' stays a '+').
  // Channel variables are the headers named "variable_<name>".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // the event's own body (rare for hangup events)
  std::string raw;   // the frame body exactly as received, kept as the CDR's raw document
  // The first value of `name`, "" when absent.
  std::string_view header(std::string_view name) const;
  std::string_view name() const { return header("Event-Name"); }
};

// Parses the body of a text/event-plain or text/event-json frame. False with
// *error (naming the line or the JSON offset) when it is not an event.
bool parse_esl_event(const EslFrame& frame, EslEvent* out, std::string* error);

}  // namespace cdrd
