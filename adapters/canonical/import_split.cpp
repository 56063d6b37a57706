#include "adapters/canonical/import_split.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <string>

#include "adapters/canonical/cdr_csv.h"

namespace cdrd {
namespace {

// SAX handler that notes where each element of the top-level array begins
// and ends. RapidJSON calls StartObject/StartArray right after taking the
// opening bracket and EndObject/EndArray, and the scalar events, right after
// taking the value's last byte, so the stream position gives both ends.
class ElementSpans : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ElementSpans> {
 public:
  ElementSpans(std::string_view body, const rapidjson::MemoryStream& stream, std::vector<ElementSpan>* out)
      : body_(body), stream_(stream), out_(out) {}

  bool Default() {  // a scalar; keys never reach depth 1
    if (depth_ == 1) {
      size_t begin = after_previous_;
      while (begin < body_.size() && (body_[begin] == ',' || body_[begin] == ' ' || body_[begin] == '\t' ||
                                      body_[begin] == '\r' || body_[begin] == '\n')) {
        ++begin;
      }
      push(begin, false);
    }
    return true;
  }
  bool StartObject() { return open(true); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(false); }
  bool EndArray(rapidjson::SizeType) { return close(); }

 private:
  bool open(bool object) {
    if (depth_ == 1) {
      begin_ = stream_.Tell() - 1;
      is_object_ = object;
    }
    if (++depth_ == 1) after_previous_ = stream_.Tell();
    return true;
  }
  bool close() {
    if (--depth_ == 1) push(begin_, is_object_);
    return true;
  }
  void push(size_t begin, bool object) {
    after_previous_ = stream_.Tell();
    out_->push_back(ElementSpan{begin, after_previous_, object});
  }

  std::string_view body_;
  const rapidjson::MemoryStream& stream_;
  std::vector<ElementSpan>* out_;
  int depth_ = 0;
  size_t begin_ = 0;
  bool is_object_ = false;
  size_t after_previous_ = 0;
};

}  // namespace

LineIndex::LineIndex(std::string_view text) {
  starts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts_.push_back(i + 1);
  }
}

size_t LineIndex::line_of(size_t offset) const {
  return static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin());
}

size_t LineIndex::start_of(size_t line) const { return starts_[std::min(line, starts_.size()) - 1]; }

std::vector<LineSpan> split_lines(std::string_view text) {
  std::vector<LineSpan> lines;
  size_t line = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    lines.push_back(LineSpan{line++, text.substr(pos, end - pos)});
    pos = end + 1;
  }
  return lines;
}

rapidjson::ParseErrorCode split_json_array(std::string_view body, std::vector<ElementSpan>* elements,
                                           size_t* error_offset) {
  rapidjson::MemoryStream stream(body.data(), body.size());
  ElementSpans handler(body, stream, elements);
  rapidjson::Reader reader;
  const rapidjson::ParseResult result = reader.Parse<rapidjson::kParseValidateEncodingFlag>(stream, handler);
  *error_offset = result.Offset();
  return result.Code();
}

bool is_csv_header(std::string_view body) {
  CsvReader reader(body);
  CsvRow row;
  std::string error;
  if (!reader.next(&row, &error)) return false;
  const auto& columns = cdr_csv_columns();
  for (const std::string& name : row.fields) {
    const bool known =
        std::any_of(columns.begin(), columns.end(), [&name](const CsvColumn& c) { return c.name == name; });
    if (!known) return false;
  }
  return true;
}

}  // namespace cdrd
