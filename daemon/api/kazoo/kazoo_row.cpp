#include "daemon/api/kazoo/kazoo_row.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <optional>
#include <stdexcept>

#include "daemon/api/api_request.h"
#include "daemon/api/record_view.h"
#include "daemon/rating/decimal.h"
#include "daemon/rating/kazoo_cost.h"
#include "daemon/rating/rating_time.h"

namespace cdrd {
namespace {

// One cell: text, an integer (duration_seconds, billing_seconds when the
// record has them), or a list of text (media_recordings).
struct Cell {
  enum class Kind { kText, kInteger, kList };
  Kind kind = Kind::kText;
  std::string text;
  int64_t integer = 0;
  std::vector<std::string> list;
};

Cell text_cell(std::optional<std::string_view> v) {
  return Cell{Cell::Kind::kText, std::string(v.value_or("")), 0, {}};
}
Cell text_cell(std::string v) { return Cell{Cell::Kind::kText, std::move(v), 0, {}}; }

// What every column reads: the record and Kazoo's start of the call.
struct Row {
  const RecordView& r;
  int64_t start_gregorian;
  const KazooRowOptions& options;

  std::optional<std::string_view> ccv(const char* name) const { return r.sub_str("custom_channel_vars", name); }
  int64_t start_unix() const { return start_gregorian - kGregorianUnixOffset; }
};

// kzd_cdrs getters with <<>> as the default: the member, "" when absent.
Cell field(const Row& row, const char* name) { return text_cell(row.r.str(name)); }

Cell integer_field(const Row& row, const char* name) {
  if (const auto v = row.r.integer(name)) return Cell{Cell::Kind::kInteger, "", *v, {}};
  return text_cell(std::string());
}

// The part of a SIP user@host before the '@' (binary:split(X, <<"@">>)).
std::string user_part(std::optional<std::string_view> v) {
  const std::string_view s = v.value_or("");
  return std::string(s.substr(0, s.find('@')));
}

// cb_cdrs:customer_cost/1 in Kazoo's units (1/10000), as text. cdrd's own
// customer rating first (the charge in units, cut toward zero as Kazoo's
// trunc/1 does); else Kazoo's cost from its channel variables
// (rating.kazoo_cost), counted only for account_billing per_minute as
// Kazoo does; else "0".
std::string cost(const Row& row) {
  if (const auto charge = row.r.rating_money("customer", "charge")) {
    const auto value = Decimal::parse(*charge);
    const mpq_class units = value->value() * kKazooUnitsPerDollar;
    return round_to_integer(units, RoundMode::kTowardZero).get_str();
  }
  const rapidjson::Value& doc = row.r.doc();
  const auto rating = doc.FindMember("rating");
  if (rating != doc.MemberEnd() && rating->value.IsObject() && row.ccv("account_billing") == "per_minute") {
    const auto kazoo = rating->value.FindMember("kazoo_cost");
    if (kazoo != rating->value.MemberEnd() && kazoo->value.IsInt64()) return std::to_string(kazoo->value.GetInt64());
  }
  return "0";
}

// cb_cdrs:col_rate/3: the rate per minute in dollars with at least one
// decimal place (Erlang's float text: "0.0", "0.02"). cdrd's customer rating
// first (the rate the call was charged at), else the channel's Rate
// variable (dollars as text, kazoo_cost.h), else "0.0".
std::string rate(const Row& row) {
  if (auto charged = row.r.rating_rate_per_minute("customer")) return *with_decimal_point(std::move(charged));
  if (const auto var = row.ccv("rate")) {
    if (const auto value = Decimal::parse(*var)) return *with_decimal_point(value->to_string());
    return std::string(*var);
  }
  return "0.0";
}

std::string rate_name(const Row& row) {
  if (const auto name = row.r.rating_str("customer", "name")) return std::string(*name);
  return std::string(row.ccv("rate_name").value_or(""));
}

// cb_cdrs:col_authorizing_id/3: "" when the authorizing id is the account.
std::string authorizing_id(const Row& row) {
  const std::string_view account = row.ccv("account_id").value_or("");
  const std::string_view authorizing = row.ccv("authorizing_id").value_or("");
  return account == authorizing ? std::string() : std::string(authorizing);
}

std::string dialed_number(const Row& row) {
  if (row.r.is("call_direction", "inbound")) return user_part(row.r.str("request"));
  if (row.r.is("call_direction", "outbound")) return user_part(row.r.str("to"));
  return {};
}

std::string calling_from(const Row& row) {
  if (row.r.is("call_direction", "inbound")) return std::string(row.r.str("caller_id_number").value_or(""));
  if (row.r.is("call_direction", "outbound")) return user_part(row.r.str("from_uri"));
  return {};
}

// cb_cdrs:col_pretty_print/3: "YYYY-MM-DD HH:MM:SS" of the start plus the offset.
std::string datetime(const Row& row) {
  const int64_t unix = row.start_unix();
  return format_utc(unix + utc_offset_at(row.options.zone, unix), UtcFormat::kDateTime);
}

Cell media_recordings(const Row& row) {
  Cell cell{Cell::Kind::kList, "", 0, {}};
  if (const auto v = row.ccv("media_recordings")) cell.list.emplace_back(*v);
  return cell;
}

// cb_cdrs:col_inception_direction/3.
std::string inception_direction(const Row& row) {
  if (row.options.user_path) {
    if (row.r.is("call_direction", "inbound")) return "origination";
    if (row.r.is("call_direction", "outbound")) return "termination";
    return {};
  }
  return row.ccv("authorizing_id") ? "origination" : "termination";
}

using ColumnFn = Cell (*)(const Row&);
struct Column {
  std::string_view name;
  ColumnFn fn;
};

const Column kColumns[] = {
    {"id", [](const Row& row) { return field(row, "id"); }},
    {"call_id", [](const Row& row) { return field(row, "call_id"); }},
    {"caller_id_number", [](const Row& row) { return field(row, "caller_id_number"); }},
    {"caller_id_name", [](const Row& row) { return field(row, "caller_id_name"); }},
    {"callee_id_number", [](const Row& row) { return field(row, "callee_id_number"); }},
    {"callee_id_name", [](const Row& row) { return field(row, "callee_id_name"); }},
    {"duration_seconds", [](const Row& row) { return integer_field(row, "duration_seconds"); }},
    {"billing_seconds", [](const Row& row) { return integer_field(row, "billing_seconds"); }},
    {"timestamp", [](const Row& row) { return text_cell(std::to_string(row.start_gregorian)); }},
    {"hangup_cause", [](const Row& row) { return field(row, "hangup_cause"); }},
    {"disposition", [](const Row& row) { return field(row, "disposition"); }},
    {"other_leg_call_id", [](const Row& row) { return field(row, "other_leg_call_id"); }},
    {"owner_id", [](const Row& row) { return text_cell(row.ccv("owner_id")); }},
    {"to", [](const Row& row) { return field(row, "to"); }},
    {"from", [](const Row& row) { return field(row, "from"); }},
    {"direction", [](const Row& row) { return field(row, "call_direction"); }},
    {"request", [](const Row& row) { return field(row, "request"); }},
    {"authorizing_id", [](const Row& row) { return text_cell(authorizing_id(row)); }},
    {"cost", [](const Row& row) { return text_cell(cost(row)); }},
    {"dialed_number", [](const Row& row) { return text_cell(dialed_number(row)); }},
    {"calling_from", [](const Row& row) { return text_cell(calling_from(row)); }},
    {"datetime", [](const Row& row) { return text_cell(datetime(row)); }},
    {"unix_timestamp", [](const Row& row) { return text_cell(std::to_string(row.start_unix())); }},
    {"rfc_1036", [](const Row& row) { return text_cell(format_utc(row.start_unix(), UtcFormat::kRfc1036)); }},
    {"iso_8601", [](const Row& row) { return text_cell(format_utc(row.start_unix(), UtcFormat::kDate)); }},
    {"iso_8601_combined", [](const Row& row) { return text_cell(format_utc(row.start_unix(), UtcFormat::kIso)); }},
    {"call_type", [](const Row& row) { return text_cell(row.ccv("account_billing")); }},
    {"rate", [](const Row& row) { return text_cell(rate(row)); }},
    {"rate_name", [](const Row& row) { return text_cell(rate_name(row)); }},
    {"bridge_id", [](const Row& row) { return text_cell(row.ccv("bridge_id")); }},
    {"recording_url", [](const Row& row) { return field(row, "recording_url"); }},
    {"media_recordings", media_recordings},
    {"media_server", [](const Row& row) { return field(row, "media_server"); }},
    {"call_priority", [](const Row& row) { return text_cell(row.ccv("call_priority")); }},
    {"interaction_id", [](const Row& row) { return field(row, "interaction_id"); }},
};
const Column kInceptionDirection = {"inception_direction",
                                    [](const Row& row) { return text_cell(inception_direction(row)); }};

// Kazoo's Timestamp: kzd_cdrs:timestamp(JObj, 0) - kzd_cdrs:duration_seconds(JObj, 0).
int64_t start_of(const RecordView& r) {
  return r.integer("timestamp").value_or(0) - r.integer("duration_seconds").value_or(0);
}

template <typename Fn>
void for_each_cell(const RecordView& r, const KazooRowOptions& options, Fn&& fn) {
  const Row row{r, start_of(r), options};
  for (const Column& c : kColumns) fn(c.name, c.fn(row));
  if (options.interaction) fn(kInceptionDirection.name, kInceptionDirection.fn(row));
}

// kz_csv:cell_to_binary/1: quoted, inner quotes doubled.
void append_csv_cell(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::vector<std::string_view> kazoo_row_columns(const KazooRowOptions& options) {
  std::vector<std::string_view> names;
  for (const Column& c : kColumns) names.push_back(c.name);
  if (options.interaction) names.push_back(kInceptionDirection.name);
  return names;
}

namespace {

std::string row_json(const RecordView& record, const KazooRowOptions& options) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  for_each_cell(record, options, [&w](std::string_view name, const Cell& cell) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    switch (cell.kind) {
      case Cell::Kind::kText:
        w.String(cell.text);
        break;
      case Cell::Kind::kInteger:
        w.Int64(cell.integer);
        break;
      case Cell::Kind::kList:
        w.StartArray();
        for (const std::string& item : cell.list) w.String(item);
        w.EndArray();
        break;
    }
  });
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

void append_csv_row(const RecordView& record, const KazooRowOptions& options, std::string* out) {
  bool first = true;
  for_each_cell(record, options, [&](std::string_view, const Cell& cell) {
    if (!first) out->push_back(',');
    first = false;
    switch (cell.kind) {
      case Cell::Kind::kText:
        append_csv_cell(cell.text, out);
        break;
      case Cell::Kind::kInteger:
        append_csv_cell(std::to_string(cell.integer), out);
        break;
      case Cell::Kind::kList: {
        std::string joined;
        for (const std::string& item : cell.list) joined += (joined.empty() ? "" : ",") + item;
        append_csv_cell(joined, out);
        break;
      }
    }
  });
  out->push_back('\n');
}

}  // namespace

std::string kazoo_row_json(std::string_view record, const KazooRowOptions& options) {
  return row_json(RecordView(record, "the stored record"), options);
}

std::string kazoo_row_json(std::string* record, const KazooRowOptions& options) {
  return row_json(RecordView(record, "the stored record"), options);
}

std::string kazoo_csv_header(const KazooRowOptions& options) {
  std::string out;
  for (const std::string_view name : kazoo_row_columns(options)) {
    if (!out.empty()) out.push_back(',');
    append_csv_cell(name == "id" ? "ID" : name, &out);
  }
  out.push_back('\n');
  return out;
}

void append_kazoo_csv_row(std::string_view record, const KazooRowOptions& options, std::string* out) {
  append_csv_row(RecordView(record, "the stored record"), options, out);
}

void append_kazoo_csv_row(std::string* record, const KazooRowOptions& options, std::string* out) {
  append_csv_row(RecordView(record, "the stored record"), options, out);
}

std::string localize_record(std::string_view record, const ZoneChoice& zone) {
  if (zone.kind == ZoneChoice::Kind::kUtc) return std::string(record);
  rapidjson::Document doc;
  doc.Parse(record.data(), record.size());
  if (doc.HasParseError() || !doc.IsObject()) throw std::invalid_argument("the stored record is no JSON object");
  for (const char* name : {"started_at", "answered_at", "ended_at", "rang_at"}) {
    const auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) continue;
    const auto us = parse_iso_time_us(std::string_view(it->value.GetString(), it->value.GetStringLength()));
    if (!us) continue;
    it->value.SetString(format_local_iso(*us, zone, 6), doc.GetAllocator());
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string kazoo_csv_file_name(const std::string& header_value, const std::string& parameter_value) {
  std::string name = !header_value.empty() ? header_value : parameter_value;
  const size_t slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty()) return "result.csv";
  for (char& c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u == 0x7f) c = '_';
  }
  return name;
}

}  // namespace cdrd
