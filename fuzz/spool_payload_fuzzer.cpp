// The spool's record codec (decode_spool_payload): what a restart reads back
// from disk. Invariant: a payload that decodes re-encodes to the same bytes,
// and any record encodes to a payload that decodes to it.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "daemon/core/cdr_record.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  cdrd::CdrRecord record;
  std::string error;
  if (cdrd::decode_spool_payload(payload, &record, &error)) {
    cdrd::fuzz::check(cdrd::encode_spool_payload(record) == payload, "decode -> encode gives the payload back");
  } else {
    cdrd::fuzz::check(!error.empty(), "a refused payload says why");
  }
  FuzzedDataProvider provider(data, size);
  cdrd::CdrRecord made;
  made.json = provider.ConsumeRandomLengthString(size);
  made.raw = provider.ConsumeRandomLengthString(size);
  made.raw_format = provider.ConsumeRemainingBytesAsString();
  cdrd::CdrRecord back;
  cdrd::fuzz::check(cdrd::decode_spool_payload(cdrd::encode_spool_payload(made), &back, &error) &&
                        back.json == made.json && back.raw == made.raw && back.raw_format == made.raw_format,
                    "encode -> decode round trip");
  return 0;
}
