// cdrd: collects FreeSWITCH call detail records and serves them to billing.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "daemon/app/api_key_command.h"
#include "daemon/app/daemon.h"
#include "daemon/app/database_setup.h"
#include "daemon/config/config.h"
#include "daemon/http/tls_context.h"

namespace {
constexpr int kExitFatal = 1;
constexpr int kExitBadConfig = 2;

int run(int argc, char** argv) {
  CLI::App app{"cdrd " CDRD_VERSION " - collects FreeSWITCH call detail records and serves them to billing"};
  std::string config_path = "/etc/cdrd/cdrd.yaml";
  bool check_config = false;
  bool migrate = false;
  bool version = false;
  bool help_config = false;
  app.add_option("-c,--config", config_path, "configuration file (YAML)")->capture_default_str();
  app.add_flag("--check-config", check_config, "validate the configuration and exit (0 = valid, 2 = not)");
  app.add_flag("--migrate", migrate, "apply the schema migrations to the database and exit");
  app.add_flag("--version", version, "print the version and exit");
  app.add_flag("--help-config", help_config, "list every configuration key with its type and default");

  // cdrd api-key create|revoke|list: the stored API keys. fallthrough() lets
  // -c FILE follow the subcommand too.
  cdrd::ApiKeyCommand key_command;
  CLI::App* api_key = app.add_subcommand("api-key", "create, revoke and list the API keys stored in the database");
  api_key->require_subcommand(1);
  api_key->fallthrough();
  CLI::App* key_create = api_key->add_subcommand("create", "make a key; prints its id and the key (shown only once)");
  key_create->add_option("--account", key_command.accounts, "an account the key may read (repeat for more; * = all)")
      ->required()
      ->allow_extra_args(false);
  key_create->add_option("--name", key_command.name, "a note on whom the key is for");
  key_create->fallthrough();
  CLI::App* key_revoke = api_key->add_subcommand("revoke", "revoke a key (and the tokens issued for it)");
  key_revoke->add_option("key_id", key_command.key_id, "the key's id, as printed by create and list")->required();
  key_revoke->fallthrough();
  CLI::App* key_list = api_key->add_subcommand("list", "list the keys: id, accounts, name, created, revoked");
  key_list->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitBadConfig;
  }
  if (version) {
    std::printf("cdrd %s\n", CDRD_VERSION);
    return 0;
  }
  if (help_config) {
    std::fputs(cdrd::describe_config_keys().c_str(), stdout);
    return 0;
  }

  cdrd::Config config;
  std::string error;
  if (!cdrd::load_config(config_path, cdrd::process_environment(), &config, &error)) {
    std::fprintf(stderr, "cdrd: %s\n", error.c_str());
    return kExitBadConfig;
  }
  // The TLS files too: a missing or mismatched pair is a bad configuration,
  // found by --check-config and before the daemon starts.
  const bool tls_ok = cdrd::check_listener_tls(config, &error);
  if (check_config) {
    if (!tls_ok) {
      std::fprintf(stderr, "cdrd: %s: %s\n", config_path.c_str(), error.c_str());
      return kExitBadConfig;
    }
    std::printf("cdrd: %s is valid\n", config_path.c_str());
    return 0;
  }
  cdrd::setup_logging(config.log_level, config.log_format);

  if (*api_key) {
    key_command.action = *key_create   ? cdrd::ApiKeyCommand::Action::kCreate
                         : *key_revoke ? cdrd::ApiKeyCommand::Action::kRevoke
                                       : cdrd::ApiKeyCommand::Action::kList;
    return cdrd::run_api_key_command(config, key_command);
  }

  if (migrate) {
    cdrd::DatabaseHandle db;
    if (!cdrd::open_database(config, &db, &error) || !cdrd::migrate_database(config, db.dsn, &error)) {
      spdlog::critical("migration failed: {}", error);
      return kExitFatal;
    }
    spdlog::info("schema is up to date");
    if (db.embedded) db.embedded->stop(&error);
    return 0;
  }

  if (!tls_ok) {
    spdlog::critical("{}: {}", config_path, error);
    return kExitBadConfig;
  }
  cdrd::Daemon daemon(std::move(config), config_path);
  return daemon.run();
}

}  // namespace

// What escapes run() (a failed allocation, a library's exception) ends the
// process with a message instead of std::terminate's abort.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cdrd: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "cdrd: fatal: unknown exception\n");
  }
  return kExitFatal;
}
