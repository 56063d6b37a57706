#include "adapters/freeswitch/percent_decode.h"

namespace cdrd {
namespace {

// -1 when c is not a hex digit.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Written here rather than taken from libevent (evhttp_uridecode) or curl
// (curl_easy_unescape): both need a NUL-terminated input and allocate per
// call, and this runs on every variable of every CDR.
size_t percent_decode_in_place(char* data, size_t size, PlusMeans plus) {
  const char* first_special = nullptr;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '%' || (data[i] == '+' && plus == PlusMeans::kSpace)) {
      first_special = data + i;
      break;
    }
  }
  if (first_special == nullptr) return size;
  size_t out = static_cast<size_t>(first_special - data);
  for (size_t in = out; in < size; ++in) {
    const char c = data[in];
    if (c == '%' && in + 2 < size) {
      const int hi = hex_value(data[in + 1]);
      const int lo = hex_value(data[in + 2]);
      if (hi >= 0 && lo >= 0) {
        data[out++] = static_cast<char>(hi * 16 + lo);
        in += 2;
        continue;
      }
    }
    data[out++] = (c == '+' && plus == PlusMeans::kSpace) ? ' ' : c;
  }
  return out;
}

std::string percent_decode(std::string_view text, PlusMeans plus) {
  std::string out(text);
  out.resize(percent_decode_in_place(out.data(), out.size(), plus));
  return out;
}

}  // namespace cdrd
