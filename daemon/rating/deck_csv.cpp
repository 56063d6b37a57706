#include "daemon/rating/deck_csv.h"

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

#include "daemon/core/csv_reader.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace cdrd {
namespace {

enum Column : int {
  kPrefix,
  kName,
  kInitialInterval,
  kInitialRate,
  kNextInterval,
  kNextRate,
  kConnectFee,
  kAttemptFee,
  kGraceSeconds,
  kMinLength,
  kMaxLength,
  kValidFrom,
  kValidTill,
  kTiers,
  kColumnCount
};
constexpr int kRequiredColumns = kNextRate + 1;

constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "prefix",      "name",          "initial_interval", "initial_rate", "next_interval", "next_rate",  "connect_fee",
    "attempt_fee", "grace_seconds", "min_length",       "max_length",   "valid_from",    "valid_till", "tiers"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Well-formed UTF-8 (no overlong forms, no surrogates), by RapidJSON's
// decoder: the database keeps names as UTF-8 text and would refuse the whole
// COPY at a Latin-1 byte. A sequence cut short by the end reads a '\0' there,
// which no continuation byte is, so it fails too.
bool valid_utf8(std::string_view s) {
  rapidjson::MemoryStream in(s.data(), s.size());
  while (in.Tell() < s.size()) {
    unsigned codepoint = 0;
    if (!rapidjson::UTF8<>::Decode(in, &codepoint)) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class RowParser {
 public:
  RowParser(std::string_view source, int line, const std::vector<std::string>& cells,
            const std::array<int, kColumnCount>& index, std::string* error)
      : source_(source), line_(line), cells_(cells), index_(index), error_(error) {}

  std::string_view cell(Column c) const {
    const int i = index_[c];
    return i < 0 ? std::string_view() : std::string_view(cells_[static_cast<size_t>(i)]);
  }

  bool fail(Column c, const std::string& what) {
    *error_ = std::string(source_) + " line " + std::to_string(line_) + ", column " + std::string(kColumnNames[c]) +
              ": " + what;
    return false;
  }

  static std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

  // A whole number in [min, max]; an empty optional cell keeps *out.
  bool integer(Column c, int64_t min, int64_t max, bool required, int64_t* out) {
    const std::string_view s = cell(c);
    if (s.empty()) return required ? fail(c, "a value is required") : true;
    if (!all_digits(s) || s.size() > 12) return fail(c, quoted(s) + " is not a whole number");
    int64_t v = 0;
    for (const char ch : s) v = v * 10 + (ch - '0');
    if (v < min || v > max) {
      return fail(c, quoted(s) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
    }
    *out = v;
    return true;
  }

  bool money(Column c, bool required, Decimal* out) {
    const std::string_view s = cell(c);
    if (s.empty()) return required ? fail(c, "a value is required") : true;
    const std::optional<Decimal> d = Decimal::parse(s);
    if (!d) {
      const size_t point = s.find('.');
      if (point != std::string_view::npos && all_digits(s.substr(point + 1)) && all_digits(s.substr(0, point)) &&
          s.size() - point - 1 > static_cast<size_t>(kMaxDecimalPlaces)) {
        return fail(c, quoted(s) + " has more than " + std::to_string(kMaxDecimalPlaces) + " decimal places");
      }
      return fail(c, quoted(s) + " is not a decimal number");
    }
    if (d->is_negative()) return fail(c, quoted(s) + " is negative; rates and fees are 0 or more");
    *out = *d;
    return true;
  }

  bool instant(Column c, int64_t* out) {
    const std::string_view s = cell(c);
    if (s.empty()) return true;
    const std::optional<int64_t> us = parse_iso_time_us(s);
    if (!us) return fail(c, quoted(s) + " is not an ISO-8601 date or time (e.g. 2024-01-31 or 2024-01-31T00:00:00Z)");
    *out = *us;
    return true;
  }

  bool entry(RateEntry* e) {
    const std::string_view prefix = cell(kPrefix);
    if (!all_digits(prefix)) return fail(kPrefix, quoted(prefix) + " is not a prefix of digits (E.164 without '+')");
    if (prefix.size() > kMaxPrefixDigits) {
      return fail(kPrefix, quoted(prefix) + " has more than " + std::to_string(kMaxPrefixDigits) + " digits");
    }
    e->prefix = std::string(prefix);
    if (!valid_utf8(cell(kName))) return fail(kName, "is not UTF-8 text (save the file as UTF-8)");
    if (cell(kName).find('\0') != std::string_view::npos) return fail(kName, "holds a NUL byte");
    e->name = std::string(cell(kName));

    const std::string_view tiers = cell(kTiers);
    if (!tiers.empty()) {
      std::string why;
      if (!parse_tiers(tiers, &e->tiers, &why)) return fail(kTiers, quoted(tiers) + ": " + why);
      for (const Column c : {kInitialInterval, kInitialRate, kNextInterval, kNextRate}) {
        if (!cell(c).empty()) return fail(c, "must be empty when tiers is set (the tiers are the rate)");
      }
    } else {
      int64_t ii = 0;
      int64_t ni = 0;
      if (!integer(kInitialInterval, 0, 86400, true, &ii) || !money(kInitialRate, true, &e->initial_rate) ||
          !integer(kNextInterval, 1, 86400, true, &ni) || !money(kNextRate, true, &e->next_rate)) {
        return false;
      }
      e->initial_interval = ii;
      e->next_interval = ni;
    }
    int64_t grace = 0;
    int64_t min_length = 0;
    int64_t max_length = 0;
    if (!money(kConnectFee, false, &e->connect_fee) || !money(kAttemptFee, false, &e->attempt_fee) ||
        !integer(kGraceSeconds, 0, 86400, false, &grace) || !integer(kMinLength, 0, 32, false, &min_length) ||
        !integer(kMaxLength, 0, 32, false, &max_length) || !instant(kValidFrom, &e->valid_from_us) ||
        !instant(kValidTill, &e->valid_till_us)) {
      return false;
    }
    e->grace_seconds = grace;
    e->min_length = static_cast<int>(min_length);
    e->max_length = static_cast<int>(max_length);
    if (max_length != 0 && max_length < min_length) {
      return fail(kMaxLength, quoted(cell(kMaxLength)) + " is less than min_length " + std::to_string(min_length));
    }
    if (e->valid_till_us <= e->valid_from_us) {
      return fail(kValidTill, quoted(cell(kValidTill)) + " is not after valid_from " + quoted(cell(kValidFrom)));
    }
    return true;
  }

 private:
  std::string_view source_;
  int line_;
  const std::vector<std::string>& cells_;
  const std::array<int, kColumnCount>& index_;
  std::string* error_;
};

bool needs_quotes(std::string_view s) {
  if (s.empty()) return false;
  return s.find_first_of(",\"\r\n") != std::string_view::npos || s.front() == ' ' || s.back() == ' ';
}

void append_field(std::string_view s, std::string* out) {
  if (!needs_quotes(s)) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (const char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void append_number(int64_t n, bool empty_when_zero, std::string* out) {
  if (!(empty_when_zero && n == 0)) out->append(std::to_string(n));
}

}  // namespace

bool parse_deck_csv(std::string_view text, std::string_view source, std::vector<RateEntry>* entries,
                    std::string* error) {
  entries->clear();
  CsvReader reader(text);
  CsvRow row_text;
  std::string why;
  const std::string src(source);
  // The reader's errors start with "line N: ".
  if (!reader.next(&row_text, &why)) {
    *error = why.empty() ? src + ": empty file; the first line names the columns" : src + " " + why;
    return false;
  }
  const std::vector<std::string> header = std::move(row_text.fields);
  int line = static_cast<int>(row_text.line);
  std::array<int, kColumnCount> index{};
  index.fill(-1);
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string_view name = trim(header[i]);
    int found = -1;
    for (int c = 0; c < kColumnCount; ++c) {
      if (kColumnNames[c] == name) found = c;
    }
    if (found < 0) {
      *error = src + " line " + std::to_string(line) + ", column " + std::string(name) +
               ": not a rate deck column (prefix, name, initial_interval, initial_rate, next_interval, next_rate, "
               "connect_fee, attempt_fee, grace_seconds, min_length, max_length, valid_from, valid_till, tiers)";
      return false;
    }
    if (index[found] >= 0) {
      *error = src + " line " + std::to_string(line) + ", column " + std::string(name) + ": named twice";
      return false;
    }
    index[found] = static_cast<int>(i);
  }
  for (int c = 0; c < kRequiredColumns; ++c) {
    if (index[c] < 0) {
      *error = src + " line " + std::to_string(line) + ", column " + std::string(kColumnNames[c]) +
               ": missing from the header (required: prefix, name, initial_interval, initial_rate, next_interval, "
               "next_rate)";
      return false;
    }
  }

  std::vector<int> lines;
  const size_t rows_at_most = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  entries->reserve(rows_at_most);
  lines.reserve(rows_at_most);
  for (;;) {
    why.clear();
    if (!reader.next(&row_text, &why)) {
      if (!why.empty()) {
        *error = src + " " + why;
        return false;
      }
      break;
    }
    const std::vector<std::string>& cells = row_text.fields;
    line = static_cast<int>(row_text.line);
    if (cells.size() != header.size()) {
      *error = src + " line " + std::to_string(line) + ": " + std::to_string(cells.size()) +
               " fields, the header has " + std::to_string(header.size());
      return false;
    }
    RateEntry entry;
    RowParser row(source, line, cells, index, error);
    if (!row.entry(&entry)) return false;
    entries->push_back(std::move(entry));
    lines.push_back(line);
  }
  if (entries->empty()) {
    *error = src + ": no rates after the header line";
    return false;
  }
  size_t first = 0;
  size_t second = 0;
  if (find_overlap(*entries, &first, &second)) {
    // Named at the later of the two lines, which is where a reader finds the duplicate.
    const size_t later = lines[first] > lines[second] ? first : second;
    const size_t earlier = later == first ? second : first;
    *error = src + " line " + std::to_string(lines[later]) + ", column prefix: " + (*entries)[later].prefix +
             " is also on line " + std::to_string(lines[earlier]) +
             " with an overlapping validity (valid_from/valid_till)";
    return false;
  }
  return true;
}

std::string deck_csv_header() {
  std::string out;
  for (size_t i = 0; i < kColumnNames.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(kColumnNames[i]);
  }
  out.push_back('\n');
  return out;
}

void append_deck_csv_row(const RateEntry& e, std::string* out) {
  append_field(e.prefix, out);
  out->push_back(',');
  append_field(e.name, out);
  out->push_back(',');
  if (!e.tiered()) {
    append_number(e.initial_interval, false, out);
    out->push_back(',');
    out->append(e.initial_rate.to_string());
    out->push_back(',');
    append_number(e.next_interval, false, out);
    out->push_back(',');
    out->append(e.next_rate.to_string());
  } else {
    out->append(",,,");
  }
  out->push_back(',');
  out->append(e.connect_fee.to_string());
  out->push_back(',');
  out->append(e.attempt_fee.to_string());
  out->push_back(',');
  append_number(e.grace_seconds, false, out);
  out->push_back(',');
  append_number(e.min_length, true, out);
  out->push_back(',');
  append_number(e.max_length, true, out);
  out->push_back(',');
  if (e.valid_from_us != kNoStartUs) out->append(format_iso_time_us(e.valid_from_us));
  out->push_back(',');
  if (e.valid_till_us != kNoEndUs) out->append(format_iso_time_us(e.valid_till_us));
  out->push_back(',');
  out->append(format_tiers(e.tiers));
  out->push_back('\n');
}

std::string deck_csv(const std::vector<RateEntry>& entries) {
  std::string out = deck_csv_header();
  for (const RateEntry& e : entries) append_deck_csv_row(e, &out);
  return out;
}

}  // namespace cdrd
