// Shared by the harnesses: an invariant that does not hold is a bug, so it
// aborts (libFuzzer then keeps the input as a crash), with the reason.
#pragma once

#include <rapidjson/document.h>

#include <cstdio>
#include <cstdlib>
#include <set>
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

// True when some object (at any depth) holds a name twice: jsonb would keep
// only the last, while the code that checked the record read the first.
inline bool has_duplicate_name(const rapidjson::Value& v) {
  if (v.IsObject()) {
    std::set<std::string_view> names;
    for (const auto& m : v.GetObject()) {
      if (!names.insert({m.name.GetString(), m.name.GetStringLength()}).second) return true;
      if (has_duplicate_name(m.value)) return true;
    }
  }
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      if (has_duplicate_name(item)) return true;
    }
  }
  return false;
}

}  // namespace cdrd::fuzz
