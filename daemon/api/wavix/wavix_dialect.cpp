// Wavix's routes: the path, the credential, the account and the parameters
// are checked on the loop thread; the rows are read and the body written on
// a read-pool thread (ApiService::submit / stream).
#include "daemon/api/wavix/wavix_dialect.h"

#include <event2/http.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/api/api_access.h"
#include "daemon/api/api_query.h"
#include "daemon/api/api_service.h"
#include "daemon/api/api_settings.h"
#include "daemon/api/call_row_source.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/record_view.h"
#include "daemon/api/wavix/wavix_cdr.h"
#include "daemon/api/wavix/wavix_query.h"
#include "daemon/auth/token_signer.h"
#include "daemon/core/metrics.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/stream_reply.h"

namespace cdrd {
namespace {

constexpr std::string_view kPrefix = "/v1/cdr";
// Calls per statement of an export: each its own short statement (so
// statement_timeout bounds each one); ~1 KB a call in memory.
constexpr int64_t kExportBatch = 500;
// Bytes gathered before they are handed to the loop as one HTTP chunk.
constexpr size_t kChunkBytes = 64U << 10;

// The CDR object's keys in its order (wavix_cdr.h): the CSV's columns.
constexpr std::array<const char*, 14> kCsvColumns = {
    "date",          "from",   "to",        "disposition", "duration", "destination", "per_minute",
    "recording_url", "charge", "sip_trunk", "forward_fee", "uuid",     "parent_uuid", "answered_by"};

ApiError bad_parameter(const std::string& message) { return {400, "invalid_parameter", message}; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string uri_decoded(const std::string& segment) {
  size_t n = 0;
  char* decoded = evhttp_uridecode(segment.c_str(), 0, &n);
  std::string out = decoded != nullptr ? std::string(decoded, n) : segment;
  free(decoded);
  return out;
}

// RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled.
void append_csv_cell(std::string_view cell, std::string* out) {
  if (cell.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(cell);
    return;
  }
  out->push_back('"');
  for (const char c : cell) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

std::string csv_header() {
  std::string out;
  for (const char* column : kCsvColumns) {
    if (!out.empty()) out.push_back(',');
    out += column;
  }
  return out + "\r\n";
}

// One CDR object as a CSV line: strings as they are, integers as digits,
// null as an empty cell.
void append_csv_row(const std::string& object_json, std::string* out) {
  rapidjson::Document doc;
  doc.Parse(object_json.c_str(), object_json.size());
  bool first = true;
  for (const char* column : kCsvColumns) {
    if (!first) out->push_back(',');
    first = false;
    const auto it = doc.FindMember(column);
    if (it == doc.MemberEnd() || it->value.IsNull()) continue;
    if (it->value.IsString()) {
      append_csv_cell(std::string_view(it->value.GetString(), it->value.GetStringLength()), out);
    } else if (it->value.IsInt64()) {
      *out += std::to_string(it->value.GetInt64());
    }
  }
  *out += "\r\n";
}

std::string cdr_json(const CallRow& row, std::string_view uuid) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  write_wavix_cdr(w, row, uuid);
  return {sb.GetString(), sb.GetSize()};
}

std::string list_json(const CallPage& page, const WavixListQuery& q) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (const CallRow& row : page.rows) write_wavix_cdr(w, row);
  w.EndArray();
  w.Key("pagination");
  w.StartObject();
  w.Key("current_page");
  w.Int64(q.page);
  w.Key("per_page");
  w.Int64(q.per_page);
  w.Key("total");
  w.Int64(page.total);
  w.Key("total_pages");
  w.Int64((page.total + q.per_page - 1) / q.per_page);
  w.EndObject();
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

// The root's custom_channel_vars.owner_id is `owner` (a user token's restriction).
bool owned_by(const CallRow& row, const std::string& owner) {
  const RecordView root(row.root, "CallRow.root");
  return root.sub_str("custom_channel_vars", "owner_id") == owner;
}

struct ExportPlan {
  RowWindow window;
  bool csv = false;
};

// Read-pool thread: the whole window in offset batches, oldest first (rows
// that arrive meanwhile land after the rows already sent, so the offsets
// of what was sent stay put). Headers go out once the first batch was read,
// so an error before that is still a plain error reply.
bool produce_export(CdrStore& store, const ExportPlan& plan, StreamReply& out, Metrics* metrics) {
  RowWindow window = plan.window;
  window.order_by = "c.ts, c.id";
  window.offset = 0;
  window.limit = kExportBatch;
  auto send = [&out](const std::string& text) {
    for (size_t at = 0; at < text.size(); at += kChunkBytes) {
      if (!out.write(text.substr(at, kChunkBytes))) return false;
    }
    return true;
  };
  for (;;) {
    if (out.cancelled()) return false;
    const CallPage page = store.run([&](pqxx::connection& conn) { return list_calls(conn, window, false); });
    std::string text;
    if (!out.started()) {
      if (plan.csv) {
        out.start(200, {{"Content-Type", "text/csv; charset=utf-8"},
                        {"Content-Disposition", "attachment; filename=\"cdr.csv\""}});
        text = csv_header();
      } else {
        out.start(200, {{"Content-Type", "application/x-ndjson"}});
      }
    }
    for (const CallRow& row : page.rows) {
      if (plan.csv) {
        append_csv_row(cdr_json(row, {}), &text);
      } else {
        text += cdr_json(row, {});
        text.push_back('\n');
      }
    }
    metrics->api_export_rows.fetch_add(page.rows.size(), std::memory_order_relaxed);
    if (!send(text)) return false;
    if (static_cast<int64_t>(page.rows.size()) < kExportBatch) return true;
    window.offset += kExportBatch;
  }
}

// The account the request reads (see wavix_dialect.h); false with *err.
bool choose_account(const ApiSettings& settings, const std::string& credential, const ApiParams& params,
                    std::string* account_id, ApiError* err) {
  if (const auto it = params.find("account_id"); it != params.end()) {
    if (it->second.empty()) {
      *err = bad_parameter("account_id: must not be empty");
      return false;
    }
    *account_id = it->second;
    return true;
  }
  const auto accounts = credential_accounts(settings, credential, unix_now());
  if (accounts && accounts->size() == 1 && accounts->front() != "*") {
    *account_id = accounts->front();
    return true;
  }
  if (!accounts || accounts->empty()) {
    // No, a bad, or a stored credential: authorize_account() says which.
    ApiGrant grant;
    if (!authorize_account(settings, credential, "", &grant, err)) return false;
  }
  *err = bad_parameter(
      "account_id: required: these credentials may read several accounts (or are a stored API key, whose accounts are "
      "looked up later); name the account with account_id");
  return false;
}

}  // namespace

std::string wavix_error_body(const std::string& message) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("success");
  w.Bool(false);
  w.Key("message");
  w.String(message);
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

std::unique_ptr<ApiDialect> make_wavix_dialect() { return std::make_unique<WavixDialect>(); }

RouteReply WavixDialect::error_reply(const ApiError& error, const std::string& /*request_id*/) const {
  RouteReply reply;
  reply.status = error.status;
  reply.body = wavix_error_body(error.message);
  return reply;
}

bool WavixDialect::handle(ApiService& service, const ApiCall& call) {
  const std::string& path = call.path;
  if (path.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  std::string rest = path.substr(kPrefix.size());
  if (!rest.empty() && rest[0] != '/') return false;  // /v1/cdrs, /v1/cdrx: not ours
  if (!rest.empty()) rest.erase(0, 1);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  evhttp_request* req = call.req;
  const std::string& request_id = call.request_id;
  if (rest.find('/') != std::string::npos) {
    service.fail(*this, req, request_id, {404, "not_found", "no route for " + path});
    return true;
  }
  if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
    service.fail(*this, req, request_id, {405, "method_not_allowed", "use GET for " + path});
    return true;
  }
  ApiParams params;
  if (const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
    if (!parse_api_query_string(q, &params)) {
      service.fail(*this, req, request_id, bad_parameter("the query string is malformed"));
      return true;
    }
  }
  std::string credential = request_credential(req, params);
  if (credential.empty()) {
    if (const auto it = params.find("appid"); it != params.end()) credential = it->second;
  }
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  std::string account_id;
  ApiError err;
  ApiGrant grant;
  if (!choose_account(*settings, credential, params, &account_id, &err) ||
      !authorize_account(*settings, credential, account_id, &grant, &err)) {
    service.fail(*this, req, request_id, err);
    return true;
  }
  const std::string owner = grant.owner_id();

  const bool is_list = rest.empty();
  const bool is_export = rest == "all";
  if (!is_list && !is_export) {
    const std::string uuid = uri_decoded(rest);
    if (const auto it = params.find("show_transcription");
        it != params.end() && it->second != "true" && it->second != "false") {
      service.fail(*this, req, request_id,
                   bad_parameter("show_transcription: expected true or false, got '" + it->second + "'"));
      return true;
    }
    service.submit(*this, req, request_id, grant, [this, account_id, uuid, owner](CdrStore& store) {
      std::optional<CallRow> row =
          store.run([&](pqxx::connection& conn) { return call_by_leg_uuid(conn, account_id, uuid); });
      if (row && !owner.empty() && !owned_by(*row, owner)) row.reset();
      if (!row) return error_reply({404, "not_found", "no CDR with uuid " + uuid}, "");
      RouteReply reply;
      reply.body = cdr_json(*row, uuid);
      return reply;
    });
    return true;
  }

  WavixListQuery query;
  std::string message;
  if (!parse_wavix_list_query(params, &query, &message)) {
    service.fail(*this, req, request_id, bad_parameter(message));
    return true;
  }
  query.window.account_id = account_id;
  if (!owner.empty()) query.window.conditions.push_back({kWavixOwnerSql, RowCondition::Op::kEq, {owner}, ""});
  if (is_export) {
    auto plan = std::make_shared<ExportPlan>();
    plan->window = std::move(query.window);
    plan->csv = lower(request_header(req, "Accept")).find("text/csv") != std::string::npos;
    Metrics* metrics = service.metrics();
    service.stream(*this, req, request_id, grant, [plan, metrics](CdrStore& store, StreamReply& out) {
      return produce_export(store, *plan, out, metrics);
    });
    return true;
  }
  service.submit(*this, req, request_id, grant, [query = std::move(query)](CdrStore& store) {
    const CallPage page = store.run([&](pqxx::connection& conn) { return list_calls(conn, query.window); });
    RouteReply reply;
    reply.body = list_json(page, query);
    return reply;
  });
  return true;
}

}  // namespace cdrd
