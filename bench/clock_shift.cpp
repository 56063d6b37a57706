#include "bench/clock_shift.h"

namespace cdrd {

size_t move_times_to(const std::string& start_epoch, int64_t to_unix, std::string* body) {
  if (start_epoch.size() != 10 || to_unix < 1000000000 || to_unix > 9999999999) return 0;
  const std::string from = start_epoch.substr(0, 6);
  const std::string to = std::to_string(to_unix).substr(0, 6);
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t moved = 0;
  for (size_t at = body->find(from); at != std::string::npos; at = body->find(from, at + 1)) {
    if (at > 0 && is_digit((*body)[at - 1])) continue;
    size_t end = at;
    while (end < body->size() && is_digit((*body)[end])) ++end;
    if (end - at != 10 && end - at != 16) continue;
    body->replace(at, from.size(), to);
    ++moved;
  }
  return moved;
}

}  // namespace cdrd
