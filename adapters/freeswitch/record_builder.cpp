#include "adapters/freeswitch/record_builder.h"

#include <date/date.h>
#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "adapters/freeswitch/byte_scan.h"
#include "adapters/freeswitch/leg_details.h"
#include "adapters/numbers/phone_numbers.h"

namespace cdrd {
namespace {

// The record's output buffer: a type of its own, so that the writer below is
// an instantiation of this file alone, which takes RapidJSON's hook for
// copying the bytes that need no escaping in bulk (its SSE2 build does the
// same for StringBuffer) instead of one by one.
struct RecordBuffer : rapidjson::StringBuffer {};

// Found by argument-dependent lookup from the writer, before RapidJSON's
// generic versions, which would check the capacity for every byte.
void PutReserve(RecordBuffer& buffer, size_t count) { buffer.Reserve(count); }
void PutUnsafe(RecordBuffer& buffer, char c) { buffer.PutUnsafe(c); }

}  // namespace
}  // namespace cdrd

namespace rapidjson {
template <>
inline bool Writer<cdrd::RecordBuffer>::ScanWriteUnescapedString(StringStream& is, size_t length) {
  const size_t left = length - is.Tell();
  const size_t run = cdrd::byte_scan::json_plain_run(is.src_, left);
  std::memcpy(os_->Push(run), is.src_, run);
  is.src_ += run;
  return run < left;
}
}  // namespace rapidjson

