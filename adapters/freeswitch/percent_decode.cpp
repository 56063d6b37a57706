#include "adapters/freeswitch/percent_decode.h"

#include <cstdint>
#include <cstring>

#include "adapters/freeswitch/byte_scan.h"

namespace cdrd {
namespace {

// The value of each byte as a hex digit, -1 for bytes that are none.
struct HexDigits {
  signed char value[256];
  constexpr HexDigits() : value() {
    for (int c = 0; c < 256; ++c) {
      value[c] = static_cast<signed char>(c >= '0' && c <= '9'   ? c - '0'
                                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                 : -1);
    }
  }
};
constexpr HexDigits kHexDigits;

int hex_value(char c) { return kHexDigits.value[static_cast<unsigned char>(c)]; }

// At the '%' in[at] (of `size` bytes): writes the byte a valid %XX stands
// for, else the '%' itself, at *o and advances it; returns the input bytes
// used (3 or 1).
size_t put_escape(const char* in, size_t at, size_t size, char** o) {
  if (at + 2 < size) {
    const int hi = hex_value(in[at + 1]);
    const int lo = hex_value(in[at + 2]);
    if (hi >= 0 && lo >= 0) {
      *(*o)++ = static_cast<char>(hi * 16 + lo);
      return 3;
    }
  }
  *(*o)++ = '%';
  return 1;
}

}  // namespace

// Written here rather than taken from libevent (evhttp_uridecode) or curl
// (curl_easy_unescape): both need a NUL-terminated input and allocate per
// call, and this runs on every variable of every CDR.
size_t percent_decode_in_place(char* data, size_t size, PlusMeans plus) {
  // Most values hold no escape at all.
  size_t first_special = byte_scan::find_byte(data, size, '%');
  if (plus == PlusMeans::kSpace) first_special = byte_scan::find_byte(data, first_special, '+');
  if (first_special == size) return size;
  // The output never gets ahead of the input: put_escape() reads an escape
  // before it writes its byte.
  char* out = data + first_special;
  size_t in = first_special;
  while (in < size) {
    const char c = data[in];
    if (c == '%') {
      in += put_escape(data, in, size, &out);
    } else {
      *out++ = (c == '+' && plus == PlusMeans::kSpace) ? ' ' : c;
      ++in;
    }
  }
  return static_cast<size_t>(out - data);
}

size_t percent_decode_to(std::string_view text, char* out) {
  const char* in = text.data();
  const size_t size = text.size();
  size_t i = 0;
  char* o = out;
  // Decoding only shrinks the text (o - out <= i), so a block stored at `o`
  // while as many bytes of input remain stays inside the room for `size`.
  // The bytes of a block from a '%' on are written again after it.
#if defined(__SSE2__)
  const __m128i percent16 = _mm_set1_epi8('%');
  while (i + 16 <= size) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), block);
    const unsigned percent = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, percent16)));
    if (percent == 0) {
      o += 16;
      i += 16;
      continue;
    }
    const size_t plain = static_cast<size_t>(__builtin_ctz(percent));
    o += plain;
    i += plain + put_escape(in, i + plain, size, &o);
  }
#endif
  while (i + 8 <= size) {
    const uint64_t word = byte_scan::load_word(in + i);
    const uint64_t percent = byte_scan::zero_bytes(word ^ (byte_scan::kEveryByte * '%'));
    std::memcpy(o, &word, sizeof word);
    if (percent == 0) {
      o += 8;
      i += 8;
      continue;
    }
    const size_t plain = byte_scan::first_flagged(percent);
    o += plain;
    i += plain + put_escape(in, i + plain, size, &o);
  }
  while (i < size) {
    if (in[i] == '%') {
      i += put_escape(in, i, size, &o);
    } else {
      *o++ = in[i++];
    }
  }
  return static_cast<size_t>(o - out);
}

std::string percent_decode(std::string_view text, PlusMeans plus) {
  std::string out(text);
  out.resize(percent_decode_in_place(out.data(), out.size(), plus));
  return out;
}

}  // namespace cdrd
