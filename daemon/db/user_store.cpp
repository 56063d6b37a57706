#include "daemon/db/user_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "daemon/auth/password_hash.h"

namespace cdrd {
namespace {

// accounts travel as JSON text both ways, as in api_key_store.cpp: a text[]
// literal would need its own quoting rules, JSON has a parser on both sides.
constexpr char kColumns[] =
    "login, secret_hash, array_to_json(accounts)::text, COALESCE(owner_id, ''), "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "COALESCE(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";

const std::string kByLoginSql = std::string("SELECT ") + kColumns + " FROM api_users WHERE login = $1";
const std::string kForAccountSql = std::string("SELECT ") + kColumns +
                                   " FROM api_users WHERE revoked_at IS NULL AND ($1 = ANY(accounts) OR "
                                   "'*' = ANY(accounts)) ORDER BY login LIMIT $2";
const std::string kListSql = std::string("SELECT ") + kColumns + " FROM api_users ORDER BY created_at, login";
constexpr char kByLoginName[] = "api_user_by_login";
constexpr char kForAccountName[] = "api_users_for_account";

constexpr char kHashPrefix[] = "$argon2id$";

std::vector<std::string> accounts_from_json(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) throw std::runtime_error("api_users.accounts: not a JSON array");
  std::vector<std::string> out;
  for (const auto& v : doc.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

std::string accounts_to_json(const std::vector<std::string>& accounts) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const auto& a : accounts) w.String(a);
  w.EndArray();
  return std::string(sb.GetString(), sb.GetSize());
}

StoredUser user_from_row(const pqxx::row& row) {
  StoredUser user;
  user.login = row[0].as<std::string>();
  user.secret_hash = row[1].as<std::string>();
  user.accounts = accounts_from_json(row[2].as<std::string>());
  user.owner_id = row[3].as<std::string>();
  user.created_at = row[4].as<std::string>();
  user.revoked_at = row[5].as<std::string>();
  return user;
}

}  // namespace

bool StoredUser::allows(const std::string& account_id) const {
  return std::any_of(accounts.begin(), accounts.end(),
                     [&](const std::string& a) { return a == "*" || a == account_id; });
}

StoredUser create_api_user(pqxx::connection& conn, const std::string& login, const std::string& secret_hash,
                           const std::vector<std::string>& accounts, const std::string& owner_id) {
  const std::string problem = user_login_problem(login);
  if (!problem.empty()) throw std::invalid_argument(problem);
  if (accounts.empty()) throw std::invalid_argument("user \"" + login + "\": at least one account is needed");
  for (const auto& a : accounts) {
    if (a.empty()) throw std::invalid_argument("user \"" + login + "\": an account id must not be empty");
  }
  if (secret_hash.rfind(kHashPrefix, 0) != 0) {
    throw std::invalid_argument("user \"" + login + "\": secret_hash is not an Argon2id hash string");
  }
  pqxx::work tx(conn);
  // ON CONFLICT DO NOTHING instead of catching unique_violation: the
  // transaction stays usable to tell whether the existing login is revoked.
  const pqxx::result r =
      tx.exec_params(std::string("INSERT INTO api_users (login, secret_hash, accounts, owner_id) "
                                 "VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), "
                                 "NULLIF($4, '')) ON CONFLICT (login) DO NOTHING RETURNING ") +
                         kColumns,
                     login, secret_hash, accounts_to_json(accounts), owner_id);
  if (r.empty()) {
    const pqxx::result old = tx.exec_params("SELECT revoked_at IS NOT NULL FROM api_users WHERE login = $1", login);
    const bool revoked = !old.empty() && old[0][0].as<bool>();
    throw ApiUserError("the login \"" + login + "\" exists already" +
                       (revoked ? " (revoked; a login is not used again)" : ""));
  }
  StoredUser created = user_from_row(r[0]);
  tx.commit();
  return created;
}

// libpqxx 6 registers a statement once per connection and prepares it on
// first use; preparing the same definition again is a no-op.
std::optional<StoredUser> find_api_user(pqxx::connection& conn, const std::string& login) {
  conn.prepare(kByLoginName, kByLoginSql);
  pqxx::nontransaction tx(conn);
  const pqxx::result r = tx.exec_prepared(kByLoginName, login);
  if (r.empty()) return std::nullopt;
  return user_from_row(r[0]);
}

std::vector<StoredUser> active_api_users_for_account(pqxx::connection& conn, const std::string& account_id,
                                                     size_t limit) {
  conn.prepare(kForAccountName, kForAccountSql);
  pqxx::nontransaction tx(conn);
  std::vector<StoredUser> out;
  for (const auto& row : tx.exec_prepared(kForAccountName, account_id, static_cast<long long>(limit))) {
    out.push_back(user_from_row(row));
  }
  return out;
}

void revoke_api_user(pqxx::connection& conn, const std::string& login) {
  pqxx::work tx(conn);
  const pqxx::result r = tx.exec_params(
      "UPDATE api_users SET revoked_at = now() WHERE login = $1 AND revoked_at IS NULL RETURNING login", login);
  if (!r.empty()) {
    tx.commit();
    return;
  }
  const bool exists = !tx.exec_params("SELECT 1 FROM api_users WHERE login = $1", login).empty();
  throw ApiUserError(exists ? "the user \"" + login + "\" is already revoked"
                            : "no user with the login \"" + login + "\"");
}

std::vector<StoredUser> list_api_users(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  std::vector<StoredUser> out;
  for (const auto& row : tx.exec(kListSql)) out.push_back(user_from_row(row));
  return out;
}

}  // namespace cdrd
