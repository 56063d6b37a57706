// How parse_import_body() cuts a body into rows: line numbers, lines, the
// elements of a JSON array with their byte spans, the CSV header test.
// Internal to adapters/canonical.
#pragma once

#include <rapidjson/error/error.h>

#include <cstddef>
#include <string_view>
#include <vector>

namespace cdrd {

// Byte offset <-> 1-based line number of one text.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  size_t line_of(size_t offset) const;  // the line holding byte `offset`
  size_t start_of(size_t line) const;   // the offset of the line's first byte
  size_t count() const { return starts_.size(); }

 private:
  std::vector<size_t> starts_;
};

struct LineSpan {
  size_t line = 0;
  std::string_view text;  // without its LF (a CR before it stays)
};
std::vector<LineSpan> split_lines(std::string_view text);

// One top-level element of a JSON array: [begin, end) in the body.
struct ElementSpan {
  size_t begin = 0;
  size_t end = 0;
  bool is_object = false;
};

// The elements of `body`, a JSON array, in order. On a syntax error returns
// its code with *error_offset; `elements` then holds those before it.
rapidjson::ParseErrorCode split_json_array(std::string_view body, std::vector<ElementSpan>* elements,
                                           size_t* error_offset);

// True when the first row of `body` is a CSV header of the export's format:
// every field names a column of cdr_csv_columns().
bool is_csv_header(std::string_view body);

}  // namespace cdrd
