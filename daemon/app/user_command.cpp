#include "daemon/app/user_command.h"

#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <pqxx/pqxx>
#include <string>

#include "daemon/app/database_setup.h"
#include "daemon/auth/password_hash.h"
#include "daemon/db/user_store.h"

namespace cdrd {
namespace {

constexpr int kExitBadArguments = 2;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// Overwrites the password's bytes before the string lets them go
// (sodium_memzero: a plain loop may be optimized away).
void wipe(std::string* secret) {
  if (!secret->empty()) sodium_memzero(&(*secret)[0], secret->size());
  secret->clear();
}

// Terminal echo off for its lifetime (restored however the scope is left).
class EchoOff {
 public:
  EchoOff() : active_(tcgetattr(STDIN_FILENO, &saved_) == 0) {
    if (!active_) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter still ends the line on screen
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

bool read_line(std::string* line) {
  if (!std::getline(std::cin, *line)) return false;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

// The password from the terminal (no echo, asked twice) or stdin's first
// line. "" with *error when there is none or the two entries differ.
std::string read_password(const std::string& login, std::string* error) {
  std::string password;
  if (isatty(STDIN_FILENO) == 0) {
    if (!read_line(&password)) *error = "no password: expected it as the first line of stdin";
    return password;
  }
  std::string again;
  {
    const EchoOff quiet;
    std::fprintf(stderr, "Password for %s: ", login.c_str());
    std::fflush(stderr);
    const bool first = read_line(&password);
    std::fprintf(stderr, "Repeat the password: ");
    std::fflush(stderr);
    if (!first || !read_line(&again)) {
      *error = "no password entered";
      wipe(&password);
    } else if (again != password) {
      *error = "the two passwords differ";
      wipe(&password);
    }
  }
  wipe(&again);
  return password;
}

// Everything but the database: the login, the accounts, the password; then
// the hash (Argon2id, ~80 ms) so the database is opened only to store it.
// False with *error (exit 2) when something is refused.
bool prepare_secret(const UserCommand& command, std::string* secret_hash, std::string* error) {
  *error = user_login_problem(command.login);
  if (!error->empty()) return false;
  for (const auto& account : command.accounts) {
    if (account.empty()) {
      *error = "--account: an account id must not be empty";
      return false;
    }
  }
  std::string password = read_password(command.login, error);
  if (!error->empty()) return false;
  if (password.empty()) {
    *error = "the password must not be empty";
    return false;
  }
  std::string credentials = kazoo_credentials(command.login, password);
  wipe(&password);
  *secret_hash = hash_user_secret(credentials);
  wipe(&credentials);
  return true;
}

int create(pqxx::connection& conn, const UserCommand& command, const std::string& secret_hash) {
  const StoredUser user = create_api_user(conn, command.login, secret_hash, command.accounts, command.owner_id);
  std::printf("login: %s\naccounts: %s\n", user.login.c_str(), joined(user.accounts).c_str());
  if (!user.owner_id.empty()) std::printf("owner_id: %s\n", user.owner_id.c_str());
  return 0;
}

int list(pqxx::connection& conn) {
  std::printf("login\taccounts\towner_id\tcreated_at\trevoked_at\n");
  for (const StoredUser& user : list_api_users(conn)) {
    std::printf("%s\t%s\t%s\t%s\t%s\n", user.login.c_str(), joined(user.accounts).c_str(),
                user.owner_id.empty() ? "-" : user.owner_id.c_str(), user.created_at.c_str(),
                user.revoked() ? user.revoked_at.c_str() : "-");
  }
  return 0;
}

}  // namespace

int run_user_command(const Config& config, const UserCommand& command) {
  std::string secret_hash;
  if (command.action == UserCommand::Action::kCreate) {
    std::string error;
    if (!prepare_secret(command, &secret_hash, &error)) {
      std::fprintf(stderr, "cdrd user: %s\n", error.c_str());
      return kExitBadArguments;
    }
  }
  // ApiUserError (the login exists, is unknown, is already revoked) escapes
  // `work`: with_command_database prints it as "cdrd user: ..." and exits 1.
  return with_command_database(config, "user", [&command, &secret_hash](pqxx::connection& conn) {
    if (command.action == UserCommand::Action::kCreate) return create(conn, command, secret_hash);
    if (command.action == UserCommand::Action::kRevoke) {
      revoke_api_user(conn, command.login);
      std::printf("revoked user %s\n", command.login.c_str());
      return 0;
    }
    return list(conn);
  });
}

}  // namespace cdrd
