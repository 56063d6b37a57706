// Read API (Kazoo-compatible): routing, auth and parameter checks run on the
// loop thread; the query and the body are built on a ReadPool thread; the
// reply goes back through the LoopTaskQueue.
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <functional>
#include <map>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "adapters/canonical/cdr_csv.h"
#include "daemon/api/api_access.h"
#include "daemon/api/api_query.h"
#include "daemon/api/api_request.h"
#include "daemon/api/api_service.h"
#include "daemon/api/api_settings.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/kazoo/kazoo_dialect.h"
#include "daemon/api/kazoo/kazoo_export.h"
#include "daemon/api/kazoo/kazoo_row.h"
#include "daemon/api/record_view.h"
#include "daemon/api/time_zone.h"
#include "daemon/auth/base64url.h"
#include "daemon/core/metrics.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/stream_reply.h"

namespace cdrd {
namespace {

// Kazoo's api_util:get_cors_headers/1.
constexpr const char* kCorsAllowHeaders =
    "content-type, depth, user-agent, x-http-method-override, x-file-size, x-requested-with, if-modified-since, "
    "x-file-name, cache-control, x-auth-token, x-kazoo-cluster-id, if-match";
constexpr const char* kCorsExposeHeaders =
    "content-type, x-auth-token, x-request-id, x-kazoo-cluster-id, location, etag, etag";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Kazoo's ?CSV_CONTENT_TYPES.
bool is_csv_type(const std::string& media) {
  return media.find("text/csv") != std::string::npos || media.find("application/octet-stream") != std::string::npos ||
         media.find("text/comma-separated-values") != std::string::npos;
}

// CSV or JSON: the accept parameter (csv, json, or a media type) wins over
// the Accept header (CSV for Kazoo's CSV types, else JSON). False with *err
// for an accept value that is neither.
bool wants_csv(evhttp_request* req, const ApiParams& params, bool* csv, ApiError* err) {
  const auto it = params.find("accept");
  if (it == params.end()) {
    *csv = is_csv_type(lower(request_header(req, "Accept")));
    return true;
  }
  const std::string v = lower(it->second);
  if (v == "csv" || is_csv_type(v)) {
    *csv = true;
  } else if (v == "json" || v == "application/json" || v == "application/x-json") {
    *csv = false;
  } else {
    *err = {400, "invalid_parameter", "accept: expected csv, json or a media type of either, got '" + it->second + "'"};
    return false;
  }
  return true;
}

// kz_nodes:node_encoded/0: base64url of the MD5 of the node's name, here
// "cdrd@<hostname>"; opaque, stable for the host.
const std::string& node_encoded() {
  static const std::string node = [] {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    const std::string name = std::string("cdrd@") + host;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(name.data(), name.size(), digest, &n, EVP_md5(), nullptr)) return std::string("cdrd");
    return base64url_encode(std::string(reinterpret_cast<const char*>(digest), n));
  }();
  return node;
}

// The token a request presented, for the error body; an API key is never echoed.
std::string presented_token(const std::string& credential) {
  return credential.find('.') != std::string::npos ? credential : std::string();
}

// Access-Control-* on the reply when the request's Origin is one of
// api.cors_origins; `methods` are the route's (OPTIONS added).
void add_cors_headers(evhttp_request* req, const ApiSettings& settings, const char* methods) {
  const std::string origin = request_header(req, "Origin");
  if (origin.empty()) return;
  const auto& allowed = settings.cors_origins;
  const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
  if (!any && std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return;
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Access-Control-Allow-Origin", any ? "*" : origin.c_str());
  if (!any) evhttp_add_header(out, "Vary", "Origin");
  evhttp_add_header(out, "Access-Control-Allow-Methods", methods);
  evhttp_add_header(out, "Access-Control-Allow-Headers", kCorsAllowHeaders);
  evhttp_add_header(out, "Access-Control-Expose-Headers", kCorsExposeHeaders);
  evhttp_add_header(out, "Access-Control-Max-Age", "86400");
}

RouteReply csv_reply(const std::vector<std::string>& records, const std::string& filename) {
  RouteReply reply;
  reply.content_type = "text/csv; charset=utf-8";
  reply.body = cdr_csv_header();
  for (const auto& record : records) append_cdr_csv_row(record, &reply.body);
  reply.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  return reply;
}

// A page (or the legs of a call): `rows` are JSON objects.
std::string list_body(const std::vector<std::string>& rows, const std::string& start_key,
                      const std::optional<CdrCursor>& next, const std::string& request_id) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("data");
  w.StartArray();
  for (const auto& row : rows) w.RawValue(row.data(), row.size(), rapidjson::kObjectType);
  w.EndArray();
  w.Key("page_size");
  w.Uint64(rows.size());
  if (!start_key.empty()) {
    w.Key("start_key");
    w.String(start_key);
  }
  if (next) {
    w.Key("next_start_key");
    w.String(encode_cursor(*next));
  }
  end_success_envelope(w, request_id);
  return std::string(sb.GetString(), sb.GetSize());
}

// The record's custom_channel_vars.owner_id is `owner` (a user token's restriction).
bool owned_by(const std::string& record, const std::string& owner) {
  const RecordView r(record, "the stored record");
  return r.sub_str("custom_channel_vars", "owner_id") == owner;
}

void log_ignored(const std::string& request_id, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    spdlog::debug("read api request {}: ignoring unknown query parameter '{}'", request_id, name);
  }
}

}  // namespace

