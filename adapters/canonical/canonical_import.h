// The body of POST /ingest/cdr -> canonical records ready for the spool.
// Pure functions: bytes in, records and per-row errors out. No I/O.
//
// A body holds CDRs already in the canonical schema (ARCHITECTURE.md,
// "Canonical record") as one JSON object, a JSON array of objects, NDJSON
// (one object per line, blank lines skipped) or CSV in the export's format
// (adapters/canonical/cdr_csv.h). The format is found from the body itself;
// Content-Type text/csv only says "CSV" up front. Every row is validated on
// its own, so one bad row never costs the good ones.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/numbers/phone_numbers.h"
#include "daemon/core/cdr_record.h"

namespace cdrd {

enum class ImportFormat { kNone, kJsonObject, kJsonArray, kNdjson, kCsv };

// "json", "array", "ndjson", "csv" (for logs and replies); "" for kNone.
const char* import_format_name(ImportFormat format);

struct ImportOptions {
  // ?account_id= of the request. When set it is the account of every row, at
  // the top level and in custom_channel_vars, whatever the row says: an
  // export of account A imports as account B.
  std::string account_id;
  // How caller_e164, callee_e164 and destination are derived for a row that
  // lacks them (the same rules as the normalizers': numbers.*).
  NumberRules numbers;
};

// One row that passed validation: `record.json` is the canonical record with
// "imported": true, "source": "import", its account and its id; `record.raw`
// is the row's own text, `record.raw_format` "json" or "csv".
struct ImportedRow {
  size_t line = 0;  // 1-based line of the body where the row starts
  CdrRecord record;
};

// One row that did not: where it starts, why, and its text as sent.
struct RejectedRow {
  size_t line = 0;
  std::string code;     // "invalid_json", "invalid_csv", "missing_field", "invalid_value"
  std::string message;  // names the field, e.g. "timestamp: expected an integer"
  std::string text;
};

struct ImportBatch {
  ImportFormat format = ImportFormat::kNone;
  std::vector<ImportedRow> rows;
  std::vector<RejectedRow> rejected;  // in line order
  // Set when the body as a whole is unusable, before any row: "empty_body"
  // (400), "unsupported_format" (415: none of the formats).
  std::string error_code;
  std::string error_message;
  // For CSV with a valid header: the header line as sent, so the rejected
  // rows can be kept as a CSV body of their own.
  std::string csv_header;
};

// Splits and validates a whole body. `content_type` is the request's header
// ("" when absent). Row validation (each row on its own):
// - call_id: required, a non-empty string;
// - timestamp: required, integer Gregorian seconds from 1970 to 9999
//   (62167219200 is 1970-01-01T00:00:00Z);
// - the account: options.account_id, else the top-level account_id, else
//   custom_channel_vars.account_id; it is written to both places;
// - id: optional, "YYYYMM-<call id>"-shaped (6 digits, a dash, the rest) and
//   not of a month after `timestamp`'s (the leg starts before it ends); when
//   absent, derived like the normalizer's: the UTC month of
//   channel_created_time (µs), else of started_at, else of timestamp, "-",
//   call_id;
// - the known fields must have their JSON type (integers for timestamp,
//   channel_created_time, *_seconds; strings; objects of strings for
//   custom_channel_vars, custom_sip_headers, custom_application_vars,
//   destination; booleans for imported, is_loopback; started_at, rang_at,
//   answered_at, ended_at as ISO-8601 UTC "YYYY-MM-DDTHH:MM:SS[.ffffff]Z";
//   hangup_cause_q850 an integer, sip_network_port one from 1 to 65535;
//   related_call_ids a list of strings, transfer a list of objects of
//   strings); a null or "" known field counts as absent and is dropped (the
//   canonical record has neither);
// - the keys of custom_channel_vars, custom_sip_headers and
//   custom_application_vars take Kazoo's spelling (lower case, '-' as '_':
//   Owner-ID -> owner_id); of two keys that become one, the first stays;
// - caller_e164, callee_e164 and destination, when the row lacks them, are
//   derived from caller_id_number / callee_id_number in the region of the
//   row's account (options.numbers), as the normalizers do;
// - no string may hold U+0000 (PostgreSQL's jsonb cannot store it);
// - unknown extra fields are kept as they are.
ImportBatch parse_import_body(std::string_view body, std::string_view content_type, const ImportOptions& options);

// Validates and completes one record (JSON object text) as above, with `raw`
// and `raw_format` as given. False with *code and *message when it is refused.
bool import_record(std::string_view json, std::string_view raw, std::string_view raw_format,
                   const ImportOptions& options, CdrRecord* out, std::string* code, std::string* message);

}  // namespace cdrd
