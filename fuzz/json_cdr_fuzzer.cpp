// mod_json_cdr POST bodies: transport decoding (raw JSON, cdr=<url-encoded>,
// cdr=<base64>) then normalize_json_cdr. The first byte picks whether the
// request had a ?uuid= (a_ prefix: the A-leg) or not.
#include <string>
#include <string_view>

#include "adapters/freeswitch/normalize.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const cdrd::NormalizeOptions options = cdrd::fuzz::fuzz_options();
  const std::string_view uuid_param = (data[0] & 1) ? "a_0b4f8c1e-fuzz" : "";
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::string json;
  cdrd::NormalizeError error;
  if (!cdrd::decode_json_cdr_body(body, &json, &error)) {
    cdrd::fuzz::check(!error.code.empty() && !error.message.empty(), "a refused body says why");
    return 0;
  }
  cdrd::fuzz::check_record(cdrd::normalize_json_cdr(json, options, uuid_param), "json");
  return 0;
}