std::string kazoo_error_body(const ApiError& error, const std::string& request_id, const std::string& auth_token) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("auth_token");
  w.String(auth_token);
  w.Key("request_id");
  w.String(request_id);
  w.Key("node");
  w.String(node_encoded());
  w.Key("version");
  w.String(CDRD_VERSION);
  w.Key("timestamp");
  w.String(iso8601_now());
  w.Key("status");
  w.String("error");
  w.Key("message");
  w.String(error.message);
  w.Key("error");
  w.String(std::to_string(error.status));
  w.Key("data");
  w.StartObject();
  w.Key("message");
  w.String(error.message);
  w.EndObject();
  w.Key("code");
  w.String(error.code);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

RouteReply kazoo_error_reply(const ApiError& error, const std::string& request_id, const std::string& auth_token) {
  RouteReply reply;
  reply.status = error.status;
  reply.body = kazoo_error_body(error, request_id, auth_token);
  return reply;
}

std::unique_ptr<ApiDialect> make_kazoo_dialect() { return std::make_unique<KazooDialect>(); }

RouteReply KazooDialect::error_reply(const ApiError& error, const std::string& request_id) const {
  return kazoo_error_reply(error, request_id, "");
}

void KazooDialect::fail(ApiService& service, const Call& call, const ApiError& error) const {
  service.send(call.api.req, call.api.request_id, kazoo_error_reply(error, call.api.request_id, call.token));
}

void KazooDialect::submit(ApiService& service, const Call& call, const ApiGrant& grant,
                          std::function<RouteReply(CdrStore& store)> query) const {
  service.submit_unchecked(
      *this, call.api.req, call.api.request_id,
      [grant, query = std::move(query), request_id = call.api.request_id, token = call.token](CdrStore& store) {
        if (auto denied = grant.verify(store)) return kazoo_error_reply(*denied, request_id, token);
        return query(store);
      });
}

