// The CSV form of canonical records. The read API's export and the CSV input
// of POST /ingest/cdr share this one column table, so an export imports back
// into the same records.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/csv_reader.h"

namespace cdrd {

struct CsvColumn {
  enum class Type { kString, kInteger, kBoolean, kObject, kList };
  std::string_view name;  // the record's top-level field
  Type type;              // kObject, kList: the JSON text of the nested object or list
};

// Every column, in export order.
const std::vector<CsvColumn>& cdr_csv_columns();

// The header line, CRLF-terminated.
std::string cdr_csv_header();

// Appends the CSV line (RFC 4180 quoting, CRLF) of one canonical record (JSON
// object text) to *out. False, with *out unchanged, when it is not a JSON object.
bool append_cdr_csv_row(std::string_view record_json, std::string* out);

// The record JSON of one data row under `header` (the column names of the
// header line, any subset of cdr_csv_columns() in any order). An empty field
// is an absent member; values are typed by the column table. False with *error
// naming the column when a name is unknown or a value does not parse.
bool cdr_csv_row_to_json(const std::vector<std::string>& header, const std::vector<std::string>& fields,
                         std::string* record_json, std::string* error);

}  // namespace cdrd
