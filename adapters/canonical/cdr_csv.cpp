// The CSV form of canonical records (see cdr_csv.h). One column table serves
// the export and the import, so what is exported imports back unchanged.
#include "adapters/canonical/cdr_csv.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdlib>
#include <set>
#include <unordered_map>

namespace cdrd {
namespace {

using Type = CsvColumn::Type;

// ARCHITECTURE.md "Canonical record" order; the fields derived from the SIP
// and SDP data (media_server_ip .. remote_rtp_ip), then the billing details
// (rang_at .. related_call_ids), then what the writer adds per call
// (direction_class, rating) come last so a newer column never moves an
// older one. Objects and lists are their JSON text, as custom_channel_vars
// always was: one cell that imports back to the same value.
const std::vector<CsvColumn> kColumns = {
    {"id", Type::kString},
    {"call_id", Type::kString},
    {"account_id", Type::kString},
    {"timestamp", Type::kInteger},
    {"channel_created_time", Type::kInteger},
    {"duration_seconds", Type::kInteger},
    {"billing_seconds", Type::kInteger},
    {"ringing_seconds", Type::kInteger},
    {"call_direction", Type::kString},
    {"caller_id_name", Type::kString},
    {"caller_id_number", Type::kString},
    {"callee_id_name", Type::kString},
    {"callee_id_number", Type::kString},
    {"hangup_cause", Type::kString},
    {"hangup_code", Type::kString},
    {"disposition", Type::kString},
    {"other_leg_call_id", Type::kString},
    {"interaction_id", Type::kString},
    {"from", Type::kString},
    {"to", Type::kString},
    {"request", Type::kString},
    {"from_uri", Type::kString},
    {"to_uri", Type::kString},
    {"from_tag", Type::kString},
    {"to_tag", Type::kString},
    {"user_agent", Type::kString},
    {"local_sdp", Type::kString},
    {"remote_sdp", Type::kString},
    {"digits_dialed", Type::kString},
    {"media_server", Type::kString},
    {"node", Type::kString},
    {"presence_id", Type::kString},
    {"app_name", Type::kString},
    {"app_version", Type::kString},
    {"other_leg_caller_id_name", Type::kString},
    {"other_leg_caller_id_number", Type::kString},
    {"other_leg_destination_number", Type::kString},
    {"other_leg_direction", Type::kString},
    {"fax_success", Type::kString},
    {"fax_result_code", Type::kString},
    {"fax_result_text", Type::kString},
    {"fax_ecm_used", Type::kString},
    {"fax_transferred_pages", Type::kString},
    {"fax_total_pages", Type::kString},
    {"fax_bad_rows", Type::kString},
    {"fax_transfer_rate", Type::kString},
    {"custom_channel_vars", Type::kObject},
    {"custom_sip_headers", Type::kObject},
    {"custom_application_vars", Type::kObject},
    {"started_at", Type::kString},
    {"answered_at", Type::kString},
    {"ended_at", Type::kString},
    {"billing_status", Type::kString},
    {"leg", Type::kString},
    {"sip_term_status", Type::kString},
    {"source", Type::kString},
    {"imported", Type::kBoolean},
    {"is_loopback", Type::kBoolean},
    {"media_server_ip", Type::kString},
    {"sip_network_ip", Type::kString},
    {"local_rtp_ip", Type::kString},
    {"remote_rtp_ip", Type::kString},
    {"rang_at", Type::kString},
    {"sip_call_id", Type::kString},
    {"hangup_disposition", Type::kString},
    {"hangup_cause_q850", Type::kInteger},
    {"sip_term_phrase", Type::kString},
    {"sip_network_port", Type::kInteger},
    {"sip_transport", Type::kString},
    {"accountcode", Type::kString},
    {"trunk", Type::kString},
    {"recording_url", Type::kString},
    {"answered_by", Type::kString},
    {"transfer", Type::kList},
    {"caller_e164", Type::kString},
    {"callee_e164", Type::kString},
    {"destination", Type::kObject},
    {"related_call_ids", Type::kList},
    // What the writer adds when it assembles and rates the call: the call's
    // class, and the rating object (customer / vendor / status, money as
    // decimal text), one JSON cell as custom_channel_vars.
    {"direction_class", Type::kString},
    {"rating", Type::kObject},
};

// RFC 4180: a field holding a comma, a quote, CR or LF is quoted, and its
// quotes doubled.
void append_field(std::string_view value, std::string* out) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// The cell of one member, by its JSON type (whatever the column's type, so
// an unexpected value is still exported as it is).
std::string cell_text(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "";
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

const CsvColumn* find_column(std::string_view name) {
  for (const CsvColumn& c : kColumns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool parse_integer(const std::string& text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  // strtoll also takes leading blanks and a '+': an exported cell has neither.
  const bool plain = text[0] == '-' || (text[0] >= '0' && text[0] <= '9');
  if (!plain || errno != 0 || end != text.c_str() + text.size()) return false;
  *out = v;
  return true;
}

}  // namespace

const std::vector<CsvColumn>& cdr_csv_columns() { return kColumns; }

std::string cdr_csv_header() {
  std::string line;
  for (const CsvColumn& c : kColumns) {
    if (!line.empty()) line.push_back(',');
    line.append(c.name);
  }
  line.append("\r\n");
  return line;
}

bool append_cdr_csv_row(std::string_view record_json, std::string* out) {
  // The export calls this for every row: the document lives in a stack
  // buffer (no malloc for a usual record), and each member finds its column
  // once through an index instead of each column searching the members.
  static const std::unordered_map<std::string_view, size_t> kColumnIndex = [] {
    std::unordered_map<std::string_view, size_t> index;
    for (size_t i = 0; i < kColumns.size(); ++i) index.emplace(kColumns[i].name, i);
    return index;
  }();
  char value_buffer[16 << 10];
  char parse_buffer[2 << 10];
  rapidjson::MemoryPoolAllocator<> value_allocator(value_buffer, sizeof(value_buffer));
  rapidjson::MemoryPoolAllocator<> parse_allocator(parse_buffer, sizeof(parse_buffer));
  using StackDocument =
      rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>, rapidjson::MemoryPoolAllocator<>>;
  StackDocument doc(&value_allocator, sizeof(parse_buffer), &parse_allocator);
  doc.Parse(record_json.data(), record_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  std::vector<const rapidjson::Value*> cells(kColumns.size(), nullptr);
  for (const auto& member : doc.GetObject()) {
    const auto it = kColumnIndex.find(std::string_view(member.name.GetString(), member.name.GetStringLength()));
    if (it != kColumnIndex.end()) cells[it->second] = &member.value;
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out->push_back(',');
    const rapidjson::Value* v = cells[i];
    if (!v) continue;
    if (v->IsString()) {
      append_field(std::string_view(v->GetString(), v->GetStringLength()), out);
    } else {
      append_field(cell_text(*v), out);
    }
  }
  out->append("\r\n");
  return true;
}

bool cdr_csv_row_to_json(const std::vector<std::string>& header, const std::vector<std::string>& fields,
                         std::string* record_json, std::string* error) {
  if (fields.size() != header.size()) {
    *error =
        "the row has " + std::to_string(fields.size()) + " fields; the header has " + std::to_string(header.size());
    return false;
  }
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  std::set<std::string_view> seen;
  for (size_t i = 0; i < header.size(); ++i) {
    const CsvColumn* column = find_column(header[i]);
    if (!column) {
      *error = "column '" + header[i] + "' is not a field of the CDR CSV format";
      return false;
    }
    if (!seen.insert(column->name).second) {
      *error = "column '" + header[i] + "' appears twice in the header";
      return false;
    }
    const std::string& text = fields[i];
    if (text.empty()) continue;  // an absent member
    rapidjson::Value name(header[i], alloc);
    switch (column->type) {
      case Type::kString:
        doc.AddMember(name, rapidjson::Value(text, alloc), alloc);
        break;
      case Type::kInteger: {
        int64_t v = 0;
        if (!parse_integer(text, &v)) {
          *error = "column '" + header[i] + "': expected an integer, got '" + text + "'";
          return false;
        }
        doc.AddMember(name, rapidjson::Value(static_cast<int64_t>(v)), alloc);
        break;
      }
      case Type::kBoolean:
        if (text != "true" && text != "false") {
          *error = "column '" + header[i] + "': expected true or false, got '" + text + "'";
          return false;
        }
        // The canonical record carries these flags only when they are true.
        if (text == "true") doc.AddMember(name, rapidjson::Value(true), alloc);
        break;
      case Type::kObject:
      case Type::kList: {
        const bool list = column->type == Type::kList;
        rapidjson::Document value(&alloc);
        value.Parse(text.data(), text.size());
        if (value.HasParseError() || (list ? !value.IsArray() : !value.IsObject())) {
          *error = "column '" + header[i] + "': expected a JSON " + (list ? "list" : "object") + ", got '" + text + "'";
          return false;
        }
        doc.AddMember(name, rapidjson::Value(value, alloc), alloc);
        break;
      }
    }
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc.Accept(w);
  record_json->assign(sb.GetString(), sb.GetSize());
  return true;
}

}  // namespace cdrd
