// cdrd: collects FreeSWITCH call detail records and serves them to billing.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "daemon/app/api_key_command.h"
#include "daemon/app/daemon.h"
#include "daemon/app/database_setup.h"
#include "daemon/app/rates_command.h"
#include "daemon/app/reprocess_command.h"
#include "daemon/app/user_command.h"
#include "daemon/config/config.h"
#include "daemon/core/process_memory.h"
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

  // cdrd user create|list|revoke: the users of the read API's login routes (issue 13).
  cdrd::UserCommand user_command;
  CLI::App* user = app.add_subcommand("user", "create, list and revoke the users of the read API's login routes");
  user->require_subcommand(1);
  user->fallthrough();
  CLI::App* user_create = user->add_subcommand(
      "create", "add a user; the password is read from the terminal (no echo) or as stdin's first line");
  user_create->add_option("--login", user_command.login, "the user's login (no ':')")->required();
  user_create->add_option("--account", user_command.accounts, "an account the user may read (repeat for more; * = all)")
      ->required()
      ->allow_extra_args(false);
  user_create->add_option("--owner-id", user_command.owner_id, "the Kazoo user id the user's tokens carry");
  user_create->fallthrough();
  CLI::App* user_list = user->add_subcommand("list", "list the users: login, accounts, owner id, created, revoked");
  user_list->fallthrough();
  CLI::App* user_revoke = user->add_subcommand("revoke", "revoke a user (and the tokens issued to it)");
  user_revoke->add_option("login", user_command.login, "the user's login")->required();
  user_revoke->fallthrough();

  // cdrd rates ...: rate decks and their assignments (issue 12).
  cdrd::RatesCommand rates_command;
  CLI::App* rates =
      app.add_subcommand("rates", "import, show and export rate decks; assign them to accounts and trunks");
  rates->require_subcommand(1);
  rates->fallthrough();
  CLI::App* rates_import = rates->add_subcommand("import", "create or replace a deck from a CSV file (all or nothing)");
  rates_import->add_option("file", rates_command.file, "the deck's CSV (header: prefix,name,initial_interval,...)")
      ->required();
  rates_import->add_option("--deck", rates_command.deck, "the deck's name")->required();
  rates_import->add_option("--currency", rates_command.currency, "ISO 4217 code, e.g. USD")->required();
  rates_import
      ->add_option("--duration-rounding", rates_command.duration_rounding,
                   "answered time to whole seconds: up, nearest or down")
      ->check(CLI::IsMember({"up", "nearest", "down"}))
      ->capture_default_str();
  rates_import
      ->add_option("--price-rounding", rates_command.price_rounding,
                   "the charge to --decimals places: none (exact), up, down or half_up")
      ->check(CLI::IsMember({"none", "up", "down", "half_up"}))
      ->capture_default_str();
  rates_import->add_option("--decimals", rates_command.decimals, "decimal places of the rounded charge")
      ->check(CLI::Range(0, 12))
      ->capture_default_str();
  rates_import->fallthrough();
  CLI::App* rates_list = rates->add_subcommand("list", "list the decks: name, currency, rates, rounding, imported");
  rates_list->fallthrough();
  CLI::App* rates_show = rates->add_subcommand("show", "a deck's settings and rates");
  rates_show->add_option("--deck", rates_command.deck, "the deck's name")->required();
  rates_show->add_option("--prefix", rates_command.prefix, "only the rates a number starting with these digits meets");
  rates_show->fallthrough();
  CLI::App* rates_export = rates->add_subcommand("export", "a deck as CSV on stdout (imports again to the same deck)");
  rates_export->add_option("--deck", rates_command.deck, "the deck's name")->required();
  rates_export->fallthrough();
  const auto assignment_options = [&](CLI::App* sub, bool side_required) {
    CLI::Option* side = sub->add_option("--side", rates_command.side,
                                        "customer (an account pays) or vendor (a trunk's carrier charges)")
                            ->check(CLI::IsMember({"customer", "vendor"}));
    if (side_required) side->required();
    sub->add_option("--account", rates_command.account, "the account (--side customer)");
    sub->add_option("--trunk", rates_command.trunk, "the trunk (--side vendor)");
    sub->fallthrough();
  };
  CLI::App* rates_assign = rates->add_subcommand("assign", "set the deck an account pays by or a trunk is charged by");
  assignment_options(rates_assign, true);
  rates_assign->add_option("--deck", rates_command.deck, "the deck's name")->required();
  CLI::App* rates_unassign = rates->add_subcommand("unassign", "remove an assignment (the same keys as assign)");
  assignment_options(rates_unassign, true);
  for (CLI::App* sub : {rates_assign, rates_unassign}) {
    sub->add_option("--direction", rates_command.direction, "outbound, inbound or any")
        ->check(CLI::IsMember({"outbound", "inbound", "any"}))
        ->capture_default_str();
    sub->add_option("--valid-from", rates_command.valid_from,
                    "ISO-8601: for calls that start then or later (default: always)");
  }
  CLI::App* rates_assignments = rates->add_subcommand("assignments", "list the assignments");
  assignment_options(rates_assignments, false);

  // cdrd renormalize / cdrd rerate: stored rows again, in keyset batches (issue 12).
  cdrd::ReprocessCommand reprocess;
  CLI::App* renormalize = app.add_subcommand(
      "renormalize", "derive stored records again from their raw documents with the current rules (resumable)");
  CLI::App* rerate =
      app.add_subcommand("rerate", "price stored calls again with the rate decks stored now (resumable)");
  for (CLI::App* sub : {renormalize, rerate}) {
    sub->add_option("--from", reprocess.from, "ISO-8601: legs that ended at or after it (default: the first)");
    sub->add_option("--to", reprocess.to, "ISO-8601: legs that ended before it (default: no end)");
    sub->add_option("--account", reprocess.account, "only this account's rows");
    sub->add_option("--batch", reprocess.batch_rows, "rows per transaction")->capture_default_str();
    sub->add_flag("--restart", reprocess.restart,
                  "start over instead of resuming an unfinished run of the same window");
    sub->fallthrough();
  }
  rerate->add_option("--deck", reprocess.deck, "only rows rated with this deck, and unrated rows");

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

  // Before the first large allocation (core/process_memory.h says why).
  cdrd::keep_freed_memory_for_reuse();

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

  if (*user) {
    user_command.action = *user_create   ? cdrd::UserCommand::Action::kCreate
                          : *user_revoke ? cdrd::UserCommand::Action::kRevoke
                                         : cdrd::UserCommand::Action::kList;
    return cdrd::run_user_command(config, user_command);
  }

  if (*rates) {
    using Action = cdrd::RatesCommand::Action;
    rates_command.action = *rates_import     ? Action::kImport
                           : *rates_list     ? Action::kList
                           : *rates_show     ? Action::kShow
                           : *rates_export   ? Action::kExport
                           : *rates_assign   ? Action::kAssign
                           : *rates_unassign ? Action::kUnassign
                                             : Action::kAssignments;
    return cdrd::run_rates_command(config, rates_command);
  }

  if (*renormalize || *rerate) {
    reprocess.kind = *renormalize ? cdrd::ReprocessCommand::Kind::kRenormalize : cdrd::ReprocessCommand::Kind::kRerate;
    return cdrd::run_reprocess_command(config, reprocess);
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
