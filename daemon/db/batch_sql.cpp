#include "daemon/db/batch_sql.h"

#include <pqxx/binarystring>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/subtransaction>

#include <algorithm>
#include <tuple>
#include <unordered_map>

#include "daemon/core/cdr_record.h"
#include "daemon/db/pg_binary_copy.h"

namespace cdrd {
namespace {

constexpr const char* kStaging = "cdrd_staging";

// The columns every write of a cdrs row sends, in encode_row()'s order.
const std::vector<std::string>& copy_columns() {
  static const std::vector<std::string> columns{"record",
                                                "raw",
                                                "raw_format",
                                                "id",
                                                "ts",
                                                "gregorian_ts",
                                                "account_id",
                                                "call_id",
                                                "started_at",
                                                "answered_at",
                                                "duration_seconds",
                                                "billing_seconds",
                                                "ringing_seconds",
                                                "call_direction",
                                                "hangup_cause",
                                                "hangup_code",
                                                "billing_status",
                                                "caller_id_number",
                                                "callee_id_number",
                                                "from_uri",
                                                "to_uri",
                                                "other_leg_call_id",
                                                "interaction_id",
                                                "media_server",
                                                "leg",
                                                "source",
                                                "imported",
                                                "is_loopback",
                                                "sip_call_id",
                                                "trunk",
                                                "direction_class",
                                                "caller_e164",
                                                "callee_e164",
                                                "destination_country",
                                                "leg_interaction_id",
                                                "customer_charge",
                                                "customer_currency",
                                                "vendor_charge",
                                                "vendor_currency",
                                                "call_root"};
  return columns;
}

void put_numeric(BinaryRowEncoder& e, const std::optional<std::string>& value, const char* column) {
  if (!value) {
    e.null();
  } else if (!e.numeric(*value)) {
    // Charges come from cdrd's own decimal code: this is a bug, refused as
    // the row's (quarantined) rather than retried forever.
    throw pqxx::data_exception(std::string(column) + " is not a decimal: " + *value, "", "22P02");
  }
}

// One row in copy_columns() order. The record goes with call assembly's
// fields spliced in before its closing brace (jsonb keeps the last of a
// repeated key), sent in three pieces rather than joined first.
void encode_row(BinaryRowEncoder& e, const CdrRow& r) {
  e.begin_row(static_cast<int16_t>(copy_columns().size()));
  const size_t close = r.record_patch.empty() ? std::string::npos : r.record.find_last_of('}');
  const size_t last =
      close == std::string::npos || close == 0 ? std::string::npos : r.record.find_last_not_of(" \t\r\n", close - 1);
  if (last == std::string::npos) {
    e.jsonb(r.record);  // no patch, or not an object (PostgreSQL refuses it)
  } else {
    // record_patch starts with a comma; an empty object takes its members without one.
    const std::string_view patch =
        r.record[last] == '{' ? std::string_view(r.record_patch).substr(1) : std::string_view(r.record_patch);
    e.jsonb(std::string_view(r.record).substr(0, close), patch, "}");
  }
  e.text(r.raw);
  e.text(r.raw_format);
  e.text(r.id);
  e.timestamptz(r.ts_us);
  e.int64(r.gregorian_ts);
  e.text(r.account_id);
  e.text(r.call_id);
  e.timestamptz(r.started_at_us);
  e.timestamptz(r.answered_at_us);
  e.int32(static_cast<int32_t>(r.duration_seconds));  // in range: extract_columns() checked
  e.int32(static_cast<int32_t>(r.billing_seconds));
  e.int32(static_cast<int32_t>(r.ringing_seconds));
  for (const auto* text :
       {&r.call_direction, &r.hangup_cause, &r.hangup_code, &r.billing_status, &r.caller_id_number, &r.callee_id_number,
        &r.from_uri, &r.to_uri, &r.other_leg_call_id, &r.interaction_id, &r.media_server, &r.leg}) {
    e.text(*text);
  }
  e.text(r.source);
  e.boolean(r.imported);
  e.boolean(r.is_loopback);
  for (const auto* text : {&r.sip_call_id, &r.trunk, &r.direction_class, &r.caller_e164, &r.callee_e164,
                           &r.destination_country, &r.leg_interaction_id}) {
    e.text(*text);
  }
  put_numeric(e, r.customer_charge, "customer_charge");
  e.text(r.customer_currency);
  put_numeric(e, r.vendor_charge, "vendor_charge");
  e.text(r.vendor_currency);
  e.boolean(r.call_root);
}

void copy_rows(pqxx::dbtransaction& tx, const char* table, const std::vector<const CdrRow*>& rows) {
  BinaryCopyIn copy(tx, table, copy_columns());
  for (const CdrRow* row : rows) {
    encode_row(copy.encoder(), *row);
    copy.end_row();
  }
  copy.complete();
}

// source_rank() in SQL, for the upsert.
std::string source_rank_sql(const std::string& column) {
  return "(CASE " + column + " WHEN '" + std::string(kPoorerSource) + "' THEN 1 ELSE 2 END)";
}

// One row per (id, ts, account_id), the table's key (migration 004), the
// richest record winning whichever arrived first:
// - DISTINCT ON keeps the best staging row of the batch, because ON CONFLICT
//   DO UPDATE may not touch a row twice in one statement; among equals the
//   first one copied (COPY fills the emptied staging table in ctid order);
// - the conflict updates only when the new source ranks strictly higher, so
//   a repeat of the same leg (a replay after a crash, a FreeSWITCH retry)
//   never rewrites the row. received_at is left alone: it keeps the first
//   arrival.
std::string build_insert_sql(UpsertMode mode) {
  std::string cols;
  std::string updates;
  for (const auto& c : copy_columns()) {
    if (!cols.empty()) cols += ", ";
    cols += c;
    if (c == "id" || c == "ts" || c == "account_id") continue;
    if (!updates.empty()) updates += ", ";
    updates += c + " = EXCLUDED." + c;
  }
  const std::string guard = mode == UpsertMode::kReplace ? std::string()
                                                         : " WHERE " + source_rank_sql("cdrs.source") + " < " +
                                                               source_rank_sql("EXCLUDED.source");
  const std::string insert = "INSERT INTO cdrs (" + cols + ") SELECT DISTINCT ON (id, ts, account_id) " + cols +
                             " FROM " + kStaging + " ORDER BY id, ts, account_id, " + source_rank_sql("source") +
                             " DESC, ctid ON CONFLICT (id, ts, account_id) DO UPDATE SET " + updates + guard;
  // RETURNING gives the partition each row went to (tableoid), in the same
  // statement: rows with no monthly partition are counted as they land in
  // cdrs_default, not found later by a scan. Only the rows inserted or
  // updated are returned, the count affected_rows() gave before.
  const std::string in_default = " FILTER (WHERE tableoid = 'cdrs_default'::regclass)";
  return "WITH written AS (" + insert + " RETURNING tableoid, ts) SELECT count(*), count(*)" + in_default +
         ", coalesce(string_agg(DISTINCT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM'), ' ')" + in_default +
         ", '') FROM written";
}

// kReplace (renormalize, rerate) rewrites the row whatever its source: the
// new record is the same leg derived again.
const std::string& insert_sql(UpsertMode mode) {
  static const std::string richer = build_insert_sql(UpsertMode::kRicherWins);
  static const std::string replace = build_insert_sql(UpsertMode::kReplace);
  return mode == UpsertMode::kReplace ? replace : richer;
}

bool has_nul(const std::optional<std::string>& s) { return s && s->find('\0') != std::string::npos; }

// Libpq passes text parameters as C strings, so a NUL would silently cut the
// value short; such records go to the quarantine as bytes only.
bool text_columns_can_hold(const QuarantineEntry& e) {
  return e.error.find('\0') == std::string::npos && !has_nul(e.record) && !has_nul(e.raw) && !has_nul(e.raw_format);
}

std::string payload_of(const QuarantineEntry& e) {
  if (e.payload) return *e.payload;
  return encode_spool_payload(CdrRecord{e.record.value_or(""), e.raw.value_or(""), e.raw_format.value_or("")});
}

void insert_payload_only(pqxx::transaction_base& tx, const std::string& error, const std::string& payload) {
  std::string safe_error = error;
  safe_error.erase(std::remove(safe_error.begin(), safe_error.end(), '\0'), safe_error.end());
  tx.exec_params("INSERT INTO cdrs_quarantine (error, payload) VALUES ($1, $2)", safe_error,
                 pqxx::binarystring(payload.data(), payload.size()));
}

}  // namespace

int source_rank(std::string_view source) { return source == kPoorerSource ? 1 : 2; }

void configure_writer_session(pqxx::connection& conn, const std::string& application_name) {
  pqxx::nontransaction tx(conn);
  tx.exec("SET application_name = " + tx.quote(application_name));
  // The writer's statements run once per batch. With JIT on (PostgreSQL's
  // default where llvmjit is installed, as in Debian's packages) the
  // planner's estimates for the call step's walk and inserts passed
  // jit_above_cost, and each batch compiled code with LLVM: libLLVM and the
  // dynamic loader were a tenth of PostgreSQL's samples in the ingest bench.
  tx.exec("SET jit = off");
}

void create_staging_table(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  // No indexes or keys (LIKE copies neither): the table only feeds one
  // INSERT ... SELECT. INCLUDING COMPRESSION keeps lz4 on the big columns so
  // PostgreSQL moves the already-compressed values into cdrs instead of
  // compressing them again there.
  tx.exec(std::string("CREATE TEMP TABLE IF NOT EXISTS ") + kStaging +
          " (LIKE cdrs INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DELETE ROWS");
}

InsertOutcome copy_and_insert(pqxx::dbtransaction& tx, const std::vector<const CdrRow*>& rows, UpsertMode mode) {
  copy_rows(tx, kStaging, rows);
  const pqxx::row r = tx.exec1(insert_sql(mode));
  InsertOutcome out;
  out.affected = r[0].as<uint64_t>();
  out.in_default = r[1].as<uint64_t>();
  const std::string months = r[2].as<std::string>();
  for (size_t start = 0; start < months.size();) {
    size_t end = months.find(' ', start);
    if (end == std::string::npos) end = months.size();
    out.default_months.push_back(months.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

InsertOutcome insert_rows(pqxx::dbtransaction& tx, const std::vector<const CdrRow*>& rows,
                          const MonthlyPartitions& partitions) {
  // How often each key occurs in the batch: a leg twice in one batch (ESL
  // and mod_json_cdr) needs DISTINCT ON, so both copies take the upsert.
  std::unordered_map<std::string, int> seen;
  seen.reserve(rows.size());
  auto key = [](const CdrRow& r) {
    std::string k = r.account_id;
    k.push_back('\0');
    k.append(r.id);
    k.push_back('\0');
    k.append(std::to_string(r.ts_us));
    return k;
  };
  for (const CdrRow* r : rows) ++seen[key(*r)];
  std::vector<const CdrRow*> fresh;
  std::vector<const CdrRow*> upsert;
  for (const CdrRow* r : rows) {
    const bool direct = !r->stored_version && seen[key(*r)] == 1 && partitions.covers(r->ts_us);
    (direct ? fresh : upsert).push_back(r);
  }
  InsertOutcome out;
  if (!fresh.empty()) {
    try {
      pqxx::subtransaction sub(tx, "cdrd-direct");
      copy_rows(sub, "cdrs", fresh);
      sub.commit();
      out.affected = fresh.size();
      out.direct = fresh.size();
    } catch (const pqxx::sql_error& e) {
      // 23505 unique_violation: a version of some leg is stored after all
      // (a replay the call walk did not reach): the whole set takes the
      // upsert, which decides row by row. Anything else is the caller's.
      if (e.sqlstate() != "23505") throw;
      out.direct_conflicts = 1;
      upsert.insert(upsert.end(), fresh.begin(), fresh.end());
    }
  }
  if (!upsert.empty()) {
    const InsertOutcome merged = copy_and_insert(tx, upsert, UpsertMode::kRicherWins);
    out.affected += merged.affected;
    out.in_default = merged.in_default;
    out.default_months = merged.default_months;
  }
  return out;
}

void clear_staging(pqxx::transaction_base& tx) { tx.exec(std::string("TRUNCATE ") + kStaging); }

void insert_quarantine(pqxx::dbtransaction& tx, const QuarantineEntry& entry) {
  if (text_columns_can_hold(entry)) {
    try {
      pqxx::subtransaction sub(tx, "cdrd-quarantine");
      // libpqxx 6.4 sends a subtransaction's SAVEPOINT with its first exec(),
      // not with exec_params(): without this the failed INSERT below would
      // abort the whole batch instead of rolling back to the savepoint.
      sub.exec("SELECT 1");
      std::optional<pqxx::binarystring> payload;
      if (entry.payload) payload.emplace(entry.payload->data(), entry.payload->size());
      if (payload) {
        sub.exec_params(
            "INSERT INTO cdrs_quarantine (error, record, raw, raw_format, payload) VALUES ($1, $2, $3, $4, $5)",
            entry.error, entry.record, entry.raw, entry.raw_format, *payload);
      } else {
        sub.exec_params("INSERT INTO cdrs_quarantine (error, record, raw, raw_format) VALUES ($1, $2, $3, $4)",
                        entry.error, entry.record, entry.raw, entry.raw_format);
      }
      sub.commit();
      return;
    } catch (const std::exception& e) {
      if (!is_data_error(e)) throw;
    }
  }
  insert_payload_only(tx, entry.error, payload_of(entry));
}

DbErrorClass classify_db_error(const std::exception& e) {
  // libpqxx's own types first: they carry no SQLSTATE (libpqxx 6.4 turns
  // every 08xxx and 53300 too_many_connections into broken_connection), and
  // in_doubt_error must never be mistaken for anything else.
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) return DbErrorClass::kInDoubt;
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return DbErrorClass::kConnection;
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) return DbErrorClass::kInDoubt;
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (sql == nullptr) {
    // libpqxx 6.4 maps 40000, 40001 (serialization_failure) and 40P01
    // (deadlock_detected) to transaction_rollback types that keep no SQLSTATE.
    if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) return DbErrorClass::kConflict;
    return DbErrorClass::kOther;
  }
  const std::string& state = sql->sqlstate();
  const std::string cls = state.substr(0, 2);
  if (cls == "22" || cls == "23") return DbErrorClass::kBadRow;
  // 54000: "index row size exceeds maximum", "row is too big": a value too
  // large for the table, which no retry fixes (a 10 kB random call_id would
  // otherwise hold the writer on that batch forever). The other 54xxx codes
  // (statement too complex, too many columns or arguments) are about the
  // statement, not the row.
  if (state == "54000") return DbErrorClass::kBadRow;
  if (state == "40003") return DbErrorClass::kInDoubt;
  if (cls == "40") return DbErrorClass::kConflict;
  if (cls == "08") return DbErrorClass::kConnection;
  if (cls == "53") return DbErrorClass::kResources;
  if (cls == "57") return DbErrorClass::kInterrupted;
  return DbErrorClass::kOther;
}

const char* db_error_class_name(DbErrorClass c) {
  switch (c) {
    case DbErrorClass::kBadRow:
      return "bad_row";
    case DbErrorClass::kConnection:
      return "connection";
    case DbErrorClass::kInDoubt:
      return "in_doubt";
    case DbErrorClass::kConflict:
      return "conflict";
    case DbErrorClass::kResources:
      return "resources";
    case DbErrorClass::kInterrupted:
      return "interrupted";
    case DbErrorClass::kOther:
      return "other";
  }
  return "other";
}

bool is_data_error(const std::exception& e) { return classify_db_error(e) == DbErrorClass::kBadRow; }

std::string error_text(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace cdrd
