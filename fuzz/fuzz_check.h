// Shared by the harnesses: an invariant that does not hold is a bug, so it
// aborts (libFuzzer then keeps the input as a crash), with the reason.
#pragma once

#include <rapidjson/document.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cdrd::fuzz {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

inline void check(bool condition, const char* what) {
  if (!condition) fail(what);
}

// True when `text` is one JSON object (what every canonical record is).
inline bool is_json_object(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

}  // namespace cdrd::fuzz
