// PortSIP's routes: routing, the account choice, the access check and the
// parameter checks run on the loop thread; the rows and the body are built on
// a read-pool thread (ApiService::submit), logins too (Argon2id).
#include "daemon/api/portsip/portsip_dialect.h"

#include "daemon/api/user_logins.h"

#include <event2/http.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdlib>
#include <optional>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "daemon/api/api_access.h"
#include "daemon/api/api_query.h"
#include "daemon/api/api_service.h"
#include "daemon/api/api_settings.h"
#include "daemon/api/call_row_source.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/portsip/portsip_api.h"
#include "daemon/api/record_view.h"
#include "daemon/auth/api_key_secret.h"
#include "daemon/auth/password_hash.h"
#include "daemon/auth/token_signer.h"
#include "daemon/db/user_store.h"
#include "daemon/http/http_reply.h"

namespace cdrd {
namespace {

RouteReply error_of(const ApiError& error) {
  RouteReply reply;
  reply.status = error.status;
  reply.body = portsip_error_body(error);
  return reply;
}

// The account the request reads: ?account_id=, else the credential's only
// one. False with *err: 400 naming account_id, or the credential's 401.
bool choose_account(const ApiSettings& settings, const std::string& credential, const ApiParams& params,
                    std::string* account, ApiError* err) {
  if (const auto it = params.find("account_id"); it != params.end()) {
    if (it->second.empty()) {
      *err = {400, "invalid_parameter", "account_id: must not be empty"};
      return false;
    }
    *account = it->second;
    return true;
  }
  std::string key_id;
  if (const auto accounts = credential.empty() ? std::nullopt : credential_accounts(settings, credential, unix_now())) {
    if (accounts->size() == 1 && accounts->front() != "*") {
      *account = accounts->front();
      return true;
    }
    *err = {400, "invalid_parameter",
            "account_id: required: these credentials may read several accounts; name the one to read"};
    return false;
  }
  if (parse_api_key(credential, &key_id)) {
    *err = {400, "invalid_parameter",
            "account_id: required with a stored API key (cdrd_...); name the account to read"};
    return false;
  }
  ApiGrant unused;
  if (!authorize_account(settings, credential, "", &unused, err)) return false;
  *err = {400, "invalid_parameter", "account_id: required; name the account to read"};
  return false;
}

// The root record's custom_channel_vars.owner_id is `owner`.
bool owned_by(const CallRow& row, const std::string& owner) {
  const RecordView root(row.root, "CallRow.root");
  return root.sub_str("custom_channel_vars", "owner_id") == owner;
}

// "application/x-www-form-urlencoded" (any case, parameters after ';').
bool is_form(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  return media == "application/x-www-form-urlencoded";
}

}  // namespace

std::unique_ptr<ApiDialect> make_portsip_dialect() { return std::make_unique<PortsipDialect>(); }

RouteReply PortsipDialect::error_reply(const ApiError& error, const std::string& /*request_id*/) const {
  return error_of(error);
}

bool PortsipDialect::handle(ApiService& service, const ApiCall& call) {
  const std::vector<std::string> seg = path_segments(call.path);
  if (seg.size() < 2 || seg[0] != "api") return false;
  if (seg[1] == "login" && (seg.size() == 2 || (seg.size() == 4 && seg[2] == "oauth" && seg[3] == "token"))) {
    handle_login(service, call);
    return true;
  }
  if (seg[1] != "cdrs") return false;
  if (seg.size() > 3) {
    service.fail(*this, call.req, call.request_id, {404, "not_found", "no route for " + call.path});
    return true;
  }
  handle_cdrs(service, call, seg.size() == 3 ? seg[2] : "");
  return true;
}

void PortsipDialect::handle_cdrs(ApiService& service, const ApiCall& call, const std::string& id) const {
  evhttp_request* req = call.req;
  const std::string request_id = call.request_id;
  auto fail = [&](const ApiError& error) { service.fail(*this, req, request_id, error); };
  // HEAD is answered as GET; evhttp leaves the body out.
  if ((evhttp_request_get_command(req) & (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)) == 0) {
    fail({405, "method_not_allowed", "use GET for " + call.path});
    return;
  }
  ApiParams params;
  if (const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
    if (!parse_api_query_string(q, &params)) {
      fail({400, "invalid_parameter", "the query string is malformed"});
      return;
    }
  }
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  const std::string credential = request_credential(req, params);
  std::string account;
  ApiGrant grant;
  ApiError err;
  if (!choose_account(*settings, credential, params, &account, &err) ||
      !authorize_account(*settings, credential, account, &grant, &err)) {
    fail(err);
    return;
  }
  const std::string owner = grant.owner_id();

  if (!id.empty()) {
    for (const auto& [name, value] : params) {
      if (!is_portsip_side_parameter(name)) {
        spdlog::debug("read api request {}: ignoring unknown query parameter '{}'", request_id, name);
      }
    }
    service.submit(*this, req, request_id, grant, [account, id, owner](CdrStore& store) {
      std::optional<CallRow> row =
          store.run([&](pqxx::connection& conn) { return call_by_root_id(conn, account, id); });
      if (row && !owner.empty() && !owned_by(*row, owner)) row.reset();
      if (!row) return error_of({404, "not_found", "no CDR " + id});
      RouteReply reply;
      reply.body = portsip_single_body(*row);
      return reply;
    });
    return;
  }

  PortsipListRequest list;
  if (!parse_portsip_list(params, unix_now(), settings->max_window_s, &list, &err)) {
    fail(err);
    return;
  }
  for (const std::string& name : list.ignored) {
    spdlog::debug("read api request {}: ignoring unknown query parameter '{}'", request_id, name);
  }
  RowWindow window = std::move(list.window);
  window.account_id = account;
  // A user token with an owner reads that owner's calls only.
  if (!owner.empty()) {
    window.conditions.push_back({"c.record->'custom_channel_vars'->>'owner_id'", RowCondition::Op::kEq, {owner}, ""});
  }
  service.submit(*this, req, request_id, grant, [window = std::move(window)](CdrStore& store) {
    const CallPage page = store.run([&](pqxx::connection& conn) { return list_calls(conn, window); });
    RouteReply reply;
    reply.body = portsip_list_body(page);
    return reply;
  });
}

void PortsipDialect::handle_login(ApiService& service, const ApiCall& call) {
  evhttp_request* req = call.req;
  const std::string request_id = call.request_id;
  auto fail = [&](const ApiError& error) { service.fail(*this, req, request_id, error); };
  if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
    fail({405, "method_not_allowed", "use POST for " + call.path});
    return;
  }
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  if (!settings->tokens) {
    fail({503, "tokens_unavailable",
          "this cdrd has no token key (api.token_secret, else state_dir/api_token.key); access tokens cannot be "
          "issued"});
    return;
  }
  PortsipLogin login;
  ApiError err;
  if (!parse_portsip_login(request_body(req), is_form(request_header(req, "Content-Type")), &login, &err)) {
    fail(err);
    return;
  }
  const std::string address = request_peer_address(req);
  if (const int64_t wait_s = logins_.admit(address); wait_s > 0) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", std::to_string(wait_s).c_str());
    fail({429, "too_many_requests", too_many_logins_message(address, wait_s)});
    return;
  }
  service.submit_unchecked(*this, req, request_id, [this, settings, login, address](CdrStore& store) {
    const std::optional<StoredUser> user = store.run(
        [&](pqxx::connection& conn) { return logins_.check_password(conn, address, login.username, login.password); });
    if (!user) return error_of({401, "unauthorized", "invalid username or password"});
    RouteReply reply;
    reply.body = portsip_token_body(user_token(*settings, *user), settings->token_ttl_s);
    return reply;
  });
}

}  // namespace cdrd
