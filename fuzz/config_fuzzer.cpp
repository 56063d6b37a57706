// The configuration loader (load_config_text: YAML text plus CDRD_*
// environment overrides). Invariants: it accepts or refuses with a reason,
// never throws, and loading the same text twice gives the same verdict.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  std::vector<std::string> environment;
  // One CDRD_ override, e.g. CDRD_LIMITS_MAX_BODY_BYTES=..., reaches the environment parsing.
  if (provider.ConsumeBool()) environment.push_back("CDRD_" + provider.ConsumeRandomLengthString(64));
  const std::string yaml = provider.ConsumeRemainingBytesAsString();

  cdrd::Config config;
  std::string error;
  const bool ok = cdrd::load_config_text(yaml, "fuzz.yaml", environment, &config, &error);
  if (!ok) cdrd::fuzz::check(!error.empty(), "a refused configuration says why");
  cdrd::Config again;
  std::string error_again;
  cdrd::fuzz::check(
      cdrd::load_config_text(yaml, "fuzz.yaml", environment, &again, &error_again) == ok && error_again == error,
      "loading is deterministic");
  return 0;
}
