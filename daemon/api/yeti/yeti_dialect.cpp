// Yeti's routes: routing, the credential, the account choice and the
// parameter checks run on the loop thread; the rows, the documents and the
// login's Argon2id check on a read-pool thread (ApiService::submit /
// submit_unchecked).
#include "daemon/api/yeti/yeti_dialect.h"

#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "daemon/api/api_access.h"
#include "daemon/api/api_query.h"
#include "daemon/api/api_service.h"
#include "daemon/api/api_settings.h"
#include "daemon/api/call_row_source.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/record_view.h"
#include "daemon/api/yeti/yeti_api.h"
#include "daemon/auth/password_hash.h"
#include "daemon/auth/token_signer.h"
#include "daemon/db/user_store.h"
#include "daemon/http/http_reply.h"

namespace cdrd {
namespace {

RouteReply yeti_reply(const YetiError& error) {
  return RouteReply{error.status, kYetiMediaType, yeti_error_body(error), {}};
}

// The login's errors are plain JSON, as yeti-web's AuthController renders them.
RouteReply login_reply(const YetiError& error) {
  return RouteReply{error.status, "application/json", yeti_error_body(error), {}};
}

// The credential: Authorization's last word (yeti-web), else cdrd's
// X-Auth-Token / ?auth_token=.
std::string yeti_credential(evhttp_request* req, const ApiParams& params) {
  const std::string token = yeti_authorization_token(request_header(req, "Authorization"));
  return token.empty() ? request_credential(req, params) : token;
}

// "http(s)://<Host>": the scheme of the listener the request came in on.
std::string base_url(evhttp_request* req) {
  evhttp_connection* conn = evhttp_request_get_connection(req);
  bufferevent* bev = conn == nullptr ? nullptr : evhttp_connection_get_bufferevent(conn);
  const bool tls = bev != nullptr && bufferevent_openssl_get_ssl(bev) != nullptr;
  std::string host = request_header(req, "Host");
  if (host.empty()) host = "localhost";
  return std::string(tls ? "https://" : "http://") + host;
}

// The account the request reads (yeti_dialect.h). False with *err.
bool choose_account(const ApiSettings& settings, const std::string& credential, const ApiParams& params,
                    std::string* account, YetiError* err) {
  std::string named;
  std::string named_by;
  for (const char* name : {"account_id", "filter[account_id_eq]", "filter[account-id_eq]"}) {
    const auto it = params.find(name);
    if (it == params.end()) continue;
    if (it->second.empty() || (!named.empty() && it->second != named)) {
      *err = {400, "107", "Invalid filter value",
              std::string(name) + ": expected one account id" +
                  (named.empty() ? "" : ", the same as " + named_by + " (" + named + ")") + "."};
      return false;
    }
    named = it->second;
    named_by = name;
  }
  if (!named.empty()) {
    *account = named;
    return true;
  }
  if (credential.empty()) {
    *err = yeti_error_of({401, "unauthorized",
                          "no credentials: send Authorization: <jwt> (from POST /api/rest/customer/v1/auth), "
                          "Authorization: Bearer <key or token>, X-Auth-Token or ?auth_token="});
    return false;
  }
  const auto accounts = credential_accounts(settings, credential, unix_now());
  if (accounts && accounts->size() == 1 && accounts->front() != "*") {
    *account = accounts->front();
    return true;
  }
  // A bad credential is a 401 whatever the account; else it may read several.
  ApiGrant ignored;
  ApiError denied;
  if (!authorize_account(settings, credential, "", &ignored, &denied) && denied.status == 401) {
    *err = yeti_error_of(denied);
    return false;
  }
  *err = {400, "106", "Missing Parameter",
          "The required parameter, account_id, is missing: these credentials may read several accounts (or their "
          "accounts are in the database); name one with ?account_id=."};
  return false;
}

void log_ignored(const std::string& request_id, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    spdlog::debug("read api request {}: ignoring unknown query parameter '{}'", request_id, name);
  }
}

// The record's custom_channel_vars.owner_id is `owner` (a user token's restriction).
bool owned_by(const std::string& record, const std::string& owner) {
  const RecordView r(record, "the stored record");
  return r.sub_str("custom_channel_vars", "owner_id") == owner;
}

}  // namespace

std::unique_ptr<ApiDialect> make_yeti_dialect() { return std::make_unique<YetiDialect>(); }

RouteReply YetiDialect::error_reply(const ApiError& error, const std::string& /*request_id*/) const {
  return yeti_reply(yeti_error_of(error));
}

void YetiDialect::fail(ApiService& service, const ApiCall& call, const YetiError& error) const {
  service.send(call.req, call.request_id, yeti_reply(error));
}

