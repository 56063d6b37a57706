// CDRD_* environment overrides, applied over the file's values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace cdrd::config_internal {

// Where each top-level key got its value: "cdrd.yaml:12" or
// "environment CDRD_BATCH_MAX_ROWS". Messages about rules between keys use it.
using ValueOrigins = std::map<std::string, std::string>;

// Applies every CDRD_* entry of `environment` ("NAME=value") to `config`.
// A CDRD_* name that matches no scalar key (and is not CDRD_API_KEY) is an
// error, so a typo cannot silently leave a default in place.
bool apply_environment(const std::vector<std::string>& environment, Config* config, ValueOrigins* origins,
                       std::string* error);

}  // namespace cdrd::config_internal
