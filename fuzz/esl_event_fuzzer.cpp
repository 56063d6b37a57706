// ESL event bodies (esl_event.h) and their normalization
// (normalize_esl_event). The first byte picks the frame's Content-Type
// (text/event-plain or text/event-json); the rest is the frame body.
#include <string>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/normalize.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const cdrd::NormalizeOptions options = cdrd::fuzz::fuzz_options();
  cdrd::EslFrame frame;
  frame.headers.emplace_back("Content-Type", (data[0] & 1) ? "text/event-json" : "text/event-plain");
  frame.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  frame.headers.emplace_back("Content-Length", std::to_string(frame.body.size()));

  cdrd::EslEvent event;
  std::string error;
  if (!cdrd::parse_esl_event(frame, &event, &error)) {
    cdrd::fuzz::check(!error.empty(), "a refused event says why");
    return 0;
  }
  cdrd::fuzz::check(event.raw == frame.body, "the event keeps the frame body as its raw document");
  const cdrd::NormalizeResult result = cdrd::normalize_esl_event(event, options);
  cdrd::fuzz::check_record(result, "esl");
  if (result.ok()) cdrd::fuzz::check(result.record.raw == frame.body, "the record's raw is the event as received");
  return 0;
}