bool KazooDialect::handle(ApiService& service, const ApiCall& api) {
  Call call{api, false, {}, {}};
  call.seg = path_segments(api.path);
  if (!call.seg.empty() && (call.seg[0] == "v1" || call.seg[0] == "v2")) {
    call.v1 = call.seg[0] == "v1";
    call.seg.erase(call.seg.begin());
  }
  const bool auth_route = call.seg.size() == 1 && (call.seg[0] == "api_auth" || call.seg[0] == "user_auth");
  if (!auth_route && (call.seg.empty() || call.seg[0] != "accounts")) return false;
  // Set now, so that every answer to the request carries them, whichever
  // thread builds it and however it is sent.
  add_cors_headers(api.req, *service.settings(), auth_route ? "OPTIONS, PUT" : "OPTIONS, GET");
  if (evhttp_request_get_command(api.req) == EVHTTP_REQ_OPTIONS) {
    // A CORS preflight (api_resource:options/2): no body, the route's methods.
    RouteReply reply;
    reply.content_type = "text/plain";
    reply.headers.emplace_back("Allow", auth_route ? "OPTIONS, PUT" : "OPTIONS, GET");
    service.send(api.req, api.request_id, reply);
    return true;
  }
  if (auth_route) {
    if (call.seg[0] == "api_auth") {
      handle_api_auth(service, call);
    } else {
      handle_user_auth(service, call);
    }
    return true;
  }
  handle_cdrs(service, call);
  return true;
}

