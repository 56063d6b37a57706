#include "daemon/api/record_view.h"

#include <date/date.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "daemon/rating/decimal.h"
#include "daemon/rating/rate_deck.h"
#include "daemon/rating/rating_time.h"

namespace cdrd {
namespace {

const rapidjson::Value* member(const rapidjson::Value& object, const char* field) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(field);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* field) {
  const rapidjson::Value* v = member(object, field);
  if (v == nullptr || !v->IsString() || v->GetStringLength() == 0) return std::nullopt;
  return std::string_view(v->GetString(), v->GetStringLength());
}

std::optional<int64_t> integer_member(const rapidjson::Value& object, const char* field) {
  const rapidjson::Value* v = member(object, field);
  if (v == nullptr || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::optional<int64_t> later(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

}  // namespace

RecordView::RecordView(std::string_view json, std::string_view what) : what_(what) {
  doc_.Parse(json.data(), json.size());
  check_parsed();
}

RecordView::RecordView(std::string* json, std::string_view what) : what_(what) {
  // std::string's text ends in '\0', where ParseInsitu stops. A '\0'
  // inside the text would end the document early: refused as not JSON.
  if (json->find('\0') != std::string::npos) {
    throw std::invalid_argument(what_ + ": the record is not JSON (a NUL byte inside)");
  }
  doc_.ParseInsitu(json->data());
  check_parsed();
}

void RecordView::check_parsed() const {
  if (doc_.HasParseError()) {
    throw std::invalid_argument(what_ + ": the record is not JSON (" + GetParseError_En(doc_.GetParseError()) +
                                " at offset " + std::to_string(doc_.GetErrorOffset()) + ")");
  }
  if (!doc_.IsObject()) throw std::invalid_argument(what_ + ": the record is not a JSON object");
}

std::optional<std::string_view> RecordView::str(const char* field) const { return string_member(doc_, field); }

std::optional<std::string_view> RecordView::sub_str(const char* object, const char* field) const {
  const rapidjson::Value* v = member(doc_, object);
  return v == nullptr ? std::nullopt : string_member(*v, field);
}

std::optional<int64_t> RecordView::integer(const char* field) const { return integer_member(doc_, field); }

std::optional<int64_t> RecordView::time_us(const char* field) const {
  const auto text = str(field);
  if (!text) return std::nullopt;
  return parse_iso_time_us(*text);
}

std::optional<int64_t> RecordView::start_us() const {
  if (const auto created = integer("channel_created_time")) return created;
  return time_us("started_at");
}

const rapidjson::Value* RecordView::rating(const char* side) const {
  const rapidjson::Value* rating = member(doc_, "rating");
  const rapidjson::Value* outcome = rating == nullptr ? nullptr : member(*rating, side);
  // An unrated leg has {"status":"unrated","reason":...} and no charge.
  if (outcome == nullptr || member(*outcome, "charge") == nullptr) return nullptr;
  return outcome;
}

std::optional<std::string_view> RecordView::rating_str(const char* side, const char* field) const {
  const rapidjson::Value* outcome = rating(side);
  return outcome == nullptr ? std::nullopt : string_member(*outcome, field);
}

std::optional<int64_t> RecordView::rating_integer(const char* side, const char* field) const {
  const rapidjson::Value* outcome = rating(side);
  return outcome == nullptr ? std::nullopt : integer_member(*outcome, field);
}

void RecordView::bad_money(const char* side, const char* field, std::string_view text) const {
  throw std::invalid_argument(what_ + ": rating." + side + "." + field + " is not a decimal number: '" +
                              std::string(text) + "'");
}

std::optional<std::string> RecordView::rating_money(const char* side, const char* field) const {
  const rapidjson::Value* outcome = rating(side);
  const rapidjson::Value* v = outcome == nullptr ? nullptr : member(*outcome, field);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) bad_money(side, field, "<not a string>");
  const std::string_view text(v->GetString(), v->GetStringLength());
  const auto value = Decimal::parse(text);
  if (!value) bad_money(side, field, text);
  return value->to_string();
}

std::optional<std::string> RecordView::rating_rate_per_minute(const char* side) const {
  if (rating(side) == nullptr) return std::nullopt;
  const int64_t billed = rating_integer(side, "billed_seconds").value_or(0);
  if (const auto tiers_text = rating_str(side, "tiers")) {
    std::vector<RateTier> tiers;
    std::string error;
    if (!parse_tiers(*tiers_text, &tiers, &error)) {
      throw std::invalid_argument(what_ + ": rating." + side + ".tiers: " + error);
    }
    size_t reached = 0;
    int64_t whole_before = 0;  // the billed seconds of the tiers before `reached + 1`, each used in full
    for (size_t i = 0; i + 1 < tiers.size(); ++i) {
      const int64_t length = tiers[i + 1].start_seconds - tiers[i].start_seconds;
      whole_before += (length + tiers[i].increment - 1) / tiers[i].increment * tiers[i].increment;
      if (billed <= whole_before) break;
      reached = i + 1;
    }
    return tiers[reached].rate.to_string();
  }
  const auto initial_interval = rating_integer(side, "initial_interval");
  return rating_money(side, initial_interval && billed > *initial_interval ? "next_rate" : "initial_rate");
}

const rapidjson::Value* RecordView::transfer_of_kind(std::initializer_list<std::string_view> kinds) const {
  const rapidjson::Value* list = member(doc_, "transfer");
  if (list == nullptr || !list->IsArray()) return nullptr;
  for (const rapidjson::Value& entry : list->GetArray()) {
    const auto kind = string_member(entry, "kind");
    if (kind && std::find(kinds.begin(), kinds.end(), *kind) != kinds.end()) return &entry;
  }
  return nullptr;
}

CallView::CallView(const CallRow& row) : root_(row.root, "CallRow.root") {
  if (row.answered) leg_.emplace(*row.answered, "CallRow.answered");
}

int64_t CallView::billing_seconds() const {
  if (leg_ && leg_->answered()) return leg_->integer("billing_seconds").value_or(0);
  if (root_.answered()) return root_.integer("billing_seconds").value_or(0);
  return 0;
}

std::optional<std::string_view> CallView::billing_status() const {
  if (answered()) return "answered";
  if (const auto status = final_leg().str("billing_status")) return status;
  return root_.str("billing_status");
}

std::optional<std::string_view> CallView::first_str(const char* field) const {
  if (const auto value = root_.str(field)) return value;
  return leg_ ? leg_->str(field) : std::nullopt;
}

std::optional<std::string_view> CallView::leg_first_str(const char* field) const {
  if (leg_) {
    if (const auto value = leg_->str(field)) return value;
  }
  return root_.str(field);
}

std::optional<int64_t> CallView::latest_time_us(const char* field) const {
  return later(root_.time_us(field), leg_ ? leg_->time_us(field) : std::nullopt);
}

namespace {

const char* format_text(UtcFormat format) {
  switch (format) {
    case UtcFormat::kDate:
      return "%F";
    case UtcFormat::kDateTime:
      return "%F %T";
    case UtcFormat::kIso:
      return "%FT%TZ";
    case UtcFormat::kRfc1036:
      return "%a, %d %b %Y %T GMT";
  }
  return "%F";
}

// `digits` decimal digits of n (0 <= n < 10^digits), zero-padded.
char* put_digits(char* out, int64_t n, int digits) {
  for (int i = digits - 1; i >= 0; --i, n /= 10) out[i] = static_cast<char>('0' + n % 10);
  return out + digits;
}

char* put_date(char* out, const CivilTime& t) {
  out = put_digits(out, t.year, 4);
  *out++ = '-';
  out = put_digits(out, t.month, 2);
  *out++ = '-';
  return put_digits(out, t.day, 2);
}

char* put_time(char* out, const CivilTime& t) {
  out = put_digits(out, t.hour, 2);
  *out++ = ':';
  out = put_digits(out, t.minute, 2);
  *out++ = ':';
  return put_digits(out, t.second, 2);
}

}  // namespace

std::string format_utc(int64_t unix_seconds, UtcFormat format) {
  const CivilTime t = civil_time(unix_seconds);
  // date::format writes years outside 0..9999 with a sign or more digits.
  if (t.year < 0 || t.year > 9999) {
    return date::format(format_text(format), date::sys_seconds{std::chrono::seconds{unix_seconds}});
  }
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  char* out = buf;
  switch (format) {
    case UtcFormat::kDate:
      out = put_date(out, t);
      break;
    case UtcFormat::kDateTime:
      out = put_date(out, t);
      *out++ = ' ';
      out = put_time(out, t);
      break;
    case UtcFormat::kIso:
      out = put_date(out, t);
      *out++ = 'T';
      out = put_time(out, t);
      *out++ = 'Z';
      break;
    case UtcFormat::kRfc1036:
      std::memcpy(out, kDays[t.weekday], 3);
      out += 3;
      *out++ = ',';
      *out++ = ' ';
      out = put_digits(out, t.day, 2);
      *out++ = ' ';
      std::memcpy(out, kMonths[t.month - 1], 3);
      out += 3;
      *out++ = ' ';
      out = put_digits(out, t.year, 4);
      *out++ = ' ';
      out = put_time(out, t);
      std::memcpy(out, " GMT", 4);
      out += 4;
      break;
  }
  return std::string(buf, out);
}

namespace {

// The second `us` falls in (cut down, also before 1970).
int64_t floor_seconds(int64_t us) { return us / 1000000 - (us % 1000000 < 0 ? 1 : 0); }

}  // namespace

std::optional<std::string> utc_seconds_text(std::optional<int64_t> us) {
  if (!us) return std::nullopt;
  return format_utc(floor_seconds(*us), UtcFormat::kIso);
}

std::optional<std::string> utc_millis_text(std::optional<int64_t> us) {
  if (!us) return std::nullopt;
  const int64_t seconds = floor_seconds(*us);
  // The second's text ends in 'Z' whatever the year; the milliseconds go
  // before it, as date::format writes a time of millisecond precision.
  std::string text = format_utc(seconds, UtcFormat::kIso);
  char frac[4] = {'.'};
  put_digits(frac + 1, (*us - seconds * 1000000) / 1000, 3);
  text.insert(text.size() - 1, frac, sizeof(frac));
  return text;
}

std::optional<std::string> with_decimal_point(std::optional<std::string> decimal) {
  if (decimal && decimal->find('.') == std::string::npos) decimal->append(".0");
  return decimal;
}

std::string digits_of(std::string_view text) {
  std::string out;
  std::copy_if(text.begin(), text.end(), std::back_inserter(out),
               [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  return out;
}

std::optional<std::string> number_digits(const RecordView& r, const char* e164_field, const char* raw_field) {
  for (const char* field : {e164_field, raw_field}) {
    const auto text = r.str(field);
    if (!text) continue;
    std::string digits = digits_of(*text);
    if (!digits.empty()) return digits;
  }
  return std::nullopt;
}

std::optional<std::string_view> uri_host(std::string_view uri) {
  std::string_view s = uri;
  if (!s.empty() && s.front() == '<') s.remove_prefix(1);
  const size_t at = s.find('@');
  if (at != std::string_view::npos) {
    s.remove_prefix(at + 1);
  } else {
    for (std::string_view scheme : {"sip:", "sips:"}) {
      if (s.substr(0, scheme.size()) == scheme) s.remove_prefix(scheme.size());
    }
  }
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    s = s.substr(1, close - 1);
  } else {
    s = s.substr(0, s.find_first_of(":;>?"));
  }
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<std::string_view> dialed_number(const RecordView& r) {
  if (const auto request = r.str("request")) {
    const std::string_view user = request->substr(0, request->find('@'));
    if (!user.empty()) return user;
  }
  return r.str("callee_id_number");
}

std::optional<int64_t> sip_status(const RecordView& r) {
  const auto text = r.str("sip_term_status");
  if (!text) return std::nullopt;
  int64_t code = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), code);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return code;
}

void put_string(JsonWriter& w, const char* key, std::optional<std::string_view> value) {
  w.Key(key);
  if (value) {
    w.String(value->data(), static_cast<rapidjson::SizeType>(value->size()));
  } else {
    w.Null();
  }
}

void put_integer(JsonWriter& w, const char* key, std::optional<int64_t> value) {
  w.Key(key);
  if (value) {
    w.Int64(*value);
  } else {
    w.Null();
  }
}

void put_decimal_number(JsonWriter& w, const char* key, const std::optional<std::string>& decimal) {
  w.Key(key);
  if (decimal) {
    w.RawValue(decimal->data(), decimal->size(), rapidjson::kNumberType);
  } else {
    w.Null();
  }
}

}  // namespace cdrd
