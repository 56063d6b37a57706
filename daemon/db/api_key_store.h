// The api_keys table (schema/003_api_keys.sql): API keys made and revoked by
// `cdrd api-key`, checked by the read API. Free functions over a
// pqxx::connection, so the CLI (its own connection) and the read-pool
// threads (CdrStore::run) share them. Every value is a bind parameter.
// Errors are thrown as pqxx exceptions.
#pragma once

#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "daemon/auth/api_key_secret.h"

namespace cdrd {

struct StoredApiKey {
  std::string key_id;
  std::vector<std::string> accounts;  // "*" = every account
  std::string name;                   // "" when none was given
  std::string created_at;             // ISO-8601 UTC
  std::string revoked_at;             // ISO-8601 UTC; "" while the key is valid

  bool revoked() const { return !revoked_at.empty(); }
  bool allows(const std::string& account_id) const;
};

// Stores a new key for `accounts` (at least one, none empty: else
// std::invalid_argument) and returns it with its plaintext, which exists
// only in the return value.
GeneratedApiKey create_api_key(pqxx::connection& conn, const std::vector<std::string>& accounts,
                               const std::string& name);

// The stored key whose hash is that of the presented `key` (revoked ones
// too: the caller says why it refuses), or nullopt. One lookup through the
// unique index on key_hash, as a prepared statement.
std::optional<StoredApiKey> find_api_key(pqxx::connection& conn, const std::string& key);

// The same by key_id (the primary key), for tokens minted from a stored key.
std::optional<StoredApiKey> find_api_key_by_id(pqxx::connection& conn, const std::string& key_id);

enum class RevokeResult { kRevoked, kUnknown, kAlreadyRevoked };
RevokeResult revoke_api_key(pqxx::connection& conn, const std::string& key_id);

// Every stored key, oldest first.
std::vector<StoredApiKey> list_api_keys(pqxx::connection& conn);

}  // namespace cdrd