void KazooDialect::handle_cdrs(ApiService& service, const Call& call_in) const {
  Call call = call_in;
  evhttp_request* req = call.api.req;
  const std::string& path = call.api.path;
  const std::string request_id = call.api.request_id;
  const std::vector<std::string>& seg = call.seg;
  // accounts/{a}/cdrs..., or accounts/{a}/users/{u}/cdrs[/interaction].
  const bool under_cdrs = seg.size() >= 3 && seg[2] == "cdrs";
  const bool under_user = seg.size() >= 5 && seg[2] == "users" && seg[4] == "cdrs";
  const bool is_list = (under_cdrs && seg.size() == 3) || (under_user && seg.size() == 5);
  const bool is_interactions = (under_cdrs && seg.size() == 4 && seg[3] == "interaction") ||
                               (under_user && seg.size() == 6 && seg[5] == "interaction");
  const bool is_summary = under_cdrs && seg.size() == 4 && seg[3] == "summary";
  const bool is_legs = under_cdrs && seg.size() == 5 && seg[3] == "legs";
  // "interaction", "summary" and "legs" name routes, never a CDR id.
  const bool is_get =
      under_cdrs && seg.size() == 4 && seg[3] != "interaction" && seg[3] != "legs" && seg[3] != "summary";
  if (!is_list && !is_interactions && !is_summary && !is_legs && !is_get) {
    fail(service, call, {404, "not_found", "no route for " + path});
    return;
  }
  ApiParams params;
  if (const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
    if (!parse_api_query_string(q, &params)) {
      fail(service, call, {400, "invalid_parameter", "the query string is malformed"});
      return;
    }
  }
  const std::string credential = request_credential(req, params);
  call.token = presented_token(credential);
  if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
    fail(service, call, {405, "method_not_allowed", "use GET for " + path});
    return;
  }

  const std::string account_id = seg[1];
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  ApiGrant grant;
  ApiError err;
  if (!authorize_account(*settings, credential, account_id, &grant, &err)) {
    fail(service, call, err);
    return;
  }
  const std::string owner = grant.owner_id();
  const std::string user_id = under_user ? seg[3] : "";
  // A user token with an owner reads that owner's rows only.
  if (!owner.empty() && !user_id.empty() && user_id != owner) {
    fail(service, call, {403, "forbidden", "these credentials may read the CDRs of user " + owner + " only"});
    return;
  }
  if (is_summary) {
    handle_summary(service, call, account_id, params, grant);
    return;
  }
  bool csv = false;
  if (!wants_csv(req, params, &csv, &err)) {
    fail(service, call, err);
    return;
  }
  const std::string token = call.token;

  if (is_list || is_interactions) {
    ZoneChoice zone;
    std::string message;
    if (!parse_zone_params(params, &zone, &message)) {
      fail(service, call, {400, "invalid_parameter", message});
      return;
    }
    ListOptions options;
    options.csv = csv;
    options.paginate = !call.v1;
    options.now_gregorian = static_cast<int64_t>(std::time(nullptr)) + kGregorianUnixOffset;
    options.max_window_s = settings->max_window_s;
    ListRequest list;
    if (!parse_list_request(params, account_id, options, &list, &err)) {
      fail(service, call, err);
      return;
    }
    log_ignored(request_id, list.ignored);
    if (!user_id.empty()) list.query.filters.push_back(owner_filter(user_id));
    if (!owner.empty()) list.query.filters.push_back(owner_filter(owner));
    KazooRowOptions row;
    row.interaction = is_interactions;
    row.user_path = under_user;
    row.zone = zone;
    if (list.stream) {
      auto plan = std::make_shared<ExportPlan>();
      plan->query = std::move(list.query);
      plan->interactions = is_interactions;
      plan->csv = csv;
      plan->full = list.full;
      plan->row = row;
      const auto file_name = params.find("file_name");
      plan->filename =
          kazoo_csv_file_name(request_header(req, "X-File-Name"), file_name == params.end() ? "" : file_name->second);
      plan->start_key = list.start_key;
      plan->request_id = request_id;
      Metrics* metrics = service.metrics();
      service.stream(*this, req, request_id, grant, [plan, metrics](CdrStore& store, StreamReply& out) {
        return produce_export(store, *plan, out, metrics);
      });
      return;
    }
    submit(service, call, grant,
           [is_list, query = std::move(list.query), start_key = list.start_key, full = list.full, row,
            request_id](CdrStore& store) {
             const CdrPage page = is_list ? store.list(query) : store.interactions(query);
             std::vector<std::string> rows;
             rows.reserve(page.records.size());
             for (const std::string& record : page.records) {
               if (!full) {
                 rows.push_back(kazoo_row_json(record, row));
               } else {
                 rows.push_back(localize_record(record, row.zone));
               }
             }
             RouteReply reply;
             reply.body = list_body(rows, start_key, page.next, request_id);
             return reply;
           });
    return;
  }

  // One record, or the legs of a call: the stored records as they are.
  std::vector<std::string> ignored;
  for (const auto& [name, value] : params) {
    if (name != "auth_token" && name != "accept") ignored.push_back(name);
  }
  log_ignored(request_id, ignored);
  const auto file_name = params.find("file_name");
  const std::string filename =
      kazoo_csv_file_name(request_header(req, "X-File-Name"), file_name == params.end() ? "" : file_name->second);
  if (is_legs) {
    const std::string id = seg[4];
    submit(service, call, grant, [account_id, id, request_id, csv, owner, filename](CdrStore& store) {
      // An interaction id, else a CDR id: the legs of that CDR's call.
      std::vector<std::string> legs = store.legs(account_id, id);
      if (legs.empty()) {
        if (const auto record = store.get(account_id, id)) {
          const RecordView r(*record, "the stored record");
          const auto interaction = r.str("interaction_id");
          if (interaction) legs = store.legs(account_id, std::string(*interaction));
          if (legs.empty()) legs.push_back(*record);
        }
      }
      if (!owner.empty()) {
        legs.erase(
            std::remove_if(legs.begin(), legs.end(), [&](const std::string& leg) { return !owned_by(leg, owner); }),
            legs.end());
      }
      if (csv) return csv_reply(legs, filename);
      RouteReply reply;
      reply.body = list_body(legs, "", std::nullopt, request_id);
      return reply;
    });
    return;
  }
  const std::string cdr_id = seg[3];
  submit(service, call, grant, [account_id, cdr_id, request_id, csv, owner, filename, token](CdrStore& store) {
    auto record = store.get(account_id, cdr_id);
    if (record && !owner.empty() && !owned_by(*record, owner)) record.reset();
    if (!record) {
      return kazoo_error_reply({404, "not_found", "no CDR " + cdr_id + " in account " + account_id}, request_id, token);
    }
    if (csv) return csv_reply({*record}, filename);
    RouteReply reply;
    reply.body = data_envelope(*record, request_id);
    return reply;
  });
}

}  // namespace cdrd
