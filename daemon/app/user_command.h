// `cdrd user create|list|revoke`: the users of the read API's login routes
// (the api_users table, daemon/db/user_store.h) from the command line.
//   create --login L --account A [--account B ...] [--owner-id U]
//   list | revoke LOGIN
// create reads the password from the terminal without echo (asked twice)
// when stdin is one, else the first line of stdin (for scripts: `printf
// '%s\n' "$pw" | cdrd user create ...`), and stores only the Argon2id hash
// of md5(login:password) (daemon/auth/password_hash.h). What can be checked
// without the database (the login, the password) is checked first.
#pragma once

#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace cdrd {

struct UserCommand {
  enum class Action { kCreate, kList, kRevoke };
  Action action = Action::kList;
  std::string login;                  // create, revoke
  std::vector<std::string> accounts;  // create
  std::string owner_id;               // create, optional
};

// Runs `command` against the configured database (as `cdrd api-key`: the
// running daemon's embedded server when there is one, else one started for
// the command; the migrations applied first). Returns the exit code: 0
// done; 2 a bad login or password (nothing stored, the database not
// touched); 1 with a message on stderr naming the login when it exists
// already, is unknown or already revoked, or the database failed.
int run_user_command(const Config& config, const UserCommand& command);

}  // namespace cdrd
