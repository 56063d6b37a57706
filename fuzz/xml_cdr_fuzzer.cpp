// mod_xml_cdr POST bodies: transport decoding (raw XML or cdr=<url-encoded>)
// then normalize_xml_cdr (pugixml). The first byte picks a ?uuid= or none.
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

  std::string xml;
  cdrd::NormalizeError error;
  if (!cdrd::decode_xml_cdr_body(body, &xml, &error)) {
    cdrd::fuzz::check(!error.code.empty() && !error.message.empty(), "a refused body says why");
    return 0;
  }
  const cdrd::NormalizeResult result = cdrd::normalize_xml_cdr(xml, options, uuid_param);
  cdrd::fuzz::check_record(result, "xml");
  if (result.ok()) cdrd::fuzz::check(result.record.raw == xml, "the record's raw is the decoded XML");
  return 0;
}
