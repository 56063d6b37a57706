#include "daemon/db/rate_store.h"

#include <algorithm>
#include <memory>
#include <pqxx/pqxx>
#include <pqxx/stream_to>
#include <tuple>
#include <unordered_map>

namespace cdrd {
namespace {

constexpr size_t kProgressEvery = 10000;

// An instant as PostgreSQL reads it: open ends as -infinity / infinity.
std::string pg_instant(int64_t us) {
  if (us == kNoStartUs) return "-infinity";
  if (us == kNoEndUs) return "infinity";
  return format_iso_time_us(us);
}

// A timestamptz column as microseconds since the epoch, NULL for an open
// end. extract(epoch) is numeric (exact) since PostgreSQL 14.
std::string us_of(const std::string& column) {
  return "CASE WHEN isfinite(" + column + ") THEN (extract(epoch FROM " + column + ") * 1000000)::bigint END";
}

std::string iso_of(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
}

int64_t instant_field(const pqxx::field& f, int64_t open_end) { return f.is_null() ? open_end : f.as<int64_t>(); }

Decimal money_field(const pqxx::field& f, const std::string& deck, const std::string& prefix, const char* column) {
  if (f.is_null()) return Decimal();
  const std::optional<Decimal> d = Decimal::parse(std::string_view(f.c_str(), f.size()));
  if (!d) {
    throw std::runtime_error("rate deck " + deck + ", prefix " + prefix + ": " + column + " '" + f.c_str() +
                             "' is not a decimal the rating engine reads");
  }
  return *d;
}

const std::string kDeckColumns = "d.name, d.currency, d.duration_rounding, d.price_rounding, d.decimals";

DeckSettings settings_from_row(const pqxx::row& row) {
  DeckSettings s;
  s.name = row[0].as<std::string>();
  s.currency = row[1].as<std::string>();
  const std::string duration = row[2].as<std::string>();
  const std::string price = row[3].as<std::string>();
  const auto d = parse_duration_rounding(duration);
  const auto p = parse_price_rounding(price);
  if (!d || !p) throw std::runtime_error("rate deck " + s.name + ": unknown rounding " + duration + "/" + price);
  s.duration_rounding = *d;
  s.price_rounding = *p;
  s.decimals = row[4].as<int>();
  return s;
}

// The columns of rate_deck_entries in the order entry_from_row() reads them
// (after the deck name).
// Rates read per FETCH while loading a snapshot: a few MB of result at a time.
constexpr int kRateFetchRows = 10000;

const std::string kEntryColumns = "e.prefix, " + us_of("e.valid_from") + ", " + us_of("e.valid_till") +
                                  ", e.name, e.initial_interval, e.initial_rate, e.next_interval, e.next_rate, "
                                  "e.tiers, e.connect_fee, e.attempt_fee, e.grace_seconds, e.min_length, e.max_length";

RateEntry entry_from_row(const pqxx::row& row, pqxx::row::size_type first, const std::string& deck) {
  RateEntry e;
  e.prefix = row[first].as<std::string>();
  e.valid_from_us = instant_field(row[first + 1], kNoStartUs);
  e.valid_till_us = instant_field(row[first + 2], kNoEndUs);
  e.name = row[first + 3].as<std::string>();
  if (!row[first + 8].is_null()) {
    std::string error;
    if (!parse_tiers(row[first + 8].c_str(), &e.tiers, &error)) {
      throw std::runtime_error("rate deck " + deck + ", prefix " + e.prefix + ": tiers: " + error);
    }
  } else {
    e.initial_interval = row[first + 4].as<int64_t>();
    e.initial_rate = money_field(row[first + 5], deck, e.prefix, "initial_rate");
    e.next_interval = row[first + 6].as<int64_t>();
    e.next_rate = money_field(row[first + 7], deck, e.prefix, "next_rate");
  }
  e.connect_fee = money_field(row[first + 9], deck, e.prefix, "connect_fee");
  e.attempt_fee = money_field(row[first + 10], deck, e.prefix, "attempt_fee");
  e.grace_seconds = row[first + 11].as<int64_t>();
  e.min_length = row[first + 12].as<int>();
  e.max_length = row[first + 13].as<int>();
  return e;
}

const std::string kAssignmentColumns = "side, subject, direction, " + us_of("valid_from") + ", deck";

RateAssignment assignment_from_row(const pqxx::row& row) {
  RateAssignment a;
  const std::string side = row[0].as<std::string>();
  const std::string direction = row[2].as<std::string>();
  const auto s = parse_rate_side(side);
  const auto d = parse_rate_direction(direction);
  if (!s || !d) throw std::runtime_error("rate assignment: unknown side or direction " + side + "/" + direction);
  a.side = *s;
  a.subject = row[1].as<std::string>();
  a.direction = *d;
  a.valid_from_us = instant_field(row[3], kNoStartUs);
  a.deck = row[4].as<std::string>();
  return a;
}

void check_deck(const RateDeck& deck) {
  std::string error;
  if (!check_deck_settings(deck.settings, &error)) throw std::invalid_argument(error);
  if (deck.entries.empty()) throw std::invalid_argument("rate deck " + deck.settings.name + " has no rates");
  size_t first = 0;
  size_t second = 0;
  if (find_overlap(deck.entries, &first, &second)) {
    throw std::invalid_argument("rate deck " + deck.settings.name + ": two rates of prefix " +
                                deck.entries[first].prefix + " overlap in time");
  }
}

std::optional<std::string> money_or_null(const RateEntry& e, const Decimal& value) {
  if (e.tiered()) return std::nullopt;
  return value.to_string();
}

std::optional<int64_t> interval_or_null(const RateEntry& e, int64_t value) {
  if (e.tiered()) return std::nullopt;
  return value;
}

}  // namespace

uint64_t replace_deck(pqxx::connection& conn, const RateDeck& deck, const std::string& source,
                      const DeckProgress& progress) {
  check_deck(deck);
  const DeckSettings& s = deck.settings;
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO rate_decks (name, currency, duration_rounding, price_rounding, decimals, source) "
      "VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')) "
      "ON CONFLICT (name) DO UPDATE SET currency = EXCLUDED.currency, "
      "duration_rounding = EXCLUDED.duration_rounding, price_rounding = EXCLUDED.price_rounding, "
      "decimals = EXCLUDED.decimals, source = EXCLUDED.source, imported_at = now()",
      s.name, s.currency, std::string(duration_rounding_name(s.duration_rounding)),
      std::string(price_rounding_name(s.price_rounding)), s.decimals, source);
  tx.exec_params("DELETE FROM rate_deck_entries WHERE deck = $1", s.name);
  {
    pqxx::stream_to copy(
        tx, "rate_deck_entries",
        std::vector<std::string>{"deck", "prefix", "valid_from", "valid_till", "name", "initial_interval",
                                 "initial_rate", "next_interval", "next_rate", "tiers", "connect_fee", "attempt_fee",
                                 "grace_seconds", "min_length", "max_length"});
    // In key order: the primary key's B-tree then grows at its right edge
    // instead of splitting pages all over (a fifth less time for 100,000 rates).
    std::vector<const RateEntry*> order;
    order.reserve(deck.entries.size());
    for (const RateEntry& e : deck.entries) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const RateEntry* a, const RateEntry* b) {
      return a->prefix != b->prefix ? a->prefix < b->prefix : a->valid_from_us < b->valid_from_us;
    });
    size_t done = 0;
    for (const RateEntry* entry : order) {
      const RateEntry& e = *entry;
      const std::optional<std::string> tiers =
          e.tiered() ? std::optional<std::string>(format_tiers(e.tiers)) : std::nullopt;
      copy << std::make_tuple(s.name, e.prefix, pg_instant(e.valid_from_us), pg_instant(e.valid_till_us), e.name,
                              interval_or_null(e, e.initial_interval), money_or_null(e, e.initial_rate),
                              interval_or_null(e, e.next_interval), money_or_null(e, e.next_rate), tiers,
                              e.connect_fee.to_string(), e.attempt_fee.to_string(), e.grace_seconds, e.min_length,
                              e.max_length);
      if (progress && ++done % kProgressEvery == 0) progress(done, deck.entries.size());
    }
    copy.complete();
  }
  const uint64_t version = rating_version(tx);
  tx.commit();
  if (progress) progress(deck.entries.size(), deck.entries.size());
  return version;
}

