// ESL framing (adapters/freeswitch/esl_frame.h). Invariant: the parser is
// incremental, so the same bytes fed whole, split at one point, or one byte
// at a time give the same frames and the same verdict.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "adapters/freeswitch/esl_frame.h"
#include "fuzz/fuzz_check.h"

namespace {

struct Outcome {
  std::vector<cdrd::EslFrame> frames;
  bool ok = true;
  size_t buffered = 0;
};

// Small limits so the over-limit paths are reached by small inputs.
cdrd::EslFrameLimits limits(bool small) {
  cdrd::EslFrameLimits l;
  if (small) {
    l.max_header_bytes = 256;
    l.max_body_bytes = 512;
  }
  return l;
}

Outcome feed_in_pieces(const std::string& bytes, const std::vector<size_t>& cuts, bool small) {
  cdrd::EslFrameParser parser(limits(small));
  Outcome out;
  std::string error;
  size_t begin = 0;
  for (size_t cut : cuts) {
    if (!parser.feed(std::string_view(bytes).substr(begin, cut - begin), &out.frames, &error)) {
      out.ok = false;
      cdrd::fuzz::check(!error.empty(), "a failed feed() says why");
      return out;
    }
    begin = cut;
  }
  out.buffered = parser.buffered();
  return out;
}

bool same_frames(const std::vector<cdrd::EslFrame>& a, const std::vector<cdrd::EslFrame>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].headers != b[i].headers || a[i].body != b[i].body) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  const bool small = provider.ConsumeBool();
  const size_t split = provider.ConsumeIntegral<uint16_t>();
  const std::string bytes = provider.ConsumeRemainingBytesAsString();

  const Outcome whole = feed_in_pieces(bytes, {bytes.size()}, small);
  const size_t at = bytes.empty() ? 0 : split % (bytes.size() + 1);
  const Outcome halves = feed_in_pieces(bytes, {at, bytes.size()}, small);
  cdrd::fuzz::check(whole.ok == halves.ok, "a split changes the verdict");
  cdrd::fuzz::check(same_frames(whole.frames, halves.frames), "a split changes the frames");
  if (whole.ok) cdrd::fuzz::check(whole.buffered == halves.buffered, "a split changes the bytes held");

  if (bytes.size() <= 4096) {  // byte by byte is quadratic in the worst case: small inputs only
    std::vector<size_t> cuts;
    for (size_t i = 1; i <= bytes.size(); ++i) cuts.push_back(i);
    const Outcome bytewise = feed_in_pieces(bytes, cuts, small);
    cdrd::fuzz::check(whole.ok == bytewise.ok, "byte-by-byte feeding changes the verdict");
    cdrd::fuzz::check(same_frames(whole.frames, bytewise.frames), "byte-by-byte feeding changes the frames");
  }
  for (const cdrd::EslFrame& frame : whole.frames) {
    if (small) cdrd::fuzz::check(frame.body.size() <= 512, "a body over max_body_bytes is returned");
    // Only a Content-Length header brings a body.
    if (!frame.body.empty()) {
      cdrd::fuzz::check(!frame.header("Content-Length").empty(), "a body without Content-Length");
    }
  }
  return 0;
}
