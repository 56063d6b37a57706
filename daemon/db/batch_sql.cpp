#include "daemon/db/batch_sql.h"

#include <pqxx/binarystring>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/stream_to>
#include <pqxx/subtransaction>

#include <algorithm>
#include <tuple>

#include "daemon/core/cdr_record.h"

namespace cdrd {
namespace {

constexpr const char* kStaging = "cdrd_staging";

// The big columns come first: libpqxx 6.4 builds each COPY line by
// recursive concatenation, which copies a field once per column before it.
// Same order as copy_fields().
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
                                                "is_loopback"};
  return columns;
}

auto copy_fields(const CdrRow& r) {
  return std::forward_as_tuple(r.record, r.raw, r.raw_format, r.id, r.ts, r.gregorian_ts, r.account_id, r.call_id,
                               r.started_at, r.answered_at, r.duration_seconds, r.billing_seconds, r.ringing_seconds,
                               r.call_direction, r.hangup_cause, r.hangup_code, r.billing_status, r.caller_id_number,
                               r.callee_id_number, r.from_uri, r.to_uri, r.other_leg_call_id, r.interaction_id,
                               r.media_server, r.leg, r.source, r.imported, r.is_loopback);
}

// How complete a source's record is. mod_json_cdr, mod_xml_cdr and an import
// carry the callflow and every variable; an ESL hangup event carries fewer.
std::string source_rank(const std::string& column) { return "(CASE " + column + " WHEN 'esl' THEN 1 ELSE 2 END)"; }

// One row per (id, ts, account_id), the table's key (migration 004), the
// richest record winning whichever arrived first:
// - DISTINCT ON keeps the best staging row of the batch, because ON CONFLICT
//   DO UPDATE may not touch a row twice in one statement; among equals the
//   first one copied (COPY fills the emptied staging table in ctid order);
// - the conflict updates only when the new source ranks strictly higher, so
//   a repeat of the same leg (a replay after a crash, a FreeSWITCH retry)
//   never rewrites the row. received_at is left alone: it keeps the first
//   arrival.
const std::string& insert_sql() {
  static const std::string sql = [] {
    std::string cols;
    std::string updates;
    for (const auto& c : copy_columns()) {
      if (!cols.empty()) cols += ", ";
      cols += c;
      if (c == "id" || c == "ts" || c == "account_id") continue;
      if (!updates.empty()) updates += ", ";
      updates += c + " = EXCLUDED." + c;
    }
    return "INSERT INTO cdrs (" + cols + ") SELECT DISTINCT ON (id, ts, account_id) " + cols + " FROM " + kStaging +
           " ORDER BY id, ts, account_id, " + source_rank("source") +
           " DESC, ctid ON CONFLICT (id, ts, account_id) DO UPDATE SET " + updates + " WHERE " +
           source_rank("cdrs.source") + " < " + source_rank("EXCLUDED.source");
  }();
  return sql;
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

void create_staging_table(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  // No indexes or keys (LIKE copies neither): the table only feeds one
  // INSERT ... SELECT. INCLUDING COMPRESSION keeps lz4 on the big columns so
  // PostgreSQL moves the already-compressed values into cdrs instead of
  // compressing them again there.
  tx.exec(std::string("CREATE TEMP TABLE IF NOT EXISTS ") + kStaging +
          " (LIKE cdrs INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DELETE ROWS");
}

uint64_t copy_and_insert(pqxx::transaction_base& tx, const std::vector<const CdrRow*>& rows) {
  {
    pqxx::stream_to copy(tx, kStaging, copy_columns());
    for (const CdrRow* row : rows) copy << copy_fields(*row);
    copy.complete();
  }
  const pqxx::result r = tx.exec(insert_sql());
  // PostgreSQL counts the rows inserted and the rows updated together.
  return static_cast<uint64_t>(r.affected_rows());
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

bool is_data_error(const std::exception& e) {
  if (dynamic_cast<const pqxx::data_exception*>(&e) != nullptr) return true;
  if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&e) != nullptr) return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    return state.compare(0, 2, "22") == 0 || state.compare(0, 2, "23") == 0;
  }
  return false;
}

std::string error_text(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace cdrd
