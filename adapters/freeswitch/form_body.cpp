#include "adapters/freeswitch/form_body.h"

#include <openssl/evp.h>

#include <cctype>
#include <limits>

#include "adapters/freeswitch/normalize.h"
#include "adapters/freeswitch/percent_decode.h"

namespace cdrd {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The first byte that is not white space, or '\0'.
char first_significant(std::string_view text) {
  for (char c : text) {
    if (!is_space(c)) return c;
  }
  return '\0';
}

bool starts_like_json(std::string_view text) {
  const char c = first_significant(text);
  return c == '{' || c == '[';
}

// A form starts with a field name (unreserved characters or %XX) and '='.
bool looks_like_form(std::string_view body) {
  const size_t eq = body.find('=');
  if (eq == 0 || eq == std::string_view::npos) return false;
  for (size_t i = 0; i < eq; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.' && c != '%' && c != '+' && c != '~') return false;
  }
  return true;
}

// XML may open with a UTF-8 byte order mark, then white space, then '<'.
bool starts_like_xml(std::string_view text) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return first_significant(text) == '<';
}

bool fail(NormalizeError* error, const char* code, const char* message) {
  error->code = code;
  error->message = message;
  return false;
}

}  // namespace

bool find_form_field(std::string_view form, std::string_view name, std::string_view* value) {
  size_t pos = 0;
  while (pos <= form.size()) {
    size_t end = form.find('&', pos);
    if (end == std::string_view::npos) end = form.size();
    const std::string_view field = form.substr(pos, end - pos);
    if (field.size() > name.size() && field.compare(0, name.size(), name) == 0 && field[name.size()] == '=') {
      *value = field.substr(name.size() + 1);
      return true;
    }
    pos = end + 1;
  }
  return false;
}

bool base64_decode(std::string_view text, std::string* out) {
  std::string clean;
  clean.reserve(text.size() + 3);
  for (char c : text) {
    if (!is_space(c)) clean.push_back(c);
  }
  if (clean.empty() || clean.size() % 4 == 1) return false;
  while (clean.size() % 4 != 0) clean.push_back('=');
  if (clean.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  size_t padding = 0;
  if (clean[clean.size() - 1] == '=') ++padding;
  if (clean[clean.size() - 2] == '=') ++padding;
  out->resize(clean.size() / 4 * 3);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the zero bytes that the '=' padding stands for.
  out->resize(static_cast<size_t>(n) - padding);
  return true;
}

namespace {

// What one CDR format looks like, for the shared body decoding below.
struct DocumentKind {
  bool (*starts_like)(std::string_view text);
  const char* encoded_field_message;  // the cdr= field decodes to neither form
};

// A POST body is the document itself, or a form whose `cdr` field holds it
// url-encoded or base64-encoded; which one is decided from the bytes, since
// mod_json_cdr and mod_xml_cdr do not label it reliably.
bool decode_cdr_body(std::string_view body, const DocumentKind& kind, std::string* out, NormalizeError* error) {
  if (first_significant(body) == '\0') return fail(error, "empty_body", "the request body is empty");
  if (kind.starts_like(body)) {
    out->assign(body);
    return true;
  }
  std::string_view field;
  if (find_form_field(body, "cdr", &field)) {
    if (first_significant(field) == '\0') return fail(error, "empty_body", "form field cdr is empty");
    // Both modules escape with curl/switch url encoding (space -> %20,
    // '+' -> %2B), so a bare '+' in this form field is a space as in any
    // HTML form.
    std::string text = percent_decode(field, PlusMeans::kSpace);
    if (kind.starts_like(text)) {
      *out = std::move(text);
      return true;
    }
    // Base64 is sent unescaped ('+' literal) or url-encoded (%2B): decode
    // %XX but keep '+', which is a base64 digit here.
    std::string decoded;
    if (base64_decode(percent_decode(field, PlusMeans::kPlus), &decoded) && kind.starts_like(decoded)) {
      *out = std::move(decoded);
      return true;
    }
    return fail(error, "bad_encoding", kind.encoded_field_message);
  }
  if (looks_like_form(body)) return fail(error, "bad_encoding", "the body is a form without a cdr field");
  // Neither the document nor a form: hand it to the parser, whose error names the position.
  out->assign(body);
  return true;
}

}  // namespace

bool decode_json_cdr_body(std::string_view body, std::string* json, NormalizeError* error) {
  static constexpr DocumentKind kJson{starts_like_json,
                                      "form field cdr is neither url-encoded nor base64-encoded JSON"};
  return decode_cdr_body(body, kJson, json, error);
}

bool decode_xml_cdr_body(std::string_view body, std::string* xml, NormalizeError* error) {
  static constexpr DocumentKind kXml{starts_like_xml, "form field cdr is neither url-encoded nor base64-encoded XML"};
  return decode_cdr_body(body, kXml, xml, error);
}

}  // namespace cdrd