bool YetiDialect::handle(ApiService& service, const ApiCall& call) {
  const std::string prefix = std::string(kYetiPrefix) + "/";
  if (call.path.rfind(prefix, 0) != 0) return false;
  std::string rest = call.path.substr(prefix.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto method = evhttp_request_get_command(call.req);
  const auto wrong_method = [&](const char* allowed) {
    evhttp_add_header(evhttp_request_get_output_headers(call.req), "Allow", allowed);
    fail(service, call, {405, "405", "Method Not Allowed", std::string("use ") + allowed + " for " + call.path});
  };
  if (rest == "auth") {
    if (method != EVHTTP_REQ_POST) {
      wrong_method("POST");
    } else {
      handle_login(service, call);
    }
    return true;
  }
  const std::string collection = "incoming-cdrs";
  const bool list = rest == collection;
  const bool one = rest.rfind(collection + "/", 0) == 0 && rest.find('/', collection.size() + 1) == std::string::npos;
  if (!list && !one) {
    fail(service, call, {404, "404", "Not Found", "no route for " + call.path});
    return true;
  }
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    wrong_method("GET");
    return true;
  }
  handle_cdrs(service, call, one ? rest.substr(collection.size() + 1) : "");
  return true;
}

void YetiDialect::handle_cdrs(ApiService& service, const ApiCall& call, const std::string& id) const {
  evhttp_request* req = call.req;
  const std::string request_id = call.request_id;
  ApiParams params;
  if (const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
    if (!parse_api_query_string(q, &params)) {
      fail(service, call, {400, "400", "Bad Request", "the query string is malformed"});
      return;
    }
  }
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  const std::string credential = yeti_credential(req, params);
  std::string account;
  YetiError err;
  if (!choose_account(*settings, credential, params, &account, &err)) {
    fail(service, call, err);
    return;
  }
  ApiGrant grant;
  ApiError denied;
  if (!authorize_account(*settings, credential, account, &grant, &denied)) {
    fail(service, call, yeti_error_of(denied));
    return;
  }
  const std::string owner = grant.owner_id();
  const std::string collection_url = base_url(req) + kYetiPrefix + "/incoming-cdrs";

  if (!id.empty()) {
    int64_t seq = 0;
    if (!parse_yeti_id(id, &seq, &err)) {
      fail(service, call, err);
      return;
    }
    service.submit(*this, req, request_id, grant, [account, seq, id, owner, collection_url](CdrStore& store) {
      std::optional<AttemptRow> row =
          store.run([&](pqxx::connection& conn) { return attempt_by_seq(conn, account, seq, yeti_attempt_classes()); });
      // Another owner's row is not found either.
      if (row && !owner.empty() && !owned_by(row->attempt, owner)) row.reset();
      if (!row) return yeti_reply(yeti_not_found(id));
      return RouteReply{200, kYetiMediaType, yeti_single_body(*row, collection_url), {}};
    });
    return;
  }

  YetiListRequest list;
  if (!parse_yeti_list(params, unix_now(), settings->max_window_s, &list, &err)) {
    fail(service, call, err);
    return;
  }
  log_ignored(request_id, list.ignored);
  list.window.account_id = account;
  if (!owner.empty()) {
    list.window.conditions.push_back(
        RowCondition{"(c.record->'custom_channel_vars'->>'owner_id')", RowCondition::Op::kEq, {owner}, ""});
  }
  service.submit(*this, req, request_id, grant, [list = std::move(list), collection_url](CdrStore& store) {
    const AttemptPage page =
        store.run([&](pqxx::connection& conn) { return list_attempts(conn, list.window, yeti_attempt_classes()); });
    return RouteReply{200, kYetiMediaType, yeti_list_body(page, list, collection_url), {}};
  });
}

void YetiDialect::handle_login(ApiService& service, const ApiCall& call) {
  evhttp_request* req = call.req;
  const std::string request_id = call.request_id;
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  if (!settings->tokens) {
    service.send(req, request_id,
                 login_reply({503, "503", "Service Unavailable",
                              "this cdrd has no token key (api.token_secret, else state_dir/api_token.key); logins "
                              "cannot issue tokens"}));
    return;
  }
  YetiLogin login;
  YetiError err;
  if (!parse_yeti_login(request_body(req), &login, &err)) {
    service.send(req, request_id, login_reply(err));
    return;
  }
  const std::string address = request_peer_address(req);
  if (const int64_t wait_s = logins_.admit(address); wait_s > 0) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", std::to_string(wait_s).c_str());
    service.send(req, request_id,
                 login_reply({429, "429", "Too Many Requests", too_many_logins_message(address, wait_s)}));
    return;
  }
  // Argon2id: a read-pool thread's work.
  service.submit_unchecked(*this, req, request_id, [this, settings, login, address](CdrStore& store) {
    const std::optional<StoredUser> user = store.run(
        [&](pqxx::connection& conn) { return logins_.check_password(conn, address, login.login, login.password); });
    if (!user) return login_reply(yeti_login_failed());
    return RouteReply{201, "application/json", yeti_token_body(user_token(*settings, *user)), {}};
  });
}

}  // namespace cdrd
