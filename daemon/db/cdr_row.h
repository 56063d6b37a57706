// The typed columns of one `cdrs` row, taken from a canonical record
// (ARCHITECTURE.md, "Table cdrs"). Pure: no database involved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/cdr_record.h"

namespace cdrd {

struct CdrRow {
  std::string id;
  std::string ts;            // timestamptz literal of the leg's end, e.g. "2018-01-11 10:26:01+00"
  int64_t ts_us = 0;         // the same instant in Unix microseconds (binary COPY sends this)
  int64_t gregorian_ts = 0;  // the record's `timestamp`
  std::string account_id;
  std::string call_id;
  std::optional<std::string> started_at;   // from channel_created_time (µs), else the record's started_at
  std::optional<std::string> answered_at;  // the record's answered_at, verbatim
  // The two columns in Unix microseconds, as binary COPY sends them.
  std::optional<int64_t> started_at_us, answered_at_us;
  // PostgreSQL integers: extract_columns() refuses a value outside int32,
  // naming the field (the record is then quarantined with that error).
  int64_t duration_seconds = 0;
  int64_t billing_seconds = 0;
  int64_t ringing_seconds = 0;
  std::optional<std::string> call_direction, hangup_cause, hangup_code, billing_status, caller_id_number,
      callee_id_number, from_uri, to_uri, other_leg_call_id, interaction_id, media_server, leg;
  // Issue 12's billing columns (migration 006).
  std::optional<std::string> sip_call_id, trunk, caller_e164, callee_e164, destination_country;
  // The interaction the leg names itself (the record's interaction_id as
  // normalized); `interaction_id` becomes the call's once assembled.
  std::optional<std::string> leg_interaction_id;
  // Set by call assembly and rating (daemon/db/call_store.h), not read from the record.
  std::optional<std::string> direction_class, customer_charge, customer_currency, vendor_charge, vendor_currency;
  bool call_root = false;  // the leg that stands for its call (migration 009)
  // Set by call assembly: a version of this leg is stored already (so the
  // row takes the upsert, never the direct COPY; batch_sql.h insert_rows()).
  bool stored_version = false;
  std::string source;
  bool imported = false;
  bool is_loopback = false;  // an internal half of a loopback/ pair; billing queries skip it
  std::string record;        // the canonical JSON, verbatim (call assembly appends the call-level fields)
  // Call assembly's fields (",\"interaction_id\":...") spliced in before the
  // record's closing brace at COPY: jsonb keeps the last of a repeated key.
  std::string record_patch;
  // Inputs of call assembly and rating that are not columns.
  std::vector<std::string>
      related_call_ids;          // the record's related_call_ids, other_leg_call_id, other_loopback_leg_uuid
  int64_t started_us = 0;        // channel_created_time
  int64_t answered_us = 0;       // answered_at; 0 = never answered (or not a parseable time)
  int64_t ended_us = 0;          // ended_at; 0 when absent
  std::string destination_type;  // destination.type
  std::string destination_name;  // destination.name as normalized (the country's name)
  std::vector<std::pair<std::string, std::string>> kazoo_rate_vars;  // custom_channel_vars rate, rate_increment, ...
  std::optional<std::string> raw;
  std::optional<std::string> raw_format;
};

// Fills *row from record.json (parsed with RapidJSON). False with *error
// when the JSON is not an object, a required field (id, timestamp,
// account_id, call_id, source) is missing, or a field has the wrong JSON type
// (e.g. duration_seconds 1e20, which is not an integer).
bool extract_columns(const CdrRecord& record, CdrRow* row, std::string* error);
// The same, moving the record's strings (the JSON and the raw document, most
// of a row's bytes) into the row instead of copying them; on failure
// `record` is left as it was.
bool take_columns(CdrRecord* record, CdrRow* row, std::string* error);

// "YYYY-MM-DD HH:MM:SS[.ffffff]+00" for Unix microseconds; false outside years 1..9999.
bool format_utc_micros(int64_t unix_micros, std::string* out);

}  // namespace cdrd
