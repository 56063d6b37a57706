// parse_import_body(): finds the format of a POST /ingest/cdr body, splits it
// into rows with the line each starts on, and validates every row on its own
// (import_record.cpp).
#include "adapters/canonical/canonical_import.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>

#include "adapters/canonical/cdr_csv.h"
#include "adapters/canonical/import_split.h"

namespace cdrd {
namespace {

constexpr auto kJsonFlags = rapidjson::kParseValidateEncodingFlag;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Validates one row and files it under rows or rejected.
void add_row(ImportBatch* batch, size_t line, std::string_view json, std::string_view raw, const char* raw_format,
             const ImportOptions& options) {
  ImportedRow row;
  row.line = line;
  RejectedRow bad;
  if (import_record(json, raw, raw_format, options, &row.record, &bad.code, &bad.message)) {
    batch->rows.push_back(std::move(row));
    return;
  }
  bad.line = line;
  bad.text = std::string(raw);
  batch->rejected.push_back(std::move(bad));
}

void reject(ImportBatch* batch, size_t line, const char* code, std::string message, std::string_view text) {
  batch->rejected.push_back(RejectedRow{line, code, std::move(message), std::string(text)});
}

std::string json_error_at(const LineIndex& lines, rapidjson::ParseErrorCode code, size_t offset) {
  const size_t line = lines.line_of(offset);
  return std::string("not valid JSON at line ") + std::to_string(line) + ", column " +
         std::to_string(offset - lines.start_of(line) + 1) + ": " + rapidjson::GetParseError_En(code);
}

// The whole body is one JSON document: an object, or not valid JSON.
bool parse_single_object(std::string_view body, const LineIndex& lines, const ImportOptions& options,
                         ImportBatch* batch) {
  rapidjson::Document doc;
  doc.Parse<kJsonFlags>(body.data(), body.size());
  if (doc.HasParseError()) return false;
  const std::string_view text = trim(body);
  add_row(batch, lines.line_of(static_cast<size_t>(text.data() - body.data())), text, text, "json", options);
  return true;
}

// A non-blank line that is a JSON object by itself: the mark of NDJSON
// (a pretty-printed object has no such line at its top level).
bool has_object_line(std::string_view body) {
  for (const LineSpan& l : split_lines(body)) {
    const std::string_view text = trim(l.text);
    if (text.empty() || text.front() != '{') continue;
    rapidjson::Document doc;
    doc.Parse<kJsonFlags>(text.data(), text.size());
    if (!doc.HasParseError() && doc.IsObject()) return true;
  }
  return false;
}

void parse_ndjson(std::string_view body, const ImportOptions& options, ImportBatch* batch) {
  for (const LineSpan& l : split_lines(body)) {
    const std::string_view text = trim(l.text);
    if (text.empty()) continue;
    add_row(batch, l.line, text, text, "json", options);
  }
}

void parse_array(std::string_view body, const LineIndex& lines, const ImportOptions& options, ImportBatch* batch) {
  std::vector<ElementSpan> elements;
  size_t error_offset = 0;
  const rapidjson::ParseErrorCode error = split_json_array(body, &elements, &error_offset);
  if (error != rapidjson::kParseErrorNone) {
    // The structure is broken: no element after the error can be delimited,
    // and the document the sender meant is not valid JSON; none is stored.
    const std::string_view text = trim(body);
    reject(batch, lines.line_of(error_offset), "invalid_json", json_error_at(lines, error, error_offset), text);
    return;
  }
  for (const ElementSpan& e : elements) {
    const std::string_view text = body.substr(e.begin, e.end - e.begin);
    const size_t line = lines.line_of(e.begin);
    if (!e.is_object) {
      reject(batch, line, "invalid_json", "array element is not a JSON object", text);
      continue;
    }
    add_row(batch, line, text, text, "json", options);
  }
}

std::string_view trim_line_breaks(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// CSV in the export's format: a header row, then one record per row (a quoted
// field may span lines). A row's text runs from its first line to the next
// row's. A malformed row (an unclosed quote) ends the readable part: it and
// the rest of the body are one rejected row.
void parse_csv(std::string_view body, const LineIndex& lines, const ImportOptions& options, ImportBatch* batch) {
  CsvReader reader(body);
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string broken;
  while (reader.next(&row, &broken)) rows.push_back(row);
  const size_t broken_line = row.line;  // where the malformed row starts
  const size_t stop = broken.empty() ? body.size() : lines.start_of(broken_line);
  const auto text_of = [&](size_t i) {
    const size_t begin = lines.start_of(rows[i].line);
    const size_t end = i + 1 < rows.size() ? lines.start_of(rows[i + 1].line) : stop;
    return trim_line_breaks(body.substr(begin, end - begin));
  };
  if (!rows.empty()) {
    std::string record;
    std::string error;
    // The header alone (every field empty) only checks the column names.
    if (!cdr_csv_row_to_json(rows[0].fields, std::vector<std::string>(rows[0].fields.size()), &record, &error)) {
      reject(batch, rows[0].line, "invalid_csv", "header: " + error, text_of(0));
      return;
    }
    batch->csv_header = std::string(text_of(0));
    for (size_t i = 1; i < rows.size(); ++i) {
      const std::string_view text = text_of(i);
      if (!cdr_csv_row_to_json(rows[0].fields, rows[i].fields, &record, &error)) {
        const bool shape = rows[i].fields.size() != rows[0].fields.size();
        reject(batch, rows[i].line, shape ? "invalid_csv" : "invalid_value", error, text);
        continue;
      }
      add_row(batch, rows[i].line, record, text, "csv", options);
    }
  }
  if (!broken.empty()) {
    reject(batch, broken_line, "invalid_csv", "not valid CSV: " + broken, trim(body.substr(stop)));
  }
}

}  // namespace

const char* import_format_name(ImportFormat format) {
  switch (format) {
    case ImportFormat::kJsonObject:
      return "json";
    case ImportFormat::kJsonArray:
      return "array";
    case ImportFormat::kNdjson:
      return "ndjson";
    case ImportFormat::kCsv:
      return "csv";
    case ImportFormat::kNone:
      break;
  }
  return "";
}

ImportBatch parse_import_body(std::string_view body, std::string_view content_type, const ImportOptions& options) {
  ImportBatch batch;
  // A UTF-8 byte order mark (spreadsheet exports add one) is not content.
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  const std::string_view content = trim(body);
  if (content.empty()) {
    batch.error_code = "empty_body";
    batch.error_message = "the body is empty: send canonical CDRs as JSON, a JSON array, NDJSON or CSV";
    return batch;
  }
  const LineIndex lines(body);
  const bool csv_declared = starts_with_ci(trim(content_type), "text/csv");
  if (csv_declared || (content.front() != '{' && content.front() != '[' && is_csv_header(body))) {
    batch.format = ImportFormat::kCsv;
    parse_csv(body, lines, options, &batch);
  } else if (content.front() == '[') {
    batch.format = ImportFormat::kJsonArray;
    parse_array(body, lines, options, &batch);
  } else if (content.front() == '{') {
    if (parse_single_object(body, lines, options, &batch)) {
      batch.format = ImportFormat::kJsonObject;
    } else if (has_object_line(body)) {
      batch.format = ImportFormat::kNdjson;
      parse_ndjson(body, options, &batch);
    } else {
      batch.format = ImportFormat::kJsonObject;
      rapidjson::Document doc;
      doc.Parse<kJsonFlags>(body.data(), body.size());
      reject(&batch, lines.line_of(static_cast<size_t>(content.data() - body.data())), "invalid_json",
             json_error_at(lines, doc.GetParseError(), doc.GetErrorOffset()), content);
    }
  } else {
    batch.error_code = "unsupported_format";
    batch.error_message =
        "the body is none of the import formats: a JSON object, a JSON array, NDJSON, or CSV with the export's "
        "header (Content-Type: text/csv)";
    return batch;
  }
  std::stable_sort(batch.rejected.begin(), batch.rejected.end(),
                   [](const RejectedRow& a, const RejectedRow& b) { return a.line < b.line; });
  return batch;
}

}  // namespace cdrd
