// The normalizers' options (adapters/freeswitch/normalize.h) from the
// configuration: the HTTP routes and the ESL clients build them on start and
// on SIGHUP, and `cdrd renormalize` builds the same ones.
#pragma once

#include "adapters/freeswitch/normalize.h"
#include "daemon/config/config.h"

namespace cdrd {

// node_name, accounts.*, numbers.*, trunks.*, recording.* as NormalizeOptions
// (app_version: this cdrd's). The loader has checked every value; a CIDR that
// does not parse all the same (a Config made by hand) is left out.
NormalizeOptions normalize_options_from(const Config& config);

}  // namespace cdrd
