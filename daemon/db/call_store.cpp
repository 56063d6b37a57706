#include "daemon/db/call_store.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "daemon/core/call_assembly.h"
#include "daemon/db/call_rating.h"
#include "daemon/db/pg_binary_copy.h"
#include "daemon/rating/rating_time.h"

namespace cdrd {
namespace {

constexpr const char* kBatchLinks = "cdrd_batch_links";
constexpr const char* kRelink = "cdrd_relink";
// A walk never follows more hops than this from the batch (a call through
// five loopback pairs is ten), nor returns more legs: a uuid that many
// unrelated legs share (a constant a dialplan sets everywhere) must not make
// every batch read the whole table.
constexpr int kMaxHops = 24;
constexpr int kMaxStoredLegs = 5000;
// Legs followed per link: a call has a handful; a uuid named by more is not
// one call's (a dialplan constant), and following all of them would read
// thousands of legs for every batch that names it.
constexpr int kMaxLegsPerLink = 64;

// The stored legs connected to the batch's links, with what assembly and
// rating need. started/answered/ended as Unix µs (extract() is numeric in
// PostgreSQL 14+, exact).
std::string stored_legs_sql() {
  return std::string(
             "WITH RECURSIVE walk(account_id, call_id, hops) AS ("
             " SELECT s.account_id, l.call_id, 0 FROM (SELECT DISTINCT account_id, link FROM ") +
         kBatchLinks +
         ") s, LATERAL (SELECT call_id FROM cdr_links WHERE account_id = s.account_id AND link = s.link LIMIT " +
         std::to_string(kMaxLegsPerLink) +
         ") l"
         " UNION"
         " SELECT w.account_id, l2.call_id, w.hops + 1 FROM walk w"
         " JOIN cdr_links l1 ON l1.account_id = w.account_id AND l1.call_id = w.call_id,"
         " LATERAL (SELECT call_id FROM cdr_links WHERE account_id = l1.account_id AND link = l1.link LIMIT " +
         std::to_string(kMaxLegsPerLink) +
         ") l2"
         " WHERE w.hops < " +
         std::to_string(kMaxHops) +
         "), legs AS (SELECT DISTINCT w.account_id, w.call_id, k.ts FROM walk w"
         " JOIN cdr_links k ON k.account_id = w.account_id AND k.call_id = w.call_id LIMIT " +
         std::to_string(kMaxStoredLegs) +
         ")"
         " SELECT c.id, c.ts::text, c.account_id, c.call_id, coalesce(c.leg_interaction_id, c.interaction_id, ''),"
         " coalesce(c.interaction_id, ''), coalesce(c.direction_class, ''), c.is_loopback, coalesce(c.trunk, ''),"
         " coalesce(c.call_direction, ''), coalesce(c.callee_e164, ''),"
         " coalesce((extract(epoch FROM c.started_at) * 1000000)::bigint, 0),"
         " coalesce((extract(epoch FROM c.answered_at) * 1000000)::bigint, 0),"
         " coalesce((extract(epoch FROM (c.record->>'ended_at')::timestamptz) * 1000000)::bigint, 0),"
         " coalesce(c.record->'rating' ? 'customer', false), coalesce(c.record->'rating'->'vendor'->>'name', ''),"
         " (SELECT array_agg(x.link) FROM cdr_links x WHERE x.account_id = c.account_id AND x.call_id = c.call_id),"
         " c.billing_seconds, c.source, c.call_root"
         " FROM legs JOIN cdrs c ON c.account_id = legs.account_id AND c.call_id = legs.call_id AND c.ts = legs.ts";
}

// A stored leg as stored_legs_sql() returns it: what assembly and rating
// read of it, in their own shapes, and the call-level fields it has now.
struct StoredLeg {
  std::string id, ts, source;
  AssemblyLeg assembly;
  RatingLeg rating;  // direction_class left empty: the call's, set when it is rated
  std::string interaction_id, direction_class;
  bool call_root = false;
  bool has_customer = false;
  std::string vendor_rate_name;
};

// "{a,b,"c d"}" from array_agg: libpqxx 6.4's array_parser.
std::vector<std::string> parse_text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  pqxx::array_parser parser = f.as_array();
  for (auto [kind, value] = parser.get_next(); kind != pqxx::array_parser::done;
       std::tie(kind, value) = parser.get_next()) {
    if (kind == pqxx::array_parser::string_value) out.push_back(value);
  }
  return out;
}

std::vector<StoredLeg> read_stored_legs(pqxx::transaction_base& tx) {
  std::vector<StoredLeg> out;
  for (const auto& row : tx.exec(stored_legs_sql())) {
    StoredLeg s;
    s.id = row[0].as<std::string>();
    s.ts = row[1].as<std::string>();
    AssemblyLeg& a = s.assembly;
    a.account_id = row[2].as<std::string>();
    a.call_id = row[3].as<std::string>();
    a.leg_interaction_id = row[4].as<std::string>();
    s.interaction_id = row[5].as<std::string>();
    s.direction_class = row[6].as<std::string>();
    a.is_loopback = row[7].as<bool>();
    a.trunk = row[8].as<std::string>();
    a.call_direction = row[9].as<std::string>();
    RatingLeg& r = s.rating;
    r.account_id = a.account_id;
    r.trunk = a.trunk;
    r.callee_e164 = row[10].as<std::string>();
    r.start_us = a.started_us = row[11].as<int64_t>();
    r.answer_us = row[12].as<int64_t>();
    r.end_us = row[13].as<int64_t>();
    s.has_customer = row[14].as<bool>();
    s.vendor_rate_name = row[15].as<std::string>();
    a.links = parse_text_array(row[16]);
    r.billing_seconds = row[17].as<int64_t>();
    s.source = row[18].as<std::string>();
    s.call_root = row[19].as<bool>();
    out.push_back(std::move(s));
  }
  return out;
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void put(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// The members call assembly adds to a record, as a JSON object text.
std::string call_fields_json(const std::string& interaction_id, const std::string& direction_class,
                             const std::optional<std::string>& destination_country, const std::string& destination_type,
                             const std::string& destination_name, const LegRatings& ratings) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "interaction_id", interaction_id);
  put(w, "direction_class", direction_class);
  if (destination_country || !destination_name.empty() || !destination_type.empty()) {
    w.Key("destination");
    w.StartObject();
    if (!destination_name.empty()) put(w, "name", destination_name);
    if (destination_country) put(w, "country", *destination_country);
    if (!destination_type.empty()) put(w, "type", destination_type);
    w.EndObject();
  }
  if (!ratings.empty()) {
    w.Key("rating");
    w.RawValue(ratings.json().data(), ratings.json().size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// What assembly and rating read of a batch row (StoredLeg has them read from the table).
AssemblyLeg assembly_leg(const CdrRow& r) {
  AssemblyLeg leg;
  leg.account_id = r.account_id;
  leg.call_id = r.call_id;
  leg.leg_interaction_id = r.leg_interaction_id.value_or("");
  leg.links = links_of(r);
  leg.started_us = r.started_us;
  leg.is_loopback = r.is_loopback;
  leg.trunk = r.trunk.value_or("");
  leg.call_direction = r.call_direction.value_or("");
  return leg;
}

RatingLeg rating_leg(const CdrRow& r) {
  RatingLeg leg;
  leg.account_id = r.account_id;
  leg.trunk = r.trunk.value_or("");
  leg.callee_e164 = r.callee_e164.value_or("");
  leg.start_us = r.started_us;
  leg.answer_us = r.answered_us;
  leg.end_us = r.ended_us;
  leg.billing_seconds = r.billing_seconds;
  return leg;
}

RatingLeg with_class(RatingLeg leg, const std::string& direction_class) {
  leg.direction_class = direction_class;
  return leg;
}

void count(const LegRatings& r, CallStepOutcome* out) {
  if (r.customer) (r.customer->rated ? out->customer_rated : out->customer_unrated) += 1;
  if (r.vendor) (r.vendor->rated ? out->vendor_rated : out->vendor_unrated) += 1;
}

// What a stored leg's row must become when its call-level fields changed.
struct Relink {
  const StoredLeg* leg;
  std::string interaction_id, direction_class;
  bool call_root = false;
  std::optional<std::string> customer_charge, customer_currency;
  std::optional<std::string> customer_json;  // absent: the leg carries no customer rating any more
  std::optional<std::string> destination_name;
};

void write_relinks(pqxx::transaction_base& tx, const std::vector<Relink>& relinks) {
  {
    pqxx::stream_to copy(
        tx, kRelink,
        std::vector<std::string>{"id", "ts", "account_id", "interaction_id", "direction_class", "call_root",
                                 "customer_charge", "customer_currency", "customer", "destination_name"});
    for (const Relink& r : relinks) {
      copy << std::make_tuple(r.leg->id, r.leg->ts, r.leg->assembly.account_id, r.interaction_id, r.direction_class,
                              r.call_root, r.customer_charge, r.customer_currency, r.customer_json, r.destination_name);
    }
    copy.complete();
  }
  // The vendor rating is the leg's own and stays; the customer rating
  // follows the root. An empty rating object is dropped.
  const std::string rating =
      "((coalesce(c.record->'rating', '{}'::jsonb) - 'customer') || CASE WHEN u.customer IS NULL THEN '{}'::jsonb"
      " ELSE jsonb_build_object('customer', u.customer) END)";
  tx.exec(
      // leg_interaction_id NULL (a row stored before migration 006) means its
      // interaction_id is the leg's own: saved before it is overwritten.
      "UPDATE cdrs c SET leg_interaction_id = coalesce(c.leg_interaction_id, c.interaction_id),"
      " interaction_id = u.interaction_id, direction_class = u.direction_class, call_root = u.call_root,"
      " customer_charge = u.customer_charge, customer_currency = u.customer_currency,"
      " record = CASE WHEN " +
      rating + " = '{}'::jsonb THEN c.record - 'rating' ELSE c.record || jsonb_build_object('rating', " + rating +
      ") END"
      " || jsonb_build_object('interaction_id', u.interaction_id, 'direction_class', u.direction_class)"
      " || CASE WHEN u.destination_name IS NULL OR NOT c.record ? 'destination' THEN '{}'::jsonb"
      " ELSE jsonb_build_object('destination', c.record->'destination' || jsonb_build_object('name',"
      " u.destination_name)) END"
      " FROM " +
      std::string(kRelink) + " u WHERE c.id = u.id AND c.ts = u.ts AND c.account_id = u.account_id");
}

void copy_links(pqxx::dbtransaction& tx, const std::vector<const CdrRow*>& rows) {
  BinaryCopyIn copy(tx, kBatchLinks, std::vector<std::string>{"account_id", "link", "call_id", "ts"});
  BinaryRowEncoder& e = copy.encoder();
  for (const CdrRow* row : rows) {
    for (const std::string& link : links_of(*row)) {
      e.begin_row(4);
      e.text(row->account_id);
      e.text(link);
      e.text(row->call_id);
      e.timestamptz(row->ts_us);
    }
    copy.end_row();
  }
  copy.complete();
}

}  // namespace

void store_batch_links(pqxx::transaction_base& tx) {
  tx.exec(std::string("INSERT INTO cdr_links (account_id, link, call_id, ts) SELECT DISTINCT account_id, link, call_id,"
                      " ts FROM ") +
          kBatchLinks + " ON CONFLICT DO NOTHING");
  tx.exec(std::string("DELETE FROM ") + kBatchLinks);
}

void create_call_tables(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  tx.exec(std::string("CREATE TEMP TABLE IF NOT EXISTS ") + kBatchLinks +
          " (account_id text, link text, call_id text, ts timestamptz) ON COMMIT DELETE ROWS");
  tx.exec(std::string("CREATE TEMP TABLE IF NOT EXISTS ") + kRelink +
          " (id text, ts timestamptz, account_id text, interaction_id text, direction_class text, call_root boolean,"
          " customer_charge numeric, customer_currency text, customer jsonb, destination_name text)"
          " ON COMMIT DELETE ROWS");
}

std::vector<std::string> links_of(const CdrRow& row) {
  std::vector<std::string> links;
  auto add = [&links](const std::string& link) {
    if (usable_link(link) && std::find(links.begin(), links.end(), link) == links.end()) links.push_back(link);
  };
  add(row.call_id);
  if (row.leg_interaction_id) add(*row.leg_interaction_id);
  for (const std::string& id : row.related_call_ids) add(id);
  return links;
}

std::string iso_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return format_iso_time_us(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

CallStepOutcome assemble_and_rate(pqxx::dbtransaction& tx, std::vector<CdrRow*>& rows, const RatingSnapshot* rating,
                                  const std::string& rated_at) {
  CallStepOutcome out;
  if (rows.empty()) return out;
  const auto started = std::chrono::steady_clock::now();
  // 1. The batch's links.
  { copy_links(tx, std::vector<const CdrRow*>(rows.begin(), rows.end())); }
  // 2. The stored legs connected to them.
  const std::vector<StoredLeg> stored = read_stored_legs(tx);
  if (stored.size() >= static_cast<size_t>(kMaxStoredLegs)) {
    spdlog::warn("call assembly: the batch's links reach {} or more stored legs; only those are assembled",
                 kMaxStoredLegs);
  }

  // 3. Assembly over batch and stored legs together. A leg present twice
  // (stored and arriving again, or twice in the batch: ESL and mod_json_cdr)
  // takes part once, as the version the upsert keeps: the richer source;
  // among equals the stored row, else the first in the batch.
  const size_t participants = rows.size() + stored.size();
  std::vector<AssemblyLeg> batch_legs;
  batch_legs.reserve(rows.size());
  for (const CdrRow* r : rows) batch_legs.push_back(assembly_leg(*r));
  auto leg_at = [&](size_t p) -> const AssemblyLeg& {
    return p < rows.size() ? batch_legs[p] : stored[p - rows.size()].assembly;
  };
  auto rank_at = [&](size_t p) {
    return source_rank(p < rows.size() ? rows[p]->source : stored[p - rows.size()].source);
  };
  // The participant whose data stands for each one's leg.
  std::vector<size_t> version(participants);
  {
    std::vector<std::string> keys(participants);
    for (size_t p = 0; p < participants; ++p) {
      keys[p] = leg_at(p).account_id;
      keys[p].push_back('\0');
      keys[p].append(leg_at(p).call_id);
    }
    std::unordered_map<std::string, size_t> kept;
    auto consider = [&](size_t p) {
      const auto [it, fresh] = kept.emplace(keys[p], p);
      if (!fresh && rank_at(p) > rank_at(it->second)) it->second = p;
    };
    for (size_t p = rows.size(); p < participants; ++p) consider(p);  // stored first: they win ties
    for (size_t p = 0; p < rows.size(); ++p) consider(p);
    for (size_t p = 0; p < participants; ++p) version[p] = kept.at(keys[p]);
    // A batch row whose leg has a stored version (same account and call_id)
    // must take the upsert (batch_sql.h insert_rows()).
    std::unordered_set<std::string> stored_keys(keys.begin() + static_cast<std::ptrdiff_t>(rows.size()), keys.end());
    for (size_t i = 0; i < rows.size(); ++i) rows[i]->stored_version = stored_keys.count(keys[i]) != 0;
  }
  std::vector<AssemblyLeg> legs;
  std::vector<size_t> leg_of(participants);  // index into `legs` of each participant's kept version
  legs.reserve(participants);
  for (size_t p = 0; p < participants; ++p) {
    if (version[p] != p) continue;
    leg_of[p] = legs.size();
    legs.push_back(leg_at(p));
  }
  const std::vector<AssembledLeg> by_leg = assemble_calls(legs);
  std::vector<AssembledLeg> assembled(participants);
  for (size_t p = 0; p < participants; ++p) assembled[p] = by_leg[leg_of[version[p]]];

  // 4-5. The batch rows.
  for (size_t i = 0; i < rows.size(); ++i) {
    CdrRow& r = *rows[i];
    const AssembledLeg& a = assembled[i];
    const LegRatings ratings =
        rate_leg(rating, with_class(rating_leg(r), a.direction_class), a.root, r.kazoo_rate_vars, rated_at);
    count(ratings, &out);
    r.interaction_id = a.interaction_id;
    r.direction_class = a.direction_class;
    r.call_root = a.root;
    r.customer_charge.reset();
    r.customer_currency.reset();
    r.vendor_charge.reset();
    r.vendor_currency.reset();
    if (ratings.customer && ratings.customer->rated) {
      r.customer_charge = ratings.customer->charge;
      r.customer_currency = ratings.customer->currency;
    }
    if (ratings.vendor && ratings.vendor->rated) {
      r.vendor_charge = ratings.vendor->charge;
      r.vendor_currency = ratings.vendor->currency;
    }
    const std::string name = ratings.destination_name().empty() ? r.destination_name : ratings.destination_name();
    std::string fields =
        call_fields_json(a.interaction_id, a.direction_class, r.destination_country, r.destination_type, name, ratings);
    // {"interaction_id":...} -> ,"interaction_id":... (spliced into the record).
    fields.front() = ',';
    fields.pop_back();
    r.record_patch = std::move(fields);
  }

  // 5. Stored rows whose call-level fields changed.
  std::vector<Relink> relinks;
  for (size_t j = 0; j < stored.size(); ++j) {
    const StoredLeg& s = stored[j];
    const AssembledLeg& a = assembled[rows.size() + j];
    const bool class_changed = s.direction_class != a.direction_class;
    if (s.interaction_id == a.interaction_id && !class_changed && s.has_customer == a.root && s.call_root == a.root) {
      continue;
    }
    Relink r;
    r.leg = &s;
    r.call_root = a.root;
    r.interaction_id = a.interaction_id;
    r.direction_class = a.direction_class;
    if (a.root) {
      const std::optional<RateResult> customer =
          rate_customer(rating, with_class(s.rating, a.direction_class), rated_at);
      if (customer) {
        (customer->rated ? out.customer_rated : out.customer_unrated) += 1;
        r.customer_json = customer->json;
        if (customer->rated) {
          r.customer_charge = customer->charge;
          r.customer_currency = customer->currency;
          r.destination_name = customer->name;
        }
      }
    } else if (s.has_customer && !s.vendor_rate_name.empty()) {
      r.destination_name = s.vendor_rate_name;
    }
    relinks.push_back(std::move(r));
  }
  if (!relinks.empty()) {
    write_relinks(tx, relinks);
    // DELETE, not TRUNCATE: a TRUNCATE makes a new file for the table each time.
    tx.exec(std::string("DELETE FROM ") + kRelink);
  }
  out.relinked = relinks.size();
  out.elapsed_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  return out;
}

InsertOutcome store_rows(pqxx::dbtransaction& tx, std::vector<CdrRow*>& rows, const RatingSnapshot* rating,
                         UpsertMode mode, CallStepOutcome* calls, const MonthlyPartitions* partitions) {
  *calls = assemble_and_rate(tx, rows, rating, iso_now());
  const std::vector<const CdrRow*> written(rows.begin(), rows.end());
  InsertOutcome out;
  if (!written.empty()) {
    out = mode == UpsertMode::kRicherWins && partitions != nullptr ? insert_rows(tx, written, *partitions)
                                                                   : copy_and_insert(tx, written, mode);
  }
  // Every row went in: the links assemble_and_rate() copied are theirs.
  store_batch_links(tx);
  return out;
}

void insert_links(pqxx::dbtransaction& tx, const std::vector<const CdrRow*>& rows) {
  tx.exec(std::string("DELETE FROM ") + kBatchLinks);
  if (rows.empty()) return;
  copy_links(tx, rows);
  store_batch_links(tx);
}

}  // namespace cdrd
