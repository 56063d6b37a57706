// The unit of work that crosses every layer: adapters produce it, the spool
// stores it, the BatchWriter turns it into a row.
#pragma once

#include <string>
#include <string_view>

namespace cdrd {

// One normalized call leg.
struct CdrRecord {
  // The canonical record: one JSON object holding every field of
  // spec/cdr-fields.md that has a value (see ARCHITECTURE.md, "Canonical
  // record"). Stored in cdrs.record (jsonb) and returned by the API.
  std::string json;
  // The original document after transport decoding (the JSON CDR, the XML
  // CDR, the ESL event body), kept so nothing the media server sent is lost.
  std::string raw;
  // "json", "xml", "esl" or "" when `raw` is empty.
  std::string raw_format;
};

// Spool payload codec. Layout: "CDR1" | u32 len | json | u32 len | raw |
// u32 len | raw_format, lengths little-endian. Versioned by the magic so a
// future layout can still read old spools.
std::string encode_spool_payload(const CdrRecord& record);
// Returns false (and says why in *error) for a payload that is not a record.
bool decode_spool_payload(std::string_view payload, CdrRecord* out, std::string* error);

}  // namespace cdrd
