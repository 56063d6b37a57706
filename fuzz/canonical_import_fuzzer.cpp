// POST /ingest/cdr bodies (canonical_import.h): JSON object, array, NDJSON
// or CSV, found from the bytes. The first byte picks the Content-Type and
// whether ?account_id= overrides the rows' accounts. Invariants: every row
// accepted is a storable canonical import record; and an accepted row
// exported as CSV imports back (CSV write -> read is a fixed point).
#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "adapters/canonical/canonical_import.h"
#include "adapters/canonical/cdr_csv.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_record.h"

namespace {

using cdrd::fuzz::check;

constexpr int64_t kGregorian1970 = 62167219200;
constexpr int64_t kGregorianEnd9999 = 315537897599;

std::string_view string_member(const rapidjson::Document& doc, const char* name) {
  const auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

void check_row(const cdrd::ImportedRow& row, const cdrd::ImportOptions& options, cdrd::ImportFormat format) {
  const cdrd::CdrRecord& record = row.record;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(record.json.data(), record.json.size());
  check(!doc.HasParseError() && doc.IsObject(), "an imported record is a JSON object of valid UTF-8");
  check(!cdrd::fuzz::holds_nul(doc), "an imported record holds no U+0000");
  check(!cdrd::fuzz::has_duplicate_name(doc), "no name twice in one object of an imported record");
  check(string_member(doc, "source") == "import", "source is import");
  const auto imported = doc.FindMember("imported");
  check(imported != doc.MemberEnd() && imported->value.IsTrue(), "imported is true");
  check(!string_member(doc, "id").empty() && !string_member(doc, "call_id").empty() &&
            !string_member(doc, "account_id").empty(),
        "an imported record has id, call_id and account_id");
  if (!options.account_id.empty()) check(string_member(doc, "account_id") == options.account_id, "account override");
  const auto ts = doc.FindMember("timestamp");
  check(ts != doc.MemberEnd() && ts->value.IsInt64() && ts->value.GetInt64() >= kGregorian1970 &&
            ts->value.GetInt64() <= kGregorianEnd9999,
        "timestamp is Gregorian seconds from 1970 to 9999");
  check(record.raw_format == (format == cdrd::ImportFormat::kCsv ? "csv" : "json"), "raw_format names the format");
  check(row.line >= 1, "lines are 1-based");
}

// record -> CSV -> import -> CSV: the second CSV equals the first.
void check_csv_round_trip(const cdrd::CdrRecord& record) {
  std::string csv = cdrd::cdr_csv_header();
  check(cdrd::append_cdr_csv_row(record.json, &csv), "an imported record is exportable as CSV");
  const cdrd::ImportBatch again = cdrd::parse_import_body(csv, "text/csv", {});
  check(again.format == cdrd::ImportFormat::kCsv, "an export is read as CSV");
  if (again.rows.size() != 1 || !again.rejected.empty()) {
    std::fprintf(stderr, "csv: %s\nrejected: %s\n", csv.c_str(),
                 again.rejected.empty() ? "" : again.rejected[0].message.c_str());
    cdrd::fuzz::fail("an exported row imports back");
  }
  std::string csv_again = cdrd::cdr_csv_header();
  check(cdrd::append_cdr_csv_row(again.rows[0].record.json, &csv_again), "a re-imported record is exportable");
  if (csv_again != csv) {
    std::fprintf(stderr, "first:  %s\nsecond: %s\n", csv.c_str(), csv_again.c_str());
    cdrd::fuzz::fail("CSV export -> import -> export changes the row");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kContentTypes[] = {"", "text/csv", "application/json", "application/x-ndjson"};
  const std::string_view content_type = kContentTypes[data[0] & 3];
  cdrd::ImportOptions options;
  if (data[0] & 4) options.account_id = "acct-override";
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const cdrd::ImportBatch batch = cdrd::parse_import_body(body, content_type, options);
  if (!batch.error_code.empty()) {
    check(batch.rows.empty() && batch.rejected.empty(), "a refused body has no rows");
    check(!batch.error_message.empty(), "a refused body says why");
    return 0;
  }
  check(batch.format != cdrd::ImportFormat::kNone, "an accepted body has a format");
  size_t previous_line = 0;
  for (const cdrd::RejectedRow& rejected : batch.rejected) {
    check(!rejected.code.empty() && !rejected.message.empty(), "a rejected row says why");
    check(rejected.line >= previous_line, "rejected rows are in line order");
    previous_line = rejected.line;
  }
  for (const cdrd::ImportedRow& row : batch.rows) {
    check_row(row, options, batch.format);
    check_csv_round_trip(row.record);
  }
  return 0;
}
