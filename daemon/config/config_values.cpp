#include "daemon/config/config_values.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

namespace cdrd::config_internal {
namespace {

// KB/MB/GB/TB are powers of 1024 too: nobody sizing a spool means 10^6.
constexpr std::pair<std::string_view, uint64_t> kSizeUnits[] = {
    {"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10},
    {"TB", 1ull << 40},  {"GB", 1ull << 30},  {"MB", 1ull << 20},  {"KB", 1ull << 10},
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string list_choices(std::string_view choices) {
  std::string out;
  for (char c : choices) out += c == '|' ? std::string(", ") : std::string(1, c);
  return out;
}

}  // namespace

std::string parse_int(std::string_view text, int64_t min, int64_t max, int64_t* out) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return fmt::format("expected an integer, got '{}'", text);
  }
  if (ec == std::errc::result_out_of_range || v < min || v > max) {
    return fmt::format("must be between {} and {}, got {}", min, max, text);
  }
  *out = v;
  return {};
}

std::string parse_size(std::string_view text, int64_t min, int64_t max, uint64_t* out) {
  std::string bad = fmt::format("expected a size (bytes, or a number with KiB, MiB, GiB or TiB), got '{}'", text);
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return bad;
  std::string_view suffix = text.substr(digits);
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  uint64_t unit = 1;
  if (!suffix.empty()) {
    unit = 0;
    for (const auto& [name, bytes] : kSizeUnits) {
      if (equals_ignoring_case(suffix, name)) unit = bytes;
    }
    if (unit == 0) return bad;
  }
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
  std::string range = fmt::format("must be between {} and {}, got {}", format_size(static_cast<uint64_t>(min)),
                                  format_size(static_cast<uint64_t>(max)), text);
  if (ec != std::errc() || n > std::numeric_limits<uint64_t>::max() / unit) return range;
  const uint64_t v = n * unit;
  if (v < static_cast<uint64_t>(min) || v > static_cast<uint64_t>(max)) return range;
  *out = v;
  return {};
}

std::string check_host_port(std::string_view text) {
  std::string bad = fmt::format("expected host:port or [ipv6]:port, got '{}'", text);
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad;
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.empty()) return bad;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad;
  } else if (host.find(':') != std::string_view::npos || host.find(']') != std::string_view::npos) {
    return bad;  // an IPv6 address needs brackets, or its last group reads as the port
  }
  int64_t p = 0;
  if (!all_digits(port) || !parse_int(port, 1, 65535, &p).empty()) {
    return fmt::format("expected host:port with a port between 1 and 65535, got '{}'", text);
  }
  return {};
}

std::string check_choice(std::string_view text, std::string_view choices) {
  size_t start = 0;
  while (start <= choices.size()) {
    size_t bar = choices.find('|', start);
    if (bar == std::string_view::npos) bar = choices.size();
    if (choices.substr(start, bar - start) == text) return {};
    start = bar + 1;
  }
  return fmt::format("expected one of {}, got '{}'", list_choices(choices), text);
}

std::string format_size(uint64_t bytes) {
  if (bytes == 0) return "0";
  for (const auto& [name, unit] : kSizeUnits) {
    if (name.size() == 3 && bytes % unit == 0) return fmt::format("{}{}", bytes / unit, name);
  }
  return std::to_string(bytes);
}

std::string type_name(Kind kind, int64_t min, int64_t max, std::string_view choices) {
  switch (kind) {
    case Kind::kString:
      return "string";
    case Kind::kInt:
      return fmt::format("int {}..{}", min, max);
    case Kind::kSize:
      return fmt::format("size {}..{}", format_size(static_cast<uint64_t>(min)),
                         format_size(static_cast<uint64_t>(max)));
    case Kind::kHostPort:
      return "host:port";
    case Kind::kEnum:
    case Kind::kChecked:
      return std::string(choices);
    case Kind::kStringList:
      return "list of strings";
    case Kind::kStringMap:
      return choices.empty() ? "map of strings" : "map of " + std::string(choices);
    case Kind::kItemList:
      return "list of maps";
  }
  return {};
}

std::string expected_text(Kind kind, std::string_view choices) {
  switch (kind) {
    case Kind::kString:
      return "a string";
    case Kind::kInt:
      return "an integer";
    case Kind::kSize:
      return "a size";
    case Kind::kHostPort:
      return "host:port";
    case Kind::kEnum:
      return "one of " + list_choices(choices);
    case Kind::kChecked:
      return "a string";
    case Kind::kStringList:
      return "a list of strings";
    case Kind::kStringMap:
      return "a map of strings";
    case Kind::kItemList:
      return "a list of maps";
  }
  return {};
}

}  // namespace cdrd::config_internal
