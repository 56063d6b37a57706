// Transport decoding of mod_json_cdr and mod_xml_cdr POST bodies
// (decode_json_cdr_body, decode_xml_cdr_body in normalize.h) and the form
// helpers they are made of.
#pragma once

#include <string>
#include <string_view>

namespace cdrd {

// Finds field `name` in an application/x-www-form-urlencoded body. On success
// *value is the field's raw value, still percent-encoded.
bool find_form_field(std::string_view form, std::string_view name, std::string_view* value);

// Standard-alphabet base64 -> bytes (OpenSSL EVP_DecodeBlock). Line breaks
// are ignored and missing '=' padding is tolerated. False when `text` is not base64.
bool base64_decode(std::string_view text, std::string* out);

}  // namespace cdrd