std::vector<StoredDeck> list_decks(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::vector<StoredDeck> out;
  const pqxx::result r =
      tx.exec("SELECT " + kDeckColumns +
              ", (SELECT count(*) FROM rate_deck_entries e WHERE e.deck = d.name), COALESCE(d.source, ''), " +
              iso_of("d.imported_at") + " FROM rate_decks d ORDER BY d.name");
  for (const auto& row : r) {
    StoredDeck d;
    d.settings = settings_from_row(row);
    d.entries = row[5].as<int64_t>();
    d.source = row[6].as<std::string>();
    d.imported_at = row[7].as<std::string>();
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<StoredDeck> find_deck(pqxx::connection& conn, const std::string& name) {
  for (StoredDeck& d : list_decks(conn)) {
    if (d.settings.name == name) return std::move(d);
  }
  return std::nullopt;
}

std::optional<RateDeck> load_deck(pqxx::connection& conn, const std::string& name, const std::string& prefix) {
  if (!prefix.empty() && !std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw std::invalid_argument("prefix '" + prefix + "': digits only");
  }
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  const pqxx::result d = tx.exec_params("SELECT " + kDeckColumns + " FROM rate_decks d WHERE d.name = $1", name);
  if (d.empty()) return std::nullopt;
  RateDeck deck;
  deck.settings = settings_from_row(d[0]);
  // LIKE is safe here: the prefix is digits only, so it holds no wildcard.
  const pqxx::result r = tx.exec_params("SELECT " + kEntryColumns +
                                            " FROM rate_deck_entries e WHERE e.deck = $1 AND "
                                            "($2 = '' OR e.prefix LIKE $2 || '%' OR $2 LIKE e.prefix || '%') "
                                            "ORDER BY e.prefix, e.valid_from",
                                        name, prefix);
  deck.entries.reserve(r.size());
  for (const auto& row : r) deck.entries.push_back(entry_from_row(row, 0, name));
  tx.commit();
  return deck;
}

std::optional<std::string> assign_deck(pqxx::connection& conn, const RateAssignment& a) {
  if (a.subject.empty()) throw std::invalid_argument("an assignment needs an account or a trunk");
  pqxx::work tx(conn);
  // FOR KEY SHARE: the deck cannot be deleted before this commits.
  if (tx.exec_params("SELECT 1 FROM rate_decks WHERE name = $1 FOR KEY SHARE", a.deck).empty()) {
    throw NoSuchDeck(a.deck);
  }
  const std::string side(rate_side_name(a.side));
  const std::string direction(rate_direction_name(a.direction));
  const std::string from = pg_instant(a.valid_from_us);
  const pqxx::result old = tx.exec_params(
      "SELECT deck FROM rate_assignments WHERE side = $1 AND subject = $2 AND direction = $3 AND valid_from = "
      "$4::timestamptz FOR UPDATE",
      side, a.subject, direction, from);
  tx.exec_params(
      "INSERT INTO rate_assignments (side, subject, direction, valid_from, deck) VALUES ($1, $2, $3, "
      "$4::timestamptz, $5) ON CONFLICT (side, subject, direction, valid_from) DO UPDATE SET deck = EXCLUDED.deck, "
      "assigned_at = now()",
      side, a.subject, direction, from, a.deck);
  tx.commit();
  if (old.empty()) return std::nullopt;
  return old[0][0].as<std::string>();
}

std::optional<std::string> unassign_deck(pqxx::connection& conn, RateSide side, const std::string& subject,
                                         RateDirection direction, int64_t valid_from_us) {
  pqxx::work tx(conn);
  const pqxx::result r = tx.exec_params(
      "DELETE FROM rate_assignments WHERE side = $1 AND subject = $2 AND direction = $3 AND valid_from = "
      "$4::timestamptz RETURNING deck",
      std::string(rate_side_name(side)), subject, std::string(rate_direction_name(direction)),
      pg_instant(valid_from_us));
  if (r.empty()) {
    // Nothing was removed: roll back, so the version does not move either.
    tx.abort();
    return std::nullopt;
  }
  tx.commit();
  return r[0][0].as<std::string>();
}

std::vector<StoredAssignment> list_assignments(pqxx::connection& conn, std::optional<RateSide> side,
                                               const std::string& subject) {
  pqxx::read_transaction tx(conn);
  const pqxx::result r = tx.exec_params("SELECT " + kAssignmentColumns + ", " + iso_of("assigned_at") +
                                            " FROM rate_assignments WHERE ($1 = '' OR side = $1) AND "
                                            "($2 = '' OR subject = $2) ORDER BY side, subject, direction, valid_from",
                                        side ? std::string(rate_side_name(*side)) : std::string(), subject);
  std::vector<StoredAssignment> out;
  for (const auto& row : r) out.push_back(StoredAssignment{assignment_from_row(row), row[5].as<std::string>()});
  return out;
}

std::shared_ptr<const RatingSnapshot> load_rating_snapshot(pqxx::connection& conn) {
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  const uint64_t version = rating_version(tx);
  std::vector<std::unique_ptr<DeckIndex>> decks;
  std::unordered_map<std::string, DeckIndex*> by_name;
  for (const auto& row : tx.exec("SELECT " + kDeckColumns + " FROM rate_decks d")) {
    decks.push_back(std::make_unique<DeckIndex>(settings_from_row(row)));
    by_name.emplace(decks.back()->settings().name, decks.back().get());
  }
  // Every rate of every deck, by far the biggest part: read through a
  // cursor a chunk at a time and packed as it comes (rate_index.h), so
  // neither the whole result nor every rate as a RateEntry is ever held
  // (for a 100,000-prefix deck those were some 30 and 50 MB).
  tx.exec("DECLARE cdrd_rate_entries NO SCROLL CURSOR FOR SELECT e.deck, " + kEntryColumns +
          " FROM rate_deck_entries e");
  while (true) {
    const pqxx::result chunk = tx.exec("FETCH " + std::to_string(kRateFetchRows) + " FROM cdrd_rate_entries");
    if (chunk.empty()) break;
    for (const auto& row : chunk) {
      const std::string deck = row[0].as<std::string>();
      const auto it = by_name.find(deck);
      if (it == by_name.end()) continue;  // cannot happen: the foreign key
      it->second->add(entry_from_row(row, 1, deck));
    }
  }
  tx.exec("CLOSE cdrd_rate_entries");
  for (const auto& deck : decks) deck->finish();
  std::vector<RateAssignment> assignments;
  for (const auto& row : tx.exec("SELECT " + kAssignmentColumns + " FROM rate_assignments")) {
    assignments.push_back(assignment_from_row(row));
  }
  tx.commit();
  return std::make_shared<const RatingSnapshot>(version, std::move(decks), std::move(assignments));
}

uint64_t rating_version(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT version FROM rating_version").front().as<uint64_t>();
}

}  // namespace cdrd
