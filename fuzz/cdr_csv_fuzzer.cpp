// The CSV reader and writer (cdr_csv.h). Invariants: rows read from any text
// and written back with RFC 4180 quoting read back to the same fields; a
// header row names columns or is refused; any JSON object is exported as
// exactly one row of one field per column.
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "adapters/canonical/cdr_csv.h"
#include "fuzz/fuzz_check.h"

namespace {

using cdrd::fuzz::check;

std::string quote_field(const std::string& field) {
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// Reads every row; false when the reader refuses the text.
bool read_all(std::string_view text, std::vector<cdrd::CsvRow>* rows) {
  cdrd::CsvReader reader(text);
  cdrd::CsvRow row;
  std::string error;
  while (reader.next(&row, &error)) rows->push_back(row);
  return error.empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<cdrd::CsvRow> rows;
  if (read_all(text, &rows)) {
    std::string written;
    for (const cdrd::CsvRow& row : rows) {
      check(!row.fields.empty(), "a row has at least one field");
      for (size_t i = 0; i < row.fields.size(); ++i) {
        if (i > 0) written.push_back(',');
        written += quote_field(row.fields[i]);
      }
      written += "\r\n";
    }
    std::vector<cdrd::CsvRow> again;
    check(read_all(written, &again), "quoted rows read back");
    check(again.size() == rows.size(), "quoted rows read back as as many rows");
    for (size_t i = 0; i < rows.size(); ++i) check(again[i].fields == rows[i].fields, "CSV write -> read round trip");
    if (rows.size() >= 2) {
      std::string json;
      std::string error;
      if (cdrd::cdr_csv_row_to_json(rows[0].fields, rows[1].fields, &json, &error)) {
        // Syntax only: the row's UTF-8 is import_record()'s to check (canonical_import_fuzzer).
        rapidjson::Document doc;
        doc.Parse(json.data(), json.size());
        check(!doc.HasParseError() && doc.IsObject(), "a CSV row becomes a JSON object");
      } else {
        check(!error.empty(), "a refused CSV row says why");
      }
    }
  }
  // The same bytes as a record's JSON: exported as one row of every column.
  std::string line;
  if (cdrd::append_cdr_csv_row(text, &line)) {
    std::vector<cdrd::CsvRow> exported;
    check(read_all(line, &exported) && exported.size() == 1, "an exported record is one CSV row");
    check(exported[0].fields.size() == cdrd::cdr_csv_columns().size(), "an exported row has every column");
  }
  return 0;
}