namespace cdrd {
namespace {

using JsonWriter = rapidjson::Writer<RecordBuffer>;

// Seconds from 0000-01-01 (proleptic Gregorian, Erlang's calendar) to the Unix epoch.
constexpr int64_t kGregorianToUnixSeconds = 62167219200;
constexpr int64_t kMicrosPerSecond = 1000000;
// 9999-12-31T23:59:59.999999Z: ids and timestamps keep a four-digit year.
constexpr int64_t kLastUepoch = 253402300799999999;

// A byte stream over [p, end) for rapidjson::UTF8<>::Decode, which reads with Take() only.
struct BoundedStream {
  using Ch = char;
  const char* p;
  const char* end;
  Ch Take() { return p < end ? *p++ : '\0'; }
};

// Percent-decoded values and raw documents can carry any bytes (a Latin-1
// display name is common), but the record is stored in a json column, which
// must be valid UTF-8. Invalid sequences become U+FFFD instead of losing the CDR;
// so does U+0000 (a %00 value), which jsonb refuses (found by fuzz/).
// Returns `s` itself when it is clean, else the cleaned copy in *storage.
std::string_view valid_utf8(std::string_view s, std::string* storage) {
  // Almost every value is plain ASCII without NUL.
  if (byte_scan::ascii_run(s.data(), s.size()) == s.size()) return s;
  std::string& clean = *storage;
  clean.clear();
  clean.reserve(s.size() + 8);
  BoundedStream in{s.data(), s.data() + s.size()};
  while (in.p < in.end) {
    const char* start = in.p;
    unsigned codepoint = 0;
    if (rapidjson::UTF8<>::Decode(in, &codepoint) && in.p > start && codepoint != 0) {
      clean.append(start, static_cast<size_t>(in.p - start));
    } else {
      clean.append("\xEF\xBF\xBD");
      in.p = start + 1;
    }
  }
  return clean;
}

void write_string(JsonWriter& w, std::string_view s) {
  std::string storage;
  const std::string_view clean = valid_utf8(s, &storage);
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

// Writes the members of an object of strings in the order given, each name
// once, and none named `reserved` (unless empty). Names are made valid UTF-8 first: two
// names that differ only in invalid bytes both become U+FFFD and would be one
// name twice, of which jsonb keeps only the last (found by
// fuzz/esl_event_fuzzer). Of equal names the first one stays.
void put_members_once(JsonWriter& w, std::vector<std::pair<std::string, std::string_view>>* members,
                      std::string_view reserved) {
  for (auto& [key, value] : *members) {
    std::string storage;
    const std::string_view clean = valid_utf8(key, &storage);
    if (clean.data() != key.data()) key = std::move(storage);
  }
  // Which names repeat, without a set of strings: sorted positions put equal
  // names side by side, the first of them (stable) being the one that stays.
  const size_t n = members->size();
  std::vector<size_t> by_name(n);
  for (size_t i = 0; i < n; ++i) by_name[i] = i;
  std::stable_sort(by_name.begin(), by_name.end(),
                   [&](size_t a, size_t b) { return (*members)[a].first < (*members)[b].first; });
  std::vector<bool> skip(n, false);
  for (size_t i = 0; i < n; ++i) {
    const std::string& key = (*members)[by_name[i]].first;
    skip[by_name[i]] = (!reserved.empty() && key == reserved) || (i > 0 && key == (*members)[by_name[i - 1]].first);
  }
  for (size_t i = 0; i < n; ++i) {
    if (skip[i]) continue;
    const std::string& key = (*members)[i].first;
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    write_string(w, (*members)[i].second);
  }
}

// Names are std::string_view, not const char*: Writer::Key(const char*)
// measures the name again with a loop of its own each time.
void put_key(JsonWriter& w, std::string_view name) {
  w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
}

void put(JsonWriter& w, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  put_key(w, name);
  write_string(w, value);
}

void put_int(JsonWriter& w, std::string_view name, int64_t value) {
  put_key(w, name);
  w.Int64(value);
}

std::string_view first_of(const ChannelVariables& v, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    std::string_view value = v.get(name);
    if (!value.empty()) return value;
  }
  return {};
}

std::string_view first_non_empty(std::initializer_list<std::string_view> values) {
  for (std::string_view value : values) {
    if (!value.empty()) return value;
  }
  return {};
}

// A non-negative decimal integer filling the whole of `text`.
bool parse_uint(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return false;
  *out = value;
  return true;
}

// FreeSWITCH's switch_true(): the spellings of "yes" it accepts.
bool is_true(std::string_view value) {
  return value == "true" || value == "yes" || value == "on" || value == "1" || value == "enabled" ||
         value == "active" || value == "allow";
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

struct Timing {
  int64_t start = 0;     // µs since the Unix epoch, > 0
  int64_t end = 0;       // µs, >= start
  int64_t answer = 0;    // µs, 0 when never answered
  int64_t progress = 0;  // µs, 0 when no progress (ringing) was signalled
};

bool fail(NormalizeError* error, const char* code, std::string message) {
  error->code = code;
  error->message = std::move(message);
  return false;
}

bool required_uepoch(const ChannelVariables& v, const RecordSource& source, std::string_view name, int64_t* out,
                     NormalizeError* error) {
  const std::string_view text = v.get(name);
  std::string field(source.variable_path);
  field.append(name);
  if (text.empty()) return fail(error, "missing_field", field + " is missing");
  if (!parse_uint(text, out) || *out == 0 || *out > kLastUepoch) {
    return fail(
        error, "invalid_value",
        field + " is not a time in microseconds since the Unix epoch: '" + std::string(text.substr(0, 40)) + "'");
  }
  return true;
}

// A variable when it holds a number, else the profile's time.
int64_t optional_uepoch(std::string_view text, int64_t profile_time) {
  int64_t value = 0;
  if (parse_uint(text, &value) && value <= kLastUepoch) return value;
  return profile_time > 0 && profile_time <= kLastUepoch ? profile_time : 0;
}

bool read_timing(const ChannelData& data, const RecordSource& source, Timing* t, NormalizeError* error) {
  const ChannelVariables& v = data.variables;
  if (!required_uepoch(v, source, "start_uepoch", &t->start, error)) return false;
  if (!required_uepoch(v, source, "end_uepoch", &t->end, error)) return false;
  if (t->end < t->start) {
    return fail(error, "invalid_value",
                std::string(source.variable_path) + "end_uepoch is before " + std::string(source.variable_path) +
                    "start_uepoch");
  }
  t->answer = optional_uepoch(v.get("answer_uepoch"), data.times.answered);
  t->progress = optional_uepoch(v.get("progress_uepoch"), data.times.progress);
  return true;
}

// Writes `value` as `digits` decimal digits, zero-padded, at `out`.
char* put_digits(char* out, int64_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + digits;
}

// The UTC calendar date of `uepoch` (µs since the Unix epoch, in
// [0, kLastUepoch]) and the µs into that day. date.h's civil calendar, not
// gmtime_r() + snprintf(): these run four times a record, and those two were
// 3% of a whole normalization.
struct UtcTime {
  date::year_month_day day;
  int64_t micros_of_day;
};

UtcTime utc_time(int64_t uepoch) {
  const date::sys_time<std::chrono::microseconds> time{std::chrono::microseconds(uepoch)};
  const date::sys_days day = date::floor<date::days>(time);
  return {date::year_month_day(day), (time - day).count()};
}

// Text joined from a few parts, on the stack when short: addresses and the
// id are joined for every record, and a std::string of more than 15 bytes is
// an allocation each.
class JoinedText {
 public:
  JoinedText(std::initializer_list<std::string_view> parts) {
    size_t size = 0;
    for (std::string_view part : parts) size += part.size();
    char* out = inline_;
    if (size > sizeof inline_) {
      heap_.resize(size);
      out = heap_.data();
    }
    view_ = std::string_view(out, size);
    for (std::string_view part : parts) {
      std::memcpy(out, part.data(), part.size());
      out += part.size();
    }
  }
  JoinedText(const JoinedText&) = delete;
  JoinedText& operator=(const JoinedText&) = delete;
  std::string_view view() const { return view_; }

 private:
  char inline_[128];
  std::string heap_;
  std::string_view view_;
};

// `uepoch` as 2018-01-11T10:25:44.534355Z, in a buffer of its own (no allocation).
struct IsoTime {
  char text[27];
  std::string_view view() const { return {text, sizeof text}; }
};

IsoTime iso8601(int64_t uepoch) {
  const UtcTime t = utc_time(uepoch);
  const int64_t seconds = t.micros_of_day / kMicrosPerSecond;
  IsoTime time;
  char* p = put_digits(time.text, static_cast<int>(t.day.year()), 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(t.day.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(t.day.day()), 2);
  *p++ = 'T';
  p = put_digits(p, seconds / 3600, 2);
  *p++ = ':';
  p = put_digits(p, seconds / 60 % 60, 2);
  *p++ = ':';
  p = put_digits(p, seconds % 60, 2);
  *p++ = '.';
  p = put_digits(p, t.micros_of_day % kMicrosPerSecond, 6);
  *p = 'Z';
  return time;
}

// account_id: a configured variable, else the SIP domain (mapped when the
// configuration maps it), else the default account.
std::string resolve_account(const ChannelVariables& v, const AccountRules& rules) {
  for (const std::string& name : rules.variables) {
    const std::string_view value = v.get(name);
    if (!value.empty()) return std::string(value);
  }
  for (const std::string& name : rules.domain_variables) {
    const std::string_view domain = v.get(name);
    if (domain.empty()) continue;
    std::string key(domain);
    const auto mapped = rules.domains.find(key);
    return mapped != rules.domains.end() ? mapped->second : key;
  }
  return rules.default_account;
}

std::string_view hangup_cause(const ChannelVariables& v) {
  // After a bridge the B-leg's cause tells why the call ended; otherwise the leg's own does.
  if (first_of(v, {"last_app", "current_application"}) == "bridge") {
    return first_of(v, {"originate_failed_cause", "bridge_hangup_cause", "hangup_cause"});
  }
  return first_of(v, {"originate_failed_cause", "hangup_cause", "bridge_hangup_cause"});
}

// Both the reported hangup_cause and the leg's own cause count: a caller who
// cancels a bridge that got early media leaves bridge_hangup_cause
// NORMAL_CLEARING (what hangup_cause reports) and its own cause
// ORIGINATOR_CANCEL, and billing must see an unanswered call, not a failure.
const char* billing_status(std::string_view cause, std::string_view own_cause, bool answered, int64_t billmsec) {
  if (answered && billmsec > 0) return "answered";
  for (std::string_view c : {cause, own_cause}) {
    if (c == "USER_BUSY") return "busy";
  }
  for (std::string_view c : {cause, own_cause}) {
    if (c == "NO_ANSWER" || c == "NO_USER_RESPONSE" || (c == "ORIGINATOR_CANCEL" && !answered)) return "noanswer";
  }
  return "failed";
}

// user@host when both are known.
void put_address(JsonWriter& w, std::string_view name, std::string_view user, std::string_view host) {
  if (user.empty() || host.empty()) return;
  put(w, name, JoinedText({user, "@", host}).view());
}

// Kazoo's record id: YYYYMM of the leg's start (UTC), '-', the call id.
void put_record_id(JsonWriter& w, int64_t start_uepoch, std::string_view call_id) {
  const UtcTime t = utc_time(start_uepoch);
  char month[7];
  put_digits(month, static_cast<int>(t.day.year()), 4);
  put_digits(month + 4, static_cast<unsigned>(t.day.month()), 2);
  month[6] = '-';
  put(w, "id", JoinedText({std::string_view(month, sizeof month), call_id}).view());
}

// The variables of one prefix (ChannelVariables::with_prefix), and that prefix.
struct PrefixedVariables {
  std::string_view prefix;
  const std::vector<ChannelVariables::Entry>* variables;
};

// The variables of `groups`, prefix removed, as one object with Kazoo's key
// spelling (kazoo_key: sip_h_X-Foo-Bar -> x_foo_bar); the object is left out
// when there is none.
void put_prefixed(JsonWriter& w, std::string_view name, std::initializer_list<PrefixedVariables> groups) {
  std::vector<std::pair<std::string, std::string_view>> fields;
  for (const auto& [prefix, variables] : groups) {
    for (const auto& [variable, value] : *variables) {
      if (variable.size() > prefix.size() && !value.empty()) {
        fields.emplace_back(kazoo_key(variable.substr(prefix.size())), value);
      }
    }
  }
  if (fields.empty()) return;
  // sip_h_X and sip_rh_X would give the same key twice, and so would X-Foo
  // and x_foo once in Kazoo's spelling; keep the first prefix's, then the
  // first in name order.
  std::stable_sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  fields.erase(
      std::unique(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
      fields.end());
  put_key(w, name);
  w.StartObject();
  put_members_once(w, &fields, {});
  w.EndObject();
}

void put_custom_channel_vars(JsonWriter& w, const ChannelVariables& v, const std::string& account_id) {
  static constexpr std::string_view kPrefix = "ecallmgr_";
  std::vector<std::pair<std::string, std::string_view>> fields;
  for (const auto& [name, value] : v.with_prefix(kPrefix)) {
    // Kazoo stores CCVs as owner_id, not Owner-ID: clients look them up so.
    if (name.size() > kPrefix.size() && !value.empty()) {
      fields.emplace_back(kazoo_key(name.substr(kPrefix.size())), value);
    }
  }
  put_key(w, "custom_channel_vars");
  w.StartObject();
  // The resolved account is the one the record is filed under: written
  // last, never taken from a variable.
  put_members_once(w, &fields, "account_id");
  put_key(w, "account_id");
  write_string(w, account_id);
  w.EndObject();
}

void put_fax(JsonWriter& w, const ChannelVariables& v) {
  static constexpr std::string_view kFaxFields[] = {"fax_success",  "fax_result_code",       "fax_result_text",
                                                    "fax_ecm_used", "fax_transferred_pages", "fax_total_pages",
                                                    "fax_bad_rows", "fax_transfer_rate"};
  for (std::string_view name : kFaxFields) put(w, name, v.get(name));
}

// The A-leg's uuid, seen from this leg. Kazoo's own `<gregorian start>-<8
// hex>` form cannot be derived identically on both legs (each leg sees only
// itself), so legs are tied together by the A-leg's uuid, which both know.
std::string_view interaction_id(const ChannelData& data, std::string_view call_id, bool b_leg) {
  const ChannelVariables& v = data.variables;
  const std::string_view given = v.get("interaction_id");
  if (!given.empty()) return given;
  if (!b_leg) return call_id;
  const std::string_view call_uuid = v.get("call_uuid");
  if (!call_uuid.empty() && call_uuid != call_id) return call_uuid;
  const std::string_view a_leg = first_non_empty(
      {v.get("originating_leg_uuid"), v.get("originator"), data.other_leg_is_originator ? data.other_leg.uuid : ""});
  return a_leg.empty() ? call_id : a_leg;
}

std::string_view other_leg_call_id(const ChannelData& data, std::string_view call_id) {
  const ChannelVariables& v = data.variables;
  for (std::string_view candidate : {data.other_leg.uuid, v.get("bridge_uuid"), v.get("last_bridge_to"),
                                     v.get("signal_bond"), v.get("originator"), v.get("origination_uuid")}) {
    // origination_uuid is usually the leg's own uuid (it forces it), so never this leg.
    if (!candidate.empty() && candidate != call_id) return candidate;
  }
  return {};
}

// The connection address of an SDP (RFC 4566 "c=<nettype> <addrtype>
// <address>[/ttl]"): the session-level c= line (before the first m=), else
// the first media-level one; empty when there is none.
std::string_view sdp_connection_address(std::string_view sdp) {
  std::string_view media_level;
  bool in_media = false;
  size_t pos = 0;
  while (pos < sdp.size()) {
    const size_t eol = sdp.find('\n', pos);
    std::string_view line = sdp.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? sdp.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (starts_with(line, "m=")) in_media = true;
    if (!starts_with(line, "c=")) continue;
    // The third space-separated token, without a multicast /ttl suffix.
    size_t start = 2;
    for (int token = 0; token < 2 && start != std::string_view::npos; ++token) {
      start = line.find(' ', start);
      if (start != std::string_view::npos) start = line.find_first_not_of(' ', start);
    }
    if (start == std::string_view::npos) continue;
    std::string_view address = line.substr(start);
    address = address.substr(0, address.find_first_of(" /"));
    if (address.empty()) continue;
    if (!in_media) return address;
    if (media_level.empty()) media_level = address;
  }
  return media_level;
}

// Addresses the 003 filter use cases need (media server IP, SIP address, RTP
// address). cdr-fields.md has no rule for them; these are cdrd's own.
void put_addresses(JsonWriter& w, const ChannelData& data, std::string_view network_ip, std::string_view local_sdp,
                   std::string_view remote_sdp) {
  const ChannelVariables& v = data.variables;
  // The media server's own address: the ESL header, else the same value as a
  // variable (channels that ran an xml_curl lookup keep the REQUEST_PARAMS
  // event headers as variables, so the JSON CDR of an ESL-seen leg agrees),
  // else the SIP profile's address, else the local RTP address.
  put(w, "media_server_ip",
      first_non_empty(
          {data.host_ipv4, v.get("FreeSWITCH-IPv4"), v.get("sip_local_network_addr"), v.get("local_media_ip")}));
  // The far end's signalling address.
  put(w, "sip_network_ip", network_ip);
  put(w, "local_rtp_ip", first_non_empty({sdp_connection_address(local_sdp), v.get("local_media_ip")}));
  put(w, "remote_rtp_ip", first_non_empty({sdp_connection_address(remote_sdp), v.get("remote_media_ip")}));
}

// A variable as a JSON integer, when it holds a decimal one in [min, max].
void put_bounded_int(JsonWriter& w, std::string_view name, std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  if (parse_uint(text, &value) && value >= min && value <= max) put_int(w, name, value);
}

// The transfers of the leg: transfer_history's entries, the REFER target,
// the Diversion headers.
void put_transfers(JsonWriter& w, const ChannelVariables& v, const std::vector<std::string_view>& diverted) {
  const std::vector<TransferEntry> entries = parse_transfer_history(v.get("transfer_history"));
  const std::string_view refer_to = v.get("sip_refer_to");
  if (entries.empty() && refer_to.empty() && diverted.empty()) return;
  put_key(w, "transfer");
  w.StartArray();
  for (const TransferEntry& e : entries) {
    w.StartObject();
    if (e.epoch > 0 && e.epoch <= kLastUepoch / kMicrosPerSecond) {
      put(w, "time", iso8601(e.epoch * kMicrosPerSecond).view());
    }
    put(w, "uuid", e.uuid);
    put(w, "kind", e.kind);
    put(w, "destination", e.destination);
    w.EndObject();
  }
  const auto put_other = [&](std::string_view kind, std::string_view destination) {
    w.StartObject();
    put(w, "kind", kind);
    put(w, "destination", destination);
    w.EndObject();
  };
  if (!refer_to.empty()) put_other("refer", refer_to);
  for (std::string_view d : diverted) put_other("diversion", d);
  w.EndArray();
}

// caller_e164, callee_e164 and the callee's destination, read in the
// account's region. Numbers that are no possible number leave them out.
void put_numbers(JsonWriter& w, const NumberRules& rules, const std::string& account_id, std::string_view caller,
                 std::string_view callee) {
  const std::string& region = rules.region_for(account_id);
  put(w, "caller_e164", e164_number(caller, region));
  NumberInfo info;
  if (!describe_number(callee, region, &info)) return;
  put(w, "callee_e164", info.e164);
  put_key(w, "destination");
  w.StartObject();
  put(w, "name", info.country_name);
  put(w, "country", info.country);
  put(w, "type", info.type);
  w.EndObject();
}

void put_related_call_ids(JsonWriter& w, const ChannelData& data, std::string_view call_id) {
  const std::vector<std::string_view> ids = related_call_ids(data, call_id);
  if (ids.empty()) return;
  // Uuids are ASCII: the list is written as it is, sorted and unique already.
  if (std::all_of(ids.begin(), ids.end(),
                  [](std::string_view id) { return byte_scan::ascii_run(id.data(), id.size()) == id.size(); })) {
    put_key(w, "related_call_ids");
    w.StartArray();
    for (std::string_view id : ids) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.EndArray();
    return;
  }
  // Otherwise made valid UTF-8 first, so that the list stays sorted and unique as stored.
  std::vector<std::string> clean;
  clean.reserve(ids.size());
  for (std::string_view id : ids) {
    std::string storage;
    clean.emplace_back(valid_utf8(id, &storage));
  }
  std::sort(clean.begin(), clean.end());
  clean.erase(std::unique(clean.begin(), clean.end()), clean.end());
  put_key(w, "related_call_ids");
  w.StartArray();
  for (const std::string& id : clean) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  w.EndArray();
}

// The leg's recording: a variable that holds its URL, else the template.
void put_recording_url(JsonWriter& w, const ChannelVariables& v, const RecordingRules& rules) {
  for (const std::string& name : rules.variables) {
    const std::string_view value = v.get(name);
    if (!value.empty()) {
      put(w, "recording_url", value);
      return;
    }
  }
  std::string url;
  if (!rules.url_template.empty() && expand_url_template(rules.url_template, v, &url)) put(w, "recording_url", url);
}

// The SIP transport in lower case (sofia writes sip_via_protocol as seen in the Via: UDP, tcp...).
void put_transport(JsonWriter& w, std::string_view protocol) {
  if (protocol.empty()) return;
  std::string lower(protocol);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  put(w, "sip_transport", lower);
}

}  // namespace

bool build_canonical_record(const ChannelData& data, const NormalizeOptions& options, const RecordSource& source,
                            std::string_view uuid_param, std::string* json, NormalizeError* error) {
  const ChannelVariables& v = data.variables;
  const std::string_view call_id = v.get("uuid");
  if (call_id.empty()) return fail(error, "missing_field", std::string(source.variable_path) + "uuid is missing");
  Timing t;
  if (!read_timing(data, source, &t, error)) return false;
  const std::string account_id = resolve_account(v, options.accounts);
  if (account_id.empty()) {
    return fail(error, "missing_field",
                "account_id: no account variable, no SIP domain and no default account is configured");
  }

  // Timing: FreeSWITCH's *sec variables are differences of floored epoch
  // seconds; they are recomputed here from the *_uepoch values with the same
  // formulas (switch_channel_set_timestamps), so they equal the CDR's own
  // `duration`/`progresssec` and also exist for sources that lack them.
  // Billing rounds the millisecond difference up, as cdr-fields.md asks.
  const bool answered = t.answer > 0;
  const int64_t duration = t.end / kMicrosPerSecond - t.start / kMicrosPerSecond;
  const int64_t billmsec = answered ? std::max<int64_t>(0, t.end / 1000 - t.answer / 1000) : 0;
  const int64_t billing = (billmsec + 999) / 1000;
  const int64_t ringing =
      t.progress > 0 ? std::max<int64_t>(0, t.progress / kMicrosPerSecond - t.start / kMicrosPerSecond) : 0;

  const bool a_leg_marked = starts_with(uuid_param, "a_");
  const bool originated =
      data.other_leg_is_originator || !v.get("originating_leg_uuid").empty() || !v.get("originator").empty();
  const bool b_leg = originated && !a_leg_marked;
  const std::string_view cause = hangup_cause(v);

  // One buffer per thread, reused: growing a new one a few times a record
  // cost more than writing into it.
  thread_local RecordBuffer buffer;
  buffer.Clear();
  JsonWriter w(buffer);
  w.StartObject();
  put_record_id(w, t.start, call_id);
  put(w, "call_id", call_id);
  put(w, "account_id", account_id);
  put_int(w, "timestamp", t.end / kMicrosPerSecond + kGregorianToUnixSeconds);
  put_int(w, "channel_created_time", t.start);
  put(w, "started_at", iso8601(t.start).view());
  // Ringing began at progress (180), else at early media (183).
  const int64_t rang = t.progress > 0 ? t.progress : optional_uepoch(v.get("progress_media_uepoch"), 0);
  if (rang > 0) put(w, "rang_at", iso8601(rang).view());
  if (answered) put(w, "answered_at", iso8601(t.answer).view());
  put(w, "ended_at", iso8601(t.end).view());
  put_int(w, "duration_seconds", duration);
  put_int(w, "billing_seconds", billing);
  put_int(w, "ringing_seconds", ringing);
  put(w, "billing_status", billing_status(cause, v.get("hangup_cause"), answered, billmsec));
  put(w, "leg", b_leg ? "B" : "A");
  put(w, "call_direction", first_non_empty({v.get("direction"), data.direction, data.caller.direction}));

  put(w, "caller_id_name", first_non_empty({data.caller.caller_id_name, v.get("caller_id_name")}));
  const std::string_view caller_number = first_non_empty({data.caller.caller_id_number, v.get("caller_id_number")});
  put(w, "caller_id_number", caller_number);
  const std::string_view destination = first_non_empty({data.caller.destination_number, v.get("destination_number")});
  put(w, "callee_id_name", first_non_empty({data.caller.callee_id_name, v.get("callee_id_name"), destination}));
  const std::string_view callee_number =
      first_non_empty({data.caller.callee_id_number, v.get("callee_id_number"), destination});
  put(w, "callee_id_number", callee_number);
  put_numbers(w, options.numbers, account_id, caller_number, callee_number);

  put(w, "hangup_cause", cause);
  put(w, "hangup_code", first_of(v, {"proto_specific_hangup_cause", "last_bridge_proto_specific_hangup_cause"}));
  put(w, "disposition", first_of(v, {"originate_disposition", "endpoint_disposition"}));
  put(w, "sip_term_status", v.get("sip_term_status"));
  put(w, "sip_term_phrase", first_of(v, {"sip_hangup_phrase", "sip_invite_failure_phrase"}));
  put(w, "hangup_disposition", v.get("sip_hangup_disposition"));
  put_bounded_int(w, "hangup_cause_q850", v.get("hangup_cause_q850"), 0, 255);
  put(w, "sip_call_id", v.get("sip_call_id"));

  put(w, "other_leg_call_id", other_leg_call_id(data, call_id));
  put(w, "other_leg_caller_id_name", data.other_leg.caller_id_name);
  put(w, "other_leg_caller_id_number", data.other_leg.caller_id_number);
  put(w, "other_leg_destination_number", data.other_leg.destination_number);
  put(w, "other_leg_direction", data.other_leg.direction);
  put(w, "interaction_id", interaction_id(data, call_id, b_leg));
  put_related_call_ids(w, data, call_id);
  // The SIP header variables, for the transfers (Diversion) and custom_sip_headers.
  const std::vector<ChannelVariables::Entry> sip_h = v.with_prefix("sip_h_");
  const std::vector<ChannelVariables::Entry> sip_rh = v.with_prefix("sip_rh_");
  const std::vector<ChannelVariables::Entry> sip_i = v.with_prefix("sip_i_");
  put_transfers(w, v, diversions(sip_i, sip_h, sip_rh));

  put_address(w, "from", v.get("sip_from_user"), v.get("sip_from_host"));
  put_address(w, "to", v.get("sip_to_user"), v.get("sip_to_host"));
  put_address(w, "request", v.get("sip_req_user"), v.get("sip_req_host"));
  put(w, "from_uri", v.get("sip_from_uri"));
  put(w, "to_uri", v.get("sip_to_uri"));
  put(w, "from_tag", v.get("sip_from_tag"));
  put(w, "to_tag", v.get("sip_to_tag"));
  put(w, "user_agent", v.get("sip_user_agent"));
  // sip_local_sdp_str is the name FreeSWITCH used before rtp_local_sdp_str (1.4).
  const std::string_view local_sdp = first_of(v, {"rtp_local_sdp_str", "sip_local_sdp_str"});
  const std::string_view remote_sdp = v.get("switch_r_sdp");
  put(w, "local_sdp", local_sdp);
  put(w, "remote_sdp", remote_sdp);
  const std::string_view network_ip = first_of(v, {"sip_network_ip", "sip_received_ip"});
  put_addresses(w, data, network_ip, local_sdp, remote_sdp);
  put_bounded_int(w, "sip_network_port", first_of(v, {"sip_network_port", "sip_received_port"}), 1, 65535);
  put_transport(w, v.get("sip_via_protocol"));
  put(w, "trunk", find_trunk(v, options.trunks, network_ip));
  put(w, "accountcode", v.get("accountcode"));
  put(w, "answered_by", answered_by(v));
  put_recording_url(w, v, options.recording);
  put(w, "digits_dialed", v.get("digits_dialed"));
  put(w, "presence_id", v.get("presence_id"));
  put_fax(w, v);

  put(w, "media_server", first_non_empty({data.switchname, v.get("switchname"), v.get("FreeSWITCH-Hostname")}));
  put(w, "node", options.node);
  // The platform's names (Kazoo's App-Name / App-Version carried as channel
  // variables) when it set them; otherwise cdrd made the record.
  const std::string_view platform_app = v.get("ecallmgr_App-Name");
  if (!platform_app.empty()) {
    put(w, "app_name", platform_app);
    put(w, "app_version", v.get("ecallmgr_App-Version"));
  } else {
    put(w, "app_name", "cdrd");
    put(w, "app_version", options.app_version);
  }
  put(w, "source", source.name);
  if (is_true(v.get("is_loopback")) || starts_with(v.get("channel_name"), "loopback/")) {
    put_key(w, "is_loopback");
    w.Bool(true);
  }
  // mod_loopback names the other half of the pair, so billing can skip internal halves.
  put(w, "other_loopback_leg_uuid", v.get("other_loopback_leg_uuid"));

  put_custom_channel_vars(w, v, account_id);
  put_prefixed(w, "custom_sip_headers", {{"sip_h_", &sip_h}, {"sip_rh_", &sip_rh}, {"sip_i_", &sip_i}});
  const std::vector<ChannelVariables::Entry> cav = v.with_prefix("cav_");
  put_prefixed(w, "custom_application_vars", {{"cav_", &cav}});
  w.EndObject();

  json->assign(buffer.GetString(), buffer.GetSize());
  // A huge document (a fuzzer's) must not pin its buffer to the thread.
  constexpr size_t kKeptBufferBytes = size_t{1} << 20;
  if (buffer.GetSize() > kKeptBufferBytes) {
    buffer.Clear();
    buffer.ShrinkToFit();
  }
  return true;
}

NormalizeResult normalized_record(const ChannelData& data, const NormalizeOptions& options, const RecordSource& source,
                                  std::string_view uuid_param, std::string_view raw, std::string_view raw_format) {
  NormalizeResult result;
  if (build_canonical_record(data, options, source, uuid_param, &result.record.json, &result.error)) {
    result.record.raw.assign(raw);
    result.record.raw_format.assign(raw_format);
  }
  return result;
}

}  // namespace cdrd
