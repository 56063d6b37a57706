#include "daemon/db/api_key_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <stdexcept>

namespace cdrd {
namespace {

// accounts travel as JSON text in both directions: a text[] literal would
// need its own quoting rules, JSON has a parser on both sides.
constexpr char kColumns[] =
    "key_id, array_to_json(accounts)::text, COALESCE(name, ''), "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "COALESCE(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";

const std::string kByHashSql = std::string("SELECT ") + kColumns + " FROM api_keys WHERE key_hash = decode($1, 'hex')";
const std::string kByIdSql = std::string("SELECT ") + kColumns + " FROM api_keys WHERE key_id = $1";
const std::string kListSql = std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY created_at, key_id";
constexpr char kByHashName[] = "api_key_by_hash";
constexpr char kByIdName[] = "api_key_by_id";

std::vector<std::string> accounts_from_json(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  std::vector<std::string> out;
  if (doc.HasParseError() || !doc.IsArray()) throw std::runtime_error("api_keys.accounts: not a JSON array");
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

StoredApiKey key_from_row(const pqxx::row& row) {
  StoredApiKey key;
  key.key_id = row[0].as<std::string>();
  key.accounts = accounts_from_json(row[1].as<std::string>());
  key.name = row[2].as<std::string>();
  key.created_at = row[3].as<std::string>();
  key.revoked_at = row[4].as<std::string>();
  return key;
}

std::optional<StoredApiKey> first_key(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return key_from_row(r[0]);
}

}  // namespace

bool StoredApiKey::allows(const std::string& account_id) const {
  return std::any_of(accounts.begin(), accounts.end(),
                     [&](const std::string& a) { return a == "*" || a == account_id; });
}

GeneratedApiKey create_api_key(pqxx::connection& conn, const std::vector<std::string>& accounts,
                               const std::string& name) {
  if (accounts.empty()) throw std::invalid_argument("a key needs at least one account");
  for (const auto& a : accounts) {
    if (a.empty()) throw std::invalid_argument("an account id must not be empty");
  }
  GeneratedApiKey key = generate_api_key();
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO api_keys (key_id, key_hash, accounts, name) "
      "VALUES ($1, decode($2, 'hex'), ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), NULLIF($4, ''))",
      key.key_id, to_hex(api_key_hash(key.key)), accounts_to_json(accounts), name);
  tx.commit();
  return key;
}

// libpqxx 6 registers a statement once per connection and prepares it on
// first use; preparing the same definition again is a no-op, so a
// connection opened anew (CdrStore drops broken ones) gets it too.
std::optional<StoredApiKey> find_api_key(pqxx::connection& conn, const std::string& key) {
  conn.prepare(kByHashName, kByHashSql);
  pqxx::nontransaction tx(conn);
  return first_key(tx.exec_prepared(kByHashName, to_hex(api_key_hash(key))));
}

std::optional<StoredApiKey> find_api_key_by_id(pqxx::connection& conn, const std::string& key_id) {
  if (!is_api_key_id(key_id)) return std::nullopt;
  conn.prepare(kByIdName, kByIdSql);
  pqxx::nontransaction tx(conn);
  return first_key(tx.exec_prepared(kByIdName, key_id));
}

RevokeResult revoke_api_key(pqxx::connection& conn, const std::string& key_id) {
  if (!is_api_key_id(key_id)) return RevokeResult::kUnknown;
  pqxx::work tx(conn);
  const pqxx::result r = tx.exec_params(
      "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL RETURNING key_id", key_id);
  if (!r.empty()) {
    tx.commit();
    return RevokeResult::kRevoked;
  }
  const bool exists = !tx.exec_params("SELECT 1 FROM api_keys WHERE key_id = $1", key_id).empty();
  tx.commit();
  return exists ? RevokeResult::kAlreadyRevoked : RevokeResult::kUnknown;
}

std::vector<StoredApiKey> list_api_keys(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  std::vector<StoredApiKey> out;
  for (const auto& row : tx.exec(kListSql)) out.push_back(key_from_row(row));
  return out;
}

}  // namespace cdrd
