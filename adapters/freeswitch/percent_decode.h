// Percent-decoding (RFC 3986 %XX) as FreeSWITCH uses it: in encoded
// variable values and in the `cdr=` form field of mod_json_cdr.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cdrd {

enum class PlusMeans {
  kPlus,   // channel variable values: FreeSWITCH escapes a space as %20, so '+' is a literal plus
  kSpace,  // application/x-www-form-urlencoded fields (HTML forms)
};

// Decodes valid %XX sequences of data[0, size) in place and returns the new
// size (never larger). Anything that is not a valid %XX sequence is kept as it is.
size_t percent_decode_in_place(char* data, size_t size, PlusMeans plus);

// Writes `text` with its valid %XX sequences decoded ('+' stays a '+', as
// PlusMeans::kPlus) to `out`, which must not overlap `text` and must have
// room for text.size() bytes; returns the decoded size. Copies the runs
// between escapes a block at a time: an ESL event is some 15 KB of
// percent-encoded values.
size_t percent_decode_to(std::string_view text, char* out);

// Copying form of percent_decode_in_place.
std::string percent_decode(std::string_view text, PlusMeans plus);

}  // namespace cdrd
