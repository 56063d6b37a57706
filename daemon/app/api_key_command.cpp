#include "daemon/app/api_key_command.h"

#include <cstdio>
#include <pqxx/pqxx>
#include <string>

#include "daemon/app/database_setup.h"
#include "daemon/db/api_key_store.h"
#include "daemon/db/migrations.h"

namespace cdrd {
namespace {

constexpr int kExitFailed = 1;

// open_command_database(): database_setup.h.

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

int create(pqxx::connection& conn, const ApiKeyCommand& command) {
  const GeneratedApiKey key = create_api_key(conn, command.accounts, command.name);
  std::printf("key_id: %s\nkey: %s\n", key.key_id.c_str(), key.key.c_str());
  std::fprintf(stderr,
               "cdrd: API key %s created for %s. Keep the key now: cdrd stores only its hash and cannot show it "
               "again.\n",
               key.key_id.c_str(), joined(command.accounts).c_str());
  return 0;
}

int revoke(pqxx::connection& conn, const ApiKeyCommand& command) {
  switch (revoke_api_key(conn, command.key_id)) {
    case RevokeResult::kRevoked:
      std::printf("revoked API key %s\n", command.key_id.c_str());
      return 0;
    case RevokeResult::kAlreadyRevoked:
      std::fprintf(stderr, "cdrd: API key %s is already revoked\n", command.key_id.c_str());
      return kExitFailed;
    case RevokeResult::kUnknown:
      break;
  }
  std::fprintf(stderr, "cdrd: no API key %s\n", command.key_id.c_str());
  return kExitFailed;
}

int list(pqxx::connection& conn) {
  std::printf("key_id\taccounts\tname\tcreated_at\trevoked_at\n");
  for (const StoredApiKey& key : list_api_keys(conn)) {
    std::printf("%s\t%s\t%s\t%s\t%s\n", key.key_id.c_str(), joined(key.accounts).c_str(),
                key.name.empty() ? "-" : key.name.c_str(), key.created_at.c_str(),
                key.revoked() ? key.revoked_at.c_str() : "-");
  }
  return 0;
}

}  // namespace

int run_api_key_command(const Config& config, const ApiKeyCommand& command) {
  DatabaseHandle db;
  std::string error;
  if (!open_command_database(config, &db, &error)) {
    std::fprintf(stderr, "cdrd: %s\n", error.c_str());
    return kExitFailed;
  }
  int rc = kExitFailed;
  try {
    pqxx::connection conn(db.dsn);
    std::vector<std::string> applied;
    if (!apply_migrations(conn, &applied, &error)) {
      std::fprintf(stderr, "cdrd: schema migration failed: %s\n", error.c_str());
    } else if (command.action == ApiKeyCommand::Action::kCreate) {
      rc = create(conn, command);
    } else if (command.action == ApiKeyCommand::Action::kRevoke) {
      rc = revoke(conn, command);
    } else {
      rc = list(conn);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cdrd: api-key: %s\n", e.what());
    rc = kExitFailed;
  }
  if (db.embedded && !db.embedded->stop(&error)) std::fprintf(stderr, "cdrd: embedded PostgreSQL: %s\n", error.c_str());
  return rc;
}

}  // namespace cdrd
