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
  return with_command_database(config, "api-key", [&command](pqxx::connection& conn) {
    if (command.action == ApiKeyCommand::Action::kCreate) return create(conn, command);
    if (command.action == ApiKeyCommand::Action::kRevoke) return revoke(conn, command);
    return list(conn);
  });
}

}  // namespace cdrd
