#include "daemon/app/rates_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/app/database_setup.h"
#include "daemon/db/migrations.h"
#include "daemon/db/rate_store.h"
#include "daemon/rating/deck_csv.h"

namespace cdrd {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// A usage error: the message, exit 2.
struct Usage {
  std::string message;
};

// open_command_database(): database_setup.h.

std::string instant_text(int64_t us) { return us == kNoStartUs ? "always" : format_iso_time_us(us); }

// --side with --account or --trunk as an assignment key (deck not set).
RateAssignment assignment_key(const RatesCommand& c) {
  RateAssignment a;
  const auto side = parse_rate_side(c.side);
  if (!side) throw Usage{"--side: customer or vendor, not '" + c.side + "'"};
  a.side = *side;
  if (a.side == RateSide::kCustomer) {
    if (c.account.empty()) throw Usage{"--side customer needs --account ID"};
    if (!c.trunk.empty()) throw Usage{"--trunk belongs to --side vendor; a customer is an --account"};
    a.subject = c.account;
  } else {
    if (c.trunk.empty()) throw Usage{"--side vendor needs --trunk NAME"};
    if (!c.account.empty()) throw Usage{"--account belongs to --side customer; a vendor is a --trunk"};
    a.subject = c.trunk;
  }
  const auto direction = parse_rate_direction(c.direction);
  if (!direction) throw Usage{"--direction: outbound, inbound or any, not '" + c.direction + "'"};
  a.direction = *direction;
  if (!c.valid_from.empty()) {
    const auto from = parse_iso_time_us(c.valid_from);
    if (!from) throw Usage{"--valid-from '" + c.valid_from + "' is not an ISO-8601 date or time (e.g. 2024-07-01)"};
    a.valid_from_us = *from;
  }
  return a;
}

std::string describe(const RateAssignment& a) {
  return std::string(rate_side_name(a.side)) + (a.side == RateSide::kCustomer ? " account " : " trunk ") + a.subject +
         ", direction " + std::string(rate_direction_name(a.direction)) + ", from " + instant_text(a.valid_from_us);
}

DeckSettings import_settings(const RatesCommand& c) {
  DeckSettings s;
  s.name = c.deck;
  s.currency = c.currency;
  s.decimals = c.decimals;
  const auto duration = parse_duration_rounding(c.duration_rounding);
  if (!duration) throw Usage{"--duration-rounding: up, nearest or down, not '" + c.duration_rounding + "'"};
  s.duration_rounding = *duration;
  const auto price = parse_price_rounding(c.price_rounding);
  if (!price) throw Usage{"--price-rounding: none, up, down or half_up, not '" + c.price_rounding + "'"};
  s.price_rounding = *price;
  std::string error;
  if (!check_deck_settings(s, &error)) throw Usage{error};
  return s;
}

RateDeck read_deck_file(const RatesCommand& c) {
  RateDeck deck;
  deck.settings = import_settings(c);
  std::ifstream in(c.file, std::ios::binary);
  if (!in) throw Usage{c.file + ": cannot be read"};
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Usage{c.file + ": cannot be read"};
  std::string error;
  if (!parse_deck_csv(text, c.file, &deck.entries, &error)) throw Usage{error};
  return deck;
}

// What can be refused before the database is opened, by action.
void check_arguments(const RatesCommand& c) {
  switch (c.action) {
    case RatesCommand::Action::kShow:
    case RatesCommand::Action::kExport:
      if (!valid_deck_name(c.deck)) throw Usage{"--deck '" + c.deck + "': use 1 to 64 of A-Z a-z 0-9 _ . -"};
      if (!c.prefix.empty() && c.prefix.find_first_not_of("0123456789") != std::string::npos) {
        throw Usage{"--prefix '" + c.prefix + "': digits only (E.164 without '+')"};
      }
      break;
    case RatesCommand::Action::kAssign:
      assignment_key(c);
      if (!valid_deck_name(c.deck)) throw Usage{"--deck '" + c.deck + "': use 1 to 64 of A-Z a-z 0-9 _ . -"};
      break;
    case RatesCommand::Action::kUnassign:
      assignment_key(c);
      break;
    case RatesCommand::Action::kAssignments:
      if (!c.side.empty() && !parse_rate_side(c.side)) throw Usage{"--side: customer or vendor, not '" + c.side + "'"};
      if (!c.account.empty() && !c.trunk.empty()) throw Usage{"--account or --trunk, not both"};
      break;
    case RatesCommand::Action::kImport:
    case RatesCommand::Action::kList:
      break;
  }
}

int import_deck(pqxx::connection& conn, const RateDeck& deck, const std::string& source) {
  // The progress line only where someone watches: a terminal, not a log.
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  DeckProgress progress;
  if (tty) {
    progress = [&](size_t done, size_t total) {
      std::fprintf(stderr, "\rdeck %s: %zu of %zu rates written", deck.settings.name.c_str(), done, total);
      if (done == total) std::fputs("\n", stderr);
    };
  }
  replace_deck(conn, deck, source, progress);
  std::printf("deck %s: %zu prefixes imported (currency %s)\n", deck.settings.name.c_str(), deck.entries.size(),
              deck.settings.currency.c_str());
  return 0;
}

int list(pqxx::connection& conn) {
  std::printf("deck\tcurrency\trates\tduration_rounding\tprice_rounding\tdecimals\timported_at\tsource\n");
  for (const StoredDeck& d : list_decks(conn)) {
    std::printf("%s\t%s\t%lld\t%s\t%s\t%d\t%s\t%s\n", d.settings.name.c_str(), d.settings.currency.c_str(),
                static_cast<long long>(d.entries),
                std::string(duration_rounding_name(d.settings.duration_rounding)).c_str(),
                std::string(price_rounding_name(d.settings.price_rounding)).c_str(), d.settings.decimals,
                d.imported_at.c_str(), d.source.empty() ? "-" : d.source.c_str());
  }
  return 0;
}

int no_deck(const std::string& name) {
  std::fprintf(stderr, "cdrd: no rate deck %s (cdrd rates list shows them)\n", name.c_str());
  return kExitFailed;
}

int show(pqxx::connection& conn, const RatesCommand& c) {
  const std::optional<StoredDeck> stored = find_deck(conn, c.deck);
  const std::optional<RateDeck> deck = stored ? load_deck(conn, c.deck, c.prefix) : std::nullopt;
  if (!stored || !deck) return no_deck(c.deck);
  const DeckSettings& s = stored->settings;
  std::printf(
      "deck: %s\ncurrency: %s\nduration_rounding: %s\nprice_rounding: %s\ndecimals: %d\nrates: %lld\n"
      "imported_at: %s\nsource: %s\n",
      s.name.c_str(), s.currency.c_str(), std::string(duration_rounding_name(s.duration_rounding)).c_str(),
      std::string(price_rounding_name(s.price_rounding)).c_str(), s.decimals, static_cast<long long>(stored->entries),
      stored->imported_at.c_str(), stored->source.empty() ? "-" : stored->source.c_str());
  if (!c.prefix.empty()) std::printf("matching %s: %zu\n", c.prefix.c_str(), deck->entries.size());
  std::printf("\n%s", deck_csv(deck->entries).c_str());
  return 0;
}

int export_deck(pqxx::connection& conn, const RatesCommand& c) {
  const std::optional<RateDeck> deck = load_deck(conn, c.deck);
  if (!deck) return no_deck(c.deck);
  std::string out = deck_csv_header();
  for (const RateEntry& e : deck->entries) {
    append_deck_csv_row(e, &out);
    if (out.size() >= (1U << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "cdrd: writing the export failed\n");
    return kExitFailed;
  }
  // The settings are not part of the CSV: say how to import it again.
  const DeckSettings& s = deck->settings;
  std::fprintf(stderr,
               "cdrd: deck %s: %zu rates; import again with --deck %s --currency %s --duration-rounding %s "
               "--price-rounding %s --decimals %d\n",
               s.name.c_str(), deck->entries.size(), s.name.c_str(), s.currency.c_str(),
               std::string(duration_rounding_name(s.duration_rounding)).c_str(),
               std::string(price_rounding_name(s.price_rounding)).c_str(), s.decimals);
  return 0;
}

int assign(pqxx::connection& conn, const RatesCommand& c) {
  RateAssignment a = assignment_key(c);
  a.deck = c.deck;
  const std::optional<std::string> previous = assign_deck(conn, a);
  std::printf("%s: deck %s%s\n", describe(a).c_str(), a.deck.c_str(),
              previous && *previous != a.deck ? (" (was " + *previous + ")").c_str() : "");
  return 0;
}

int unassign(pqxx::connection& conn, const RatesCommand& c) {
  const RateAssignment a = assignment_key(c);
  const std::optional<std::string> removed = unassign_deck(conn, a.side, a.subject, a.direction, a.valid_from_us);
  if (!removed) {
    std::fprintf(stderr, "cdrd: no assignment for %s (cdrd rates assignments shows them)\n", describe(a).c_str());
    return kExitFailed;
  }
  std::printf("removed %s: deck %s\n", describe(a).c_str(), removed->c_str());
  return 0;
}

int assignments(pqxx::connection& conn, const RatesCommand& c) {
  std::optional<RateSide> side;
  if (!c.side.empty()) side = parse_rate_side(c.side);
  if (!side && !c.account.empty()) side = RateSide::kCustomer;
  if (!side && !c.trunk.empty()) side = RateSide::kVendor;
  const std::string subject = !c.account.empty() ? c.account : c.trunk;
  std::printf("side\tsubject\tdirection\tvalid_from\tdeck\tassigned_at\n");
  for (const StoredAssignment& s : list_assignments(conn, side, subject)) {
    const RateAssignment& a = s.assignment;
    std::printf("%s\t%s\t%s\t%s\t%s\t%s\n", std::string(rate_side_name(a.side)).c_str(), a.subject.c_str(),
                std::string(rate_direction_name(a.direction)).c_str(),
                a.valid_from_us == kNoStartUs ? "-" : format_iso_time_us(a.valid_from_us).c_str(), a.deck.c_str(),
                s.assigned_at.c_str());
  }
  return 0;
}

int run(pqxx::connection& conn, const RatesCommand& c, const std::optional<RateDeck>& deck) {
  switch (c.action) {
    case RatesCommand::Action::kImport:
      return import_deck(conn, *deck, c.file);
    case RatesCommand::Action::kList:
      return list(conn);
    case RatesCommand::Action::kShow:
      return show(conn, c);
    case RatesCommand::Action::kExport:
      return export_deck(conn, c);
    case RatesCommand::Action::kAssign:
      return assign(conn, c);
    case RatesCommand::Action::kUnassign:
      return unassign(conn, c);
    case RatesCommand::Action::kAssignments:
      return assignments(conn, c);
  }
  return kExitFailed;
}

}  // namespace

int run_rates_command(const Config& config, const RatesCommand& command) {
  // Arguments and the whole file first: a bad one never reaches the database.
  std::optional<RateDeck> deck;
  try {
    check_arguments(command);
    if (command.action == RatesCommand::Action::kImport) deck = read_deck_file(command);
  } catch (const Usage& usage) {
    std::fprintf(stderr, "cdrd: %s\n", usage.message.c_str());
    return kExitUsage;
  }

  return with_command_database(config, "rates", [&](pqxx::connection& conn) {
    try {
      return run(conn, command, deck);
    } catch (const NoSuchDeck& e) {
      return no_deck(e.name());
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "cdrd rates: %s\n", e.what());
      return kExitUsage;
    }
  });
}

}  // namespace cdrd
