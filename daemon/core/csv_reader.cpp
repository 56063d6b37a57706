#include "daemon/core/csv_reader.h"

namespace cdrd {

bool CsvReader::next(CsvRow* row, std::string* error) {
  error->clear();
  // Excel writes a UTF-8 byte order mark before the header.
  if (pos_ == 0 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  // Blank lines carry no record (a trailing line break, an editor's last line).
  while (pos_ < text_.size() && (text_[pos_] == '\n' || text_.substr(pos_, 2) == "\r\n")) {
    pos_ += text_[pos_] == '\n' ? 1 : 2;
    ++line_;
  }
  if (pos_ >= text_.size()) return false;
  row->line = line_;
  row->fields.clear();
  std::string field;
  for (;;) {
    field.clear();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) {
          *error = "line " + std::to_string(row->line) + ": a quoted field is not closed";
          pos_ = text_.size();
          return false;
        }
        const char c = text_[pos_++];
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field.push_back('"');
            ++pos_;
            continue;
          }
          break;
        }
        if (c == '\n') ++line_;
        field.push_back(c);
      }
      const bool at_end =
          pos_ >= text_.size() || text_[pos_] == ',' || text_[pos_] == '\n' || text_.substr(pos_, 2) == "\r\n";
      if (!at_end) {
        *error = "line " + std::to_string(line_) + ": a character follows the closing quote of field " +
                 std::to_string(row->fields.size() + 1);
        pos_ = text_.size();
        return false;
      }
    } else {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_.substr(pos_, 2) != "\r\n") {
        if (text_[pos_] == '"') {
          *error = "line " + std::to_string(line_) + ": a quote inside unquoted field " +
                   std::to_string(row->fields.size() + 1) + " (quote the field and double the quote)";
          pos_ = text_.size();
          return false;
        }
        field.push_back(text_[pos_++]);
      }
    }
    row->fields.push_back(field);
    if (pos_ >= text_.size()) return true;
    if (text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    pos_ += text_[pos_] == '\n' ? 1 : 2;
    ++line_;
    return true;
  }
}

}  // namespace cdrd
