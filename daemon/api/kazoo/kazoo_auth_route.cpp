// PUT /v2/api_auth (also /v1/api_auth and /api_auth): trades an API key for
// an auth token (Kazoo's api_auth). A key from the configuration is checked
// here on the loop thread; a stored key needs the database, so its lookup
// runs on a read-pool thread and the reply comes back through the
// LoopTaskQueue.
//
// PUT /v2/user_auth (Kazoo's cb_user_auth): {"data": {"credentials":
// md5("login:password"), "account_name": ACCOUNT}} -> an auth token of the
// same kind, minted for the user (its accounts, its owner_id). Kazoo sends
// no login, so the credentials are checked against the account's active
// users (at most kUserAuthCandidates of them, by login; Argon2id each) on a
// read-pool thread. Failed attempts are limited per client address
// (LoginLimiter): past the limit the answer is 429 with Retry-After.
#include <event2/http.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>
#include <pqxx/pqxx>

#include "daemon/api/api_access.h"
#include "daemon/api/api_request.h"
#include "daemon/api/api_service.h"
#include "daemon/api/api_settings.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/kazoo/kazoo_dialect.h"
#include "daemon/auth/api_key_secret.h"
#include "daemon/auth/password_hash.h"
#include "daemon/auth/token_signer.h"
#include "daemon/core/metrics.h"
#include "daemon/db/api_key_store.h"
#include "daemon/db/user_store.h"
#include "daemon/http/http_reply.h"

namespace cdrd {
namespace {

// The contract's body: {"data": {"api_key": "KEY"}}. False with *err naming
// what is wrong.
bool parse_api_auth_body(const std::string& body, std::string* api_key, std::string* err) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    *err = "the body is not JSON; expected {\"data\": {\"api_key\": \"KEY\"}}";
    return false;
  }
  if (!doc.IsObject()) {
    *err = "the body must be a JSON object: {\"data\": {\"api_key\": \"KEY\"}}";
    return false;
  }
  const auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) {
    *err = "data: missing or not an object; expected {\"data\": {\"api_key\": \"KEY\"}}";
    return false;
  }
  const auto key = data->value.FindMember("api_key");
  if (key == data->value.MemberEnd()) {
    *err = "data.api_key: missing";
    return false;
  }
  if (!key->value.IsString() || key->value.GetStringLength() == 0) {
    *err = "data.api_key: expected a non-empty string";
    return false;
  }
  api_key->assign(key->value.GetString(), key->value.GetStringLength());
  return true;
}

std::string iso8601(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The user_auth body: {"data": {"credentials": MD5, "account_name": ACCOUNT}}
// (and "method": "md5", Kazoo's default, the only one cdrd keeps). False
// with *err naming what is wrong.
bool parse_user_auth_body(const std::string& body, std::string* credentials, std::string* account, std::string* err) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    *err = "the body is not a JSON object; expected {\"data\": {\"credentials\": MD5, \"account_name\": ACCOUNT}}";
    return false;
  }
  const auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) {
    *err = "data: missing or not an object; expected {\"data\": {\"credentials\": MD5, \"account_name\": ACCOUNT}}";
    return false;
  }
  const auto text = [&](const char* name, std::string* out) {
    const auto it = data->value.FindMember(name);
    if (it == data->value.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0) return false;
    out->assign(it->value.GetString(), it->value.GetStringLength());
    return true;
  };
  if (!text("credentials", credentials) || !is_kazoo_credentials(*credentials)) {
    *err = "data.credentials: expected md5(\"login:password\") as 32 hex digits";
    return false;
  }
  if (!text("account_name", account)) {
    *err = "data.account_name: expected the account id, a non-empty string";
    return false;
  }
  std::string method;
  if (data->value.HasMember("method") && (!text("method", &method) || method != "md5")) {
    *err = "data.method: only md5 is supported";
    return false;
  }
  return true;
}

