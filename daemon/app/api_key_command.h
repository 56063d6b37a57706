// `cdrd api-key create|revoke|list`: manages the API keys stored in the
// database (daemon/db/api_key_store.h) from the command line.
#pragma once

#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace cdrd {

struct ApiKeyCommand {
  enum class Action { kCreate, kRevoke, kList };
  Action action = Action::kList;
  std::vector<std::string> accounts;  // create
  std::string name;                   // create, optional
  std::string key_id;                 // revoke
};

// Runs `command` against the configured database and returns the exit code
// (0 done; 1 with a message on stderr: unknown or already revoked key, or
// the database failed). With database.dsn: embedded it uses the running
// daemon's server (its socket in state_dir/run) when there is one, else it
// starts the embedded server for the command and stops it afterwards. The
// migrations are applied first either way.
int run_api_key_command(const Config& config, const ApiKeyCommand& command);

}  // namespace cdrd
