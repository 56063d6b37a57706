// RFC 4180 CSV split into records, shared by the canonical import
// (adapters/canonical/cdr_csv.h) and the rate decks (daemon/rating/deck_csv.h).
// A UTF-8 byte order mark before the first record and blank lines between
// records are skipped. Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cdrd {

// One record of CSV text: its fields, unquoted, and the line it starts on (1-based).
struct CsvRow {
  size_t line = 0;
  std::vector<std::string> fields;
};

// Splits RFC 4180 text into rows (quoted fields may hold commas, quotes, CR and
// LF; CRLF or LF ends a row).
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}
  // False at the end of the text, or with *error (naming the line) when the
  // text is malformed, e.g. an unterminated quote.
  bool next(CsvRow* row, std::string* error);

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

}  // namespace cdrd