// Signs a token for `claims` (accounts and origin set) and writes the 201
// body; `account_id` is the account data.account_id names (default: the
// first of the token's), `owner_id` the user's ("" = none: not written).
std::string token_body(const ApiSettings& settings, TokenClaims claims, const std::string& request_id,
                       const std::string& account_id = "") {
  const int64_t now = unix_now();
  claims.expires_at = now + settings.token_ttl_s;
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("auth_token");
  w.String(settings.tokens->sign(claims));
  w.Key("data");
  w.StartObject();
  w.Key("account_id");
  w.String(account_id.empty() ? claims.accounts.front() : account_id);
  w.Key("accounts");
  w.StartArray();
  for (const auto& account : claims.accounts) w.String(account);
  w.EndArray();
  w.Key("expires_at");
  w.String(iso8601(claims.expires_at));
  w.Key("expires_in");
  w.Int(settings.token_ttl_s);
  if (!claims.owner_id.empty()) {
    w.Key("owner_id");
    w.String(claims.owner_id);
  }
  w.EndObject();
  end_success_envelope(w, request_id);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

void KazooDialect::handle_api_auth(ApiService& service, const Call& call) const {
  evhttp_request* req = call.api.req;
  const std::string& request_id = call.api.request_id;
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    this->fail(service, call, {status, code, message});
  };
  if (evhttp_request_get_command(req) != EVHTTP_REQ_PUT) {
    fail(405, "method_not_allowed", "use PUT for api_auth");
    return;
  }
  // Held by the job too: a SIGHUP may swap the settings while it runs.
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  if (!settings->tokens) {
    fail(503, "tokens_unavailable", "this cdrd has no token key; auth tokens cannot be issued");
    return;
  }
  std::string api_key;
  std::string message;
  if (!parse_api_auth_body(request_body(req), &api_key, &message)) {
    fail(400, "invalid_body", message);
    return;
  }

  if (const ApiKey* key = settings->auth.find(api_key)) {
    TokenClaims claims;
    claims.accounts = key->accounts;
    claims.config_key_digest = config_key_digest(key->key);
    service.send(req, request_id, {201, "application/json", token_body(*settings, std::move(claims), request_id), {}});
    return;
  }
  std::string key_id;
  if (!parse_api_key(api_key, &key_id)) {
    fail(401, "unauthorized", "the API key is not valid");
    return;
  }

  // The stored key needs the database: a read-pool thread looks it up.
  service.submit_unchecked(*this, req, request_id, [request_id, settings, api_key](CdrStore& store) {
    const auto key = store.run([&](pqxx::connection& conn) { return find_api_key(conn, api_key); });
    if (!key) return kazoo_error_reply({401, "unauthorized", "the API key is not valid"}, request_id, "");
    if (key->revoked()) {
      return kazoo_error_reply({401, "unauthorized", "the API key " + key->key_id + " has been revoked"}, request_id,
                               "");
    }
    TokenClaims claims;
    claims.accounts = key->accounts;
    claims.stored_key_id = key->key_id;
    return RouteReply{201, "application/json", token_body(*settings, std::move(claims), request_id), {}};
  });
}

void KazooDialect::handle_user_auth(ApiService& service, const Call& call) {
  evhttp_request* req = call.api.req;
  const std::string request_id = call.api.request_id;
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    this->fail(service, call, {status, code, message});
  };
  if (evhttp_request_get_command(req) != EVHTTP_REQ_PUT) {
    fail(405, "method_not_allowed", "use PUT for user_auth");
    return;
  }
  const std::shared_ptr<const ApiSettings> settings = service.settings();
  if (!settings->tokens) {
    fail(503, "tokens_unavailable", "this cdrd has no token key; auth tokens cannot be issued");
    return;
  }
  std::string credentials;
  std::string account;
  std::string message;
  if (!parse_user_auth_body(request_body(req), &credentials, &account, &message)) {
    fail(400, "invalid_body", message);
    return;
  }
  const std::string address = request_peer_address(req);
  if (const int64_t wait_s = logins_.admit(address); wait_s > 0) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", std::to_string(wait_s).c_str());
    fail(429, "too_many_requests", too_many_logins_message(address, wait_s));
    return;
  }

  // Argon2id against each candidate: a read-pool thread's work.
  service.submit_unchecked(
      *this, req, request_id, [this, request_id, settings, credentials, account, address](CdrStore& store) {
        const std::vector<StoredUser> users = store.run(
            [&](pqxx::connection& conn) { return active_api_users_for_account(conn, account, kUserAuthCandidates); });
        if (const auto user = logins_.check_credentials(users, address, credentials)) {
          TokenClaims claims;
          claims.accounts = user->accounts;
          claims.user_login = user->login;
          claims.owner_id = user->owner_id;
          return RouteReply{201, "application/json", token_body(*settings, std::move(claims), request_id, account), {}};
        }
        return kazoo_error_reply({401, "unauthorized", "invalid credentials"}, request_id, "");
      });
}

}  // namespace cdrd
