// Word-at-a-time byte scans for the normalizers' hot loops: eight bytes a
// step with the bit tricks of "Bit Twiddling Hacks" (haszero / hasless)
// instead of a branch per byte. A JSON CDR is mostly strings, and scanning
// them byte by byte (RapidJSON's parser and writer without SIMD) was the
// largest single cost of a normalization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cdrd::byte_scan {

constexpr uint64_t kEveryByte = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;
constexpr uint64_t kLowBits = 0x7F7F7F7F7F7F7F7FULL;

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "byte_scan.h reads words as little-endian (the first byte is the lowest)"
#endif

inline uint64_t load_word(const char* p) {
  uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// 0x80 in exactly the bytes of `word` that are zero. Adding 0x7F to the low
// seven bits of a byte cannot carry into the next one.
constexpr uint64_t zero_bytes(uint64_t word) { return ~(((word & kLowBits) + kLowBits) | word | kLowBits); }

// 0x80 in exactly the bytes of `word` below 0x20 (JSON's control bytes).
constexpr uint64_t control_bytes(uint64_t word) {
  return ~(((word & kLowBits) + kEveryByte * (0x80 - 0x20)) | word) & kHighBits;
}

// 0x80 in the bytes a JSON string cannot hold as they are: a control byte,
// '"' or '\\'. Bytes from 0x80 up are UTF-8 and need no escape.
constexpr uint64_t json_special_bytes(uint64_t word) {
  return control_bytes(word) | zero_bytes(word ^ (kEveryByte * '"')) | zero_bytes(word ^ (kEveryByte * '\\'));
}
constexpr bool json_special(char c) { return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\'; }

// The index of the first byte flagged in `bits` (a non-zero result of the above).
inline size_t first_flagged(uint64_t bits) { return static_cast<size_t>(__builtin_ctzll(bits)) / 8; }

#if defined(__SSE2__)
// The json_special bytes of the 16 at `p`, one bit each (SSE2 is part of
// x86-64, and RapidJSON's own SSE2 scans do the same).
inline unsigned json_special_mask16(const char* p) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i control_max = _mm_set1_epi8(0x1F);
  const __m128i special =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')), _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
                   _mm_cmpeq_epi8(_mm_max_epu8(bytes, control_max), control_max));
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}
#endif

// The number of bytes from `p` (of `n`) before the first json_special one.
inline size_t json_plain_run(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    const unsigned special = json_special_mask16(p + i);
    if (special != 0) return i + static_cast<size_t>(__builtin_ctz(special));
  }
#endif
  for (; i + 8 <= n; i += 8) {
    const uint64_t special = json_special_bytes(load_word(p + i));
    if (special != 0) return i + first_flagged(special);
  }
  while (i < n && !json_special(p[i])) ++i;
  return i;
}

// Bytes that must be readable past the end of a text that
// json_plain_run_padded() scans.
constexpr size_t kScanPadding = 16;

// The same in a NUL-terminated text (NUL is a control byte): reads up to
// kScanPadding - 1 bytes past the byte it stops at, which the buffer must hold.
inline size_t json_plain_run_padded(const char* p) {
#if defined(__SSE2__)
  for (size_t i = 0;; i += 16) {
    const unsigned special = json_special_mask16(p + i);
    if (special != 0) return i + static_cast<size_t>(__builtin_ctz(special));
  }
#else
  for (size_t i = 0;; i += 8) {
    const uint64_t special = json_special_bytes(load_word(p + i));
    if (special != 0) return i + first_flagged(special);
  }
#endif
}

// The index of the first `c` in the `n` bytes at `p`, `n` when there is
// none. Inline, for the many short texts (header lines, values) where a call
// to memchr costs more than the search.
inline size_t find_byte(const char* p, size_t n, char c) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi8(c);
  for (; i + 16 <= n; i += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const unsigned found = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, wanted)));
    if (found != 0) return i + static_cast<size_t>(__builtin_ctz(found));
  }
#endif
  for (; i + 8 <= n; i += 8) {
    const uint64_t found = zero_bytes(load_word(p + i) ^ (kEveryByte * static_cast<unsigned char>(c)));
    if (found != 0) return i + first_flagged(found);
  }
  while (i < n && p[i] != c) ++i;
  return i;
}

// The number of bytes from `p` (of `n`) before the first one that is not
// ASCII or is NUL.
inline size_t ascii_run(const char* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t word = load_word(p + i);
    const uint64_t other = (word & kHighBits) | zero_bytes(word);
    if (other != 0) return i + first_flagged(other);
  }
  while (i < n && static_cast<unsigned char>(p[i]) < 0x80 && p[i] != '\0') ++i;
  return i;
}

}  // namespace cdrd::byte_scan
