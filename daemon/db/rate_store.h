// The rating tables (schema/007_rating.sql): rate decks, their rates, the
// customer/vendor assignments and the rating version. Free functions over a
// pqxx::connection, like api_key_store.h: `cdrd rates` manages the data,
// the batch writer loads it whole as a RatingSnapshot.
//
// Every change bumps rating_version and sends NOTIFY cdrd_rates (triggers in
// the schema, so edits made with psql count too). A reader that holds a
// snapshot compares rating_version() with snapshot->version() (one row) or
// LISTENs on kRatesChannel, and calls load_rating_snapshot() when they
// differ. Every value is a bind parameter or COPY data; errors are pqxx
// exceptions, except where noted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/rating/rate_deck.h"
#include "daemon/rating/rating_snapshot.h"

namespace cdrd {

// The channel of the NOTIFY sent with every change of the rating tables.
inline constexpr char kRatesChannel[] = "cdrd_rates";

// Thrown when a command names a deck that is not stored.
class NoSuchDeck : public std::runtime_error {
 public:
  explicit NoSuchDeck(const std::string& name) : std::runtime_error("no rate deck " + name), name_(name) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

struct StoredDeck {
  DeckSettings settings;
  int64_t entries = 0;      // rates (rows) in the deck
  std::string source;       // the file it was imported from, "" when unknown
  std::string imported_at;  // ISO-8601 UTC
};

// Called now and then while a deck is written: rows written, rows in all.
using DeckProgress = std::function<void(size_t done, size_t total)>;

// Creates the deck deck.settings.name, or replaces its settings and every
// rate of it, in one transaction: either all of `deck` is stored or nothing
// changes. The rates go in with COPY. Throws std::invalid_argument (before
// touching the database) for bad settings, an empty deck, or two rates of a
// prefix with overlapping validity. Returns the rating version after it.
uint64_t replace_deck(pqxx::connection& conn, const RateDeck& deck, const std::string& source,
                      const DeckProgress& progress = nullptr);

// Every deck, by name.
std::vector<StoredDeck> list_decks(pqxx::connection& conn);
std::optional<StoredDeck> find_deck(pqxx::connection& conn, const std::string& name);

// The deck with its rates ordered by prefix and valid_from; nullopt when
// there is no such deck. With `prefix` (digits) only the rates whose prefix
// is a prefix of it or starts with it: what a number beginning with
// `prefix` could match, and the more specific rates under it.
std::optional<RateDeck> load_deck(pqxx::connection& conn, const std::string& name, const std::string& prefix = "");

struct StoredAssignment {
  RateAssignment assignment;
  std::string assigned_at;  // ISO-8601 UTC
};

// Stores the assignment; one of the same side, subject, direction and
// valid_from is replaced. Returns the deck it replaced, if any. Throws
// NoSuchDeck when assignment.deck is not stored, std::invalid_argument for
// an empty subject.
std::optional<std::string> assign_deck(pqxx::connection& conn, const RateAssignment& assignment);

// Removes that assignment; returns the deck it named, nullopt when there
// was none (nothing changes then).
std::optional<std::string> unassign_deck(pqxx::connection& conn, RateSide side, const std::string& subject,
                                         RateDirection direction, int64_t valid_from_us);

// The assignments, ordered by side, subject, direction and valid_from;
// only those of `side` and/or `subject` when given.
std::vector<StoredAssignment> list_assignments(pqxx::connection& conn, std::optional<RateSide> side = std::nullopt,
                                               const std::string& subject = "");

// Everything, read in one REPEATABLE READ transaction, so the snapshot is
// exactly the data of the version it carries.
std::shared_ptr<const RatingSnapshot> load_rating_snapshot(pqxx::connection& conn);

// The current rating version (one row of rating_version), within `tx`.
uint64_t rating_version(pqxx::transaction_base& tx);

}  // namespace cdrd
