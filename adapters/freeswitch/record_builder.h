// ChannelData -> the canonical record (spec/cdr-fields.md, ARCHITECTURE.md
// "Canonical record"). Shared by every FreeSWITCH source.
#pragma once

#include <string>
#include <string_view>

#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/normalize.h"

namespace cdrd {

struct RecordSource {
  std::string_view name;           // the record's `source`: "json_cdr", "xml_cdr", "esl"
  std::string_view variable_path;  // how error messages name a variable: "variables." -> "variables.uuid"
};

// Writes the canonical record of one leg into *json. `uuid_param` is the
// ?uuid= of a mod_json_cdr / mod_xml_cdr request (an "a_" prefix marks the
// A-leg), empty for other sources. Returns false with *error set when a
// required field (uuid, start_uepoch, end_uepoch, an account) is missing or invalid.
bool build_canonical_record(const ChannelData& data, const NormalizeOptions& options, const RecordSource& source,
                            std::string_view uuid_param, std::string* json, NormalizeError* error);

// The whole result of one adapter: the record of `data` (or the refusal),
// with `raw` kept as the original document in `raw_format`.
NormalizeResult normalized_record(const ChannelData& data, const NormalizeOptions& options, const RecordSource& source,
                                  std::string_view uuid_param, std::string_view raw, std::string_view raw_format);

}  // namespace cdrd
