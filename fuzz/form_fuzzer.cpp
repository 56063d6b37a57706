// Form, base64 and percent decoding (form_body.h, percent_decode.h), with
// round trips: percent-encoding then decoding, and base64-encoding (OpenSSL,
// what mod_json_cdr's encode=base64 produces) then decoding, give back the
// bytes; the in-place and copying decoders agree.
#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "adapters/freeswitch/form_body.h"
#include "adapters/freeswitch/percent_decode.h"
#include "fuzz/fuzz_check.h"

namespace {

using cdrd::fuzz::check;

std::string percent_encode_all(std::string_view bytes) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out.append({'%', kHex[u >> 4], kHex[u & 15]});
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

void check_percent(const std::string& text) {
  for (cdrd::PlusMeans plus : {cdrd::PlusMeans::kPlus, cdrd::PlusMeans::kSpace}) {
    std::string in_place = text;
    const size_t n = cdrd::percent_decode_in_place(in_place.data(), in_place.size(), plus);
    check(n <= text.size(), "percent-decoding never grows");
    in_place.resize(n);
    check(in_place == cdrd::percent_decode(text, plus), "in-place and copying decoding differ");
  }
  // A form's '+' is a space; a variable's stays a plus. '+' is never part of %XX.
  std::string spaced = text;
  for (char& c : spaced) {
    if (c == '+') c = ' ';
  }
  check(cdrd::percent_decode(text, cdrd::PlusMeans::kSpace) == cdrd::percent_decode(spaced, cdrd::PlusMeans::kPlus),
        "kSpace is kPlus with '+' read as ' '");
  const std::string encoded = percent_encode_all(text);
  check(cdrd::percent_decode(encoded, cdrd::PlusMeans::kPlus) == text, "percent round trip (kPlus)");
  check(cdrd::percent_decode(encoded, cdrd::PlusMeans::kSpace) == text, "percent round trip (kSpace)");
}

void check_base64(const std::string& bytes, const std::string& text) {
  std::string decoded;
  if (!bytes.empty()) {
    check(cdrd::base64_decode(base64_encode(bytes), &decoded), "base64 of any bytes decodes");
    check(decoded == bytes, "base64 round trip");
  }
  // Any text: when it decodes, its decoding encodes and decodes back to itself.
  if (cdrd::base64_decode(text, &decoded)) {
    check(decoded.size() <= text.size(), "base64 decoding never grows");
    std::string again;
    if (!decoded.empty()) {
      check(cdrd::base64_decode(base64_encode(decoded), &again) && again == decoded, "base64 re-encoding round trip");
    }
  }
}

void check_form(const std::string& form, const std::string& name) {
  std::string_view value;
  if (!cdrd::find_form_field(form, name, &value)) return;
  check(value.data() >= form.data() && value.data() + value.size() <= form.data() + form.size(),
        "the field's value lies inside the form");
  check(value.find('&') == std::string_view::npos, "a field's value never holds '&'");
  const size_t at = static_cast<size_t>(value.data() - form.data());
  check(at > name.size() && form.compare(at - name.size() - 1, name.size() + 1, name + "=") == 0,
        "the value follows name=");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  // The last byte picks the field looked for; the rest is the text, so seeds are plain bodies.
  static const char* const kNames[] = {"cdr", "uuid", "a", "cdr%5F"};
  const std::string name = kNames[provider.ConsumeIntegralInRange<size_t>(0, 3)];
  const std::string text = provider.ConsumeRemainingBytesAsString();
  check_percent(text);
  check_base64(text, text);
  check_form(text, name);
  return 0;
}
