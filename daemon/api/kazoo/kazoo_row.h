// Kazoo's CDR row (Kazoo 4.3's cb_cdrs.erl: ?COLUMNS, normalize_cdr/3, the
// col_* functions): what the list and /cdrs/interaction routes return for
// each record, in JSON and in CSV, unless detail=full asks for the stored
// records. Pure functions of a canonical record (ARCHITECTURE.md), so that
// they are unit-tested on their own and run on any thread.
//
// Every column is always present; a missing value is "" (Kazoo's default).
// `timestamp` is Kazoo's start of the call: the record's timestamp (the end
// of the leg, Gregorian seconds) minus duration_seconds, written as text as
// Kazoo does; datetime, unix_timestamp, rfc_1036, iso_8601 and
// iso_8601_combined are that instant, datetime shifted by the request's
// utc_offset / tz (cb_cdrs:handle_utc_time_offset/2). cost and rate come from
// cdrd's rating when the leg carries a customer rating, else from Kazoo's
// channel variables (kazoo_row.cpp says how).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/api/time_zone.h"

namespace cdrd {

struct KazooRowOptions {
  // /cdrs/interaction: the row gets Kazoo's inception_direction too.
  bool interaction = false;
  // Under /users/{user_id}/: inception_direction is read from call_direction.
  bool user_path = false;
  // The zone of `datetime` (utc_offset or tz); UTC when neither was given.
  ZoneChoice zone;
};

// The column names in order: ?COLUMNS, plus inception_direction on
// interaction rows.
std::vector<std::string_view> kazoo_row_columns(const KazooRowOptions& options);

// The row of one canonical record as a JSON object. std::invalid_argument
// when `record` is not a JSON object.
std::string kazoo_row_json(std::string_view record, const KazooRowOptions& options);
// The same, parsing *record in place (RecordView's insitu constructor): for
// a caller that owns the text and needs it no more, as an export does.
std::string kazoo_row_json(std::string* record, const KazooRowOptions& options);

// The CSV of Kazoo's rows (kz_csv:jobjs_to_file/2 and the header crossbar
// writes): every cell in double quotes with inner quotes doubled, a list cell
// (media_recordings) joined by ',', lines ending in "\n"; the header names
// the columns, "id" as "ID" (crossbar.hrl's ?CSV_HEADER_MAP).
std::string kazoo_csv_header(const KazooRowOptions& options);
// std::invalid_argument when `record` is not a JSON object.
void append_kazoo_csv_row(std::string_view record, const KazooRowOptions& options, std::string* out);
void append_kazoo_csv_row(std::string* record, const KazooRowOptions& options, std::string* out);

// A stored record with its ISO-8601 times (started_at, answered_at,
// ended_at, rang_at) in `zone` (detail=full with tz / utc_offset); the text
// unchanged (and unread) for UTC. std::invalid_argument when `record` is not
// a JSON object.
std::string localize_record(std::string_view record, const ZoneChoice& zone);

// The CSV's file name as Kazoo's api_util:csv_file_name/2 picks it: the
// X-File-Name header, else the file_name parameter, else "result.csv"; its
// base name (after the last '/'), with '"', '\' and control characters
// replaced by '_' so that it fits in Content-Disposition.
std::string kazoo_csv_file_name(const std::string& header_value, const std::string& parameter_value);

}  // namespace cdrd
