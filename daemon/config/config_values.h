// Text <-> value for the scalar kinds of the key table. The file loader and
// the environment overrides both go through set_scalar(), so a value is
// validated the same way wherever it comes from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "daemon/config/config_keys.h"

namespace cdrd::config_internal {

// Each returns "" on success, else why `text` is not valid, phrased to follow
// "<key>: " in a message, e.g. "expected an integer, got 'lots'".
std::string parse_int(std::string_view text, int64_t min, int64_t max, int64_t* out);
std::string parse_size(std::string_view text, int64_t min, int64_t max, uint64_t* out);
std::string check_host_port(std::string_view text);
std::string check_choice(std::string_view text, std::string_view choices);

// 4194304 -> "4MiB"; sizes that are not whole units stay in bytes.
std::string format_size(uint64_t bytes);

// "int 1..100000", "size 1KiB..1GiB", "host:port", "text|json", "string", ...
std::string type_name(Kind kind, int64_t min, int64_t max, std::string_view choices);

// "an integer", "a size", "host:port", ...: what a scalar of this kind looks like.
std::string expected_text(Kind kind, std::string_view choices);

template <class Owner>
std::string type_name(const Key<Owner>& key) {
  return type_name(key.kind, key.min, key.max, key.choices);
}

// Parses `text` as the value of `key` and stores it in `owner`.
template <class Owner>
std::string set_scalar(const Key<Owner>& key, const std::string& text, Owner* owner) {
  std::string problem;
  switch (key.kind) {
    case Kind::kInt: {
      int64_t v = 0;
      problem = parse_int(text, key.min, key.max, &v);
      if (problem.empty()) owner->*std::get<int Owner::*>(key.member) = static_cast<int>(v);
      return problem;
    }
    case Kind::kSize: {
      uint64_t v = 0;
      problem = parse_size(text, key.min, key.max, &v);
      if (problem.empty()) owner->*std::get<uint64_t Owner::*>(key.member) = v;
      return problem;
    }
    case Kind::kHostPort:
      if (!text.empty() || key.has(kNonEmpty)) problem = check_host_port(text);
      break;
    case Kind::kEnum:
      problem = check_choice(text, key.choices);
      break;
    case Kind::kString:
      if (key.has(kNonEmpty) && text.empty()) problem = "must not be empty";
      break;
    case Kind::kChecked:
      // "" = not set, unless the key needs a value.
      if (!text.empty()) {
        problem = key.check(text);
      } else if (key.has(kNonEmpty)) {
        problem = "must not be empty";
      }
      break;
    default:
      return "is not a scalar key";
  }
  if (problem.empty()) owner->*std::get<std::string Owner::*>(key.member) = text;
  return problem;
}

// The value of `key` in `owner` as config/cdrd.yaml would spell it.
template <class Owner>
std::string format_value(const Key<Owner>& key, const Owner& owner) {
  return std::visit(
      [&](auto member) -> std::string {
        const auto& value = owner.*member;
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return value.empty() ? "\"\"" : value;
        } else if constexpr (std::is_same_v<T, int>) {
          return std::to_string(value);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          return format_size(value);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string out = "[";
          for (const std::string& s : value) out += (out.size() > 1 ? ", " : "") + s;
          return out + "]";
        } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
          std::string out = "{";
          for (const auto& [k, v] : value) out += (out.size() > 1 ? ", " : "") + k + ": " + v;
          return out + "}";
        } else {
          return value.empty() ? "[]" : "[" + std::to_string(value.size()) + " items]";
        }
      },
      key.member);
}

// Whether `key` has the same value in `a` and `b`.
template <class Owner>
bool same_value(const Key<Owner>& key, const Owner& a, const Owner& b) {
  return std::visit([&](auto member) { return a.*member == b.*member; }, key.member);
}

}  // namespace cdrd::config_internal
