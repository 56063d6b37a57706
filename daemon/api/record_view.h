// What the dialect projections (daemon/api/<dialect>/) share: read access to
// the canonical records of a row (ARCHITECTURE.md, "Canonical record"), the
// call-level facts two dialects derive the same way (CallView), time and
// money as the dialects write them, and the JSON writer helpers. One place,
// so that a field means the same in every dialect.
//
// Records are parsed once per row. A record that is no JSON object is an
// error naming the row member (std::invalid_argument); a field of an
// unexpected JSON type reads as absent, because a projection shows what it
// can of a stored record rather than refusing a whole page. Money is never a
// double: the stored decimal text is checked and canonicalized through
// Decimal (daemon/rating/decimal.h) and written as text, or as a raw JSON
// number where a dialect wants a number.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/api/call_rows.h"

namespace cdrd {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

class RecordView {
 public:
  // `what` names the record in errors, e.g. "CallRow.root".
  RecordView(std::string_view json, std::string_view what);
  // Parses `*json` in place (RapidJSON's insitu mode: strings are unescaped
  // into the text itself and the view points into it, nothing is copied),
  // for a caller that owns the text and needs it no more: *json is
  // overwritten and must outlive the view. A CSV export's conversion spent a
  // third of its time copying strings out of the records.
  RecordView(std::string* json, std::string_view what);
  RecordView(const RecordView&) = delete;
  RecordView& operator=(const RecordView&) = delete;
  RecordView(RecordView&&) = default;
  RecordView& operator=(RecordView&&) = default;
  ~RecordView() = default;

  const std::string& what() const { return what_; }
  const rapidjson::Value& doc() const { return doc_; }

  // A top-level string (nullopt when absent, empty or not a string).
  std::optional<std::string_view> str(const char* field) const;
  // A string member of a top-level object (`destination`.`name`).
  std::optional<std::string_view> sub_str(const char* object, const char* field) const;
  // A top-level integer (nullopt when absent or not an integer).
  std::optional<int64_t> integer(const char* field) const;
  bool is(const char* field, std::string_view value) const { return str(field) == value; }

  // An ISO-8601 time field (started_at, rang_at, answered_at, ended_at) as
  // µs since the Unix epoch.
  std::optional<int64_t> time_us(const char* field) const;
  // The start of the leg: channel_created_time, else started_at.
  std::optional<int64_t> start_us() const;
  bool answered() const { return is("billing_status", "answered"); }

  // `rating.customer` / `rating.vendor` when the leg was rated (an object
  // with a charge); nullptr when unrated or never rated.
  const rapidjson::Value* rating(const char* side) const;
  // A string / integer member of that rating object.
  std::optional<std::string_view> rating_str(const char* side, const char* field) const;
  std::optional<int64_t> rating_integer(const char* side, const char* field) const;
  // A money member of that rating object as canonical decimal text
  // (Decimal::to_string: no trailing zeros, "0" for zero). Throws
  // std::invalid_argument naming the record and the field when the stored
  // text is no decimal number.
  std::optional<std::string> rating_money(const char* side, const char* field) const;
  // The rate per minute the leg's `side` rating was charged at in the end:
  // the next rate once the billed time went past the initial interval, else
  // the initial rate; for a tiered rate, the rate of the last tier the call
  // reached (the billed seconds are the sum of each tier's rounded time, so
  // a tier is reached when they exceed the whole rounded length of the tiers
  // before it). Canonical decimal text; nullopt when unrated.
  std::optional<std::string> rating_rate_per_minute(const char* side) const;

  // The first `transfer` entry of one of `kinds` (nullptr when none).
  const rapidjson::Value* transfer_of_kind(std::initializer_list<std::string_view> kinds) const;

 private:
  [[noreturn]] void bad_money(const char* side, const char* field, std::string_view text) const;

  void check_parsed() const;

  rapidjson::Document doc_;
  std::string what_;
};

// One call of a CallRow: the root, and the leg that answered or else the
// last attempt (`leg`, absent for a call of one leg).
class CallView {
 public:
  explicit CallView(const CallRow& row);

  const RecordView& root() const { return root_; }
  const RecordView* leg() const { return leg_ ? &*leg_ : nullptr; }
  // The leg the call ended on: `leg` when there is one, else the root.
  const RecordView& final_leg() const { return leg_ ? *leg_ : root_; }

  // Answered when either leg was (an IVR answers on the root alone).
  bool answered() const { return root_.answered() || (leg_ && leg_->answered()); }
  // The billed seconds of the call: the answering leg's (the attempt's when
  // it answered, else the root's); 0 when unanswered.
  int64_t billing_seconds() const;
  // `answered` when answered(), else the final leg's billing_status, else
  // the root's.
  std::optional<std::string_view> billing_status() const;
  // The first of the root's and the leg's value.
  std::optional<std::string_view> first_str(const char* field) const;
  // The leg's value, else the root's.
  std::optional<std::string_view> leg_first_str(const char* field) const;
  // The latest of both legs' time field.
  std::optional<int64_t> latest_time_us(const char* field) const;

 private:
  RecordView root_;
  std::optional<RecordView> leg_;
};

// "2017-07-21T17:32:28Z" (the second, cut down) and
// "2026-02-27T16:55:53.518Z" (the millisecond, cut down) of µs since the
// Unix epoch; nullopt for nullopt.
std::optional<std::string> utc_seconds_text(std::optional<int64_t> us);
std::optional<std::string> utc_millis_text(std::optional<int64_t> us);

// A second since the Unix epoch as the dialects write it, in UTC, exactly as
// date::format() writes the format named, without its ostream (a locale
// built per call was a sixth of a CSV export's conversion time):
enum class UtcFormat {
  kDate,      // "%F": "2026-12-07"
  kDateTime,  // "%F %T": "2026-12-07 16:05:09"
  kIso,       // "%FT%TZ": "2026-12-07T16:05:09Z"
  kRfc1036,   // "%a, %d %b %Y %T GMT": "Mon, 07 Dec 2026 16:05:09 GMT"
};
std::string format_utc(int64_t unix_seconds, UtcFormat format);

// Decimal text with at least one decimal place ("1" -> "1.0", "0.012"
// stays): how Rails renders a numeric column (BigDecimal#to_s, seed 004)
// and how seed 002 writes its "0.0".
std::optional<std::string> with_decimal_point(std::optional<std::string> decimal);

// The digits of `text` alone ("+33 1 70" -> "33170").
std::string digits_of(std::string_view text);
// The E.164 number of a record's `e164_field` without its '+', else the
// digits of `raw_field`; nullopt when neither has a digit.
std::optional<std::string> number_digits(const RecordView& r, const char* e164_field, const char* raw_field);
// The host of a SIP URI or of user@host[:port] ("sip:1001@pbx.example:5060;
// transport=tcp" -> "pbx.example", "[2001:db8::1]" -> "2001:db8::1").
std::optional<std::string_view> uri_host(std::string_view uri);
// The number the caller dialed on this leg: the user part of `request`
// (sip_req_user), else callee_id_number.
std::optional<std::string_view> dialed_number(const RecordView& r);
// The SIP status code of sip_term_status ("487" -> 487).
std::optional<int64_t> sip_status(const RecordView& r);

// Writer helpers: `key` then the value, or null when it is absent.
void put_string(JsonWriter& w, const char* key, std::optional<std::string_view> value);
void put_integer(JsonWriter& w, const char* key, std::optional<int64_t> value);
// Canonical decimal text as a JSON number, written as it is (no double).
void put_decimal_number(JsonWriter& w, const char* key, const std::optional<std::string>& decimal);

}  // namespace cdrd
