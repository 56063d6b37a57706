// The statements of one BatchWriter batch, kept apart from its retry loop:
// the per-connection staging table, COPY + idempotent upsert, the quarantine
// and the data-versus-transient error split that decides between them.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>
#include <pqxx/dbtransaction>
#include <pqxx/transaction_base>

#include "daemon/db/cdr_row.h"
#include "daemon/db/migrations.h"

namespace cdrd {

// One row for cdrs_quarantine. `payload` holds the spool payload when the
// record could not be decoded or its columns extracted; for a row the
// database refused it stays empty and the text columns carry the record.
struct QuarantineEntry {
  std::string error;
  std::optional<std::string> record;
  std::optional<std::string> raw;
  std::optional<std::string> raw_format;
  std::optional<std::string> payload;
  std::string log_id;  // how the warning names the record (its id when known)
};

// How complete a source's record is: mod_json_cdr, mod_xml_cdr and an import
// carry the callflow and every variable (2); an ESL hangup event carries
// fewer (1). Of two rows of one leg the upsert keeps the higher, and call
// assembly (call_store.h) reads the same one.
inline constexpr std::string_view kPoorerSource = "esl";
int source_rank(std::string_view source);

// CREATE TEMP TABLE cdrd_staging for this session. Throws pqxx errors.
void create_staging_table(pqxx::connection& conn);

// The session settings of every writer connection (the writer's own and
// each lane's): its application_name, and no JIT (see batch_sql.cpp).
void configure_writer_session(pqxx::connection& conn, const std::string& application_name);

// What one INSERT of the staging table into cdrs did.
struct InsertOutcome {
  // Rows new or replaced by a richer record (PostgreSQL reports them as one
  // count).
  uint64_t affected = 0;
  // Of those, the rows that landed in cdrs_default: no monthly partition
  // covers their month (an old import, a clock far ahead).
  uint64_t in_default = 0;
  std::vector<std::string> default_months;  // "YYYY-MM" (UTC) of those rows, sorted, unique
  uint64_t direct = 0;                      // of `affected`, rows COPYed straight into cdrs (insert_rows())
  uint64_t direct_conflicts = 0;            // 1 when that COPY met a stored version and fell back
};

// COPYs `rows` into the staging table, then moves them into cdrs, one row
// per (id, ts, account_id): a json_cdr/xml_cdr/import record replaces an esl one, any
// other conflict leaves the row as it is.
// The staging rows stay until the transaction ends (ON COMMIT DELETE ROWS) or
// clear_staging(). Throws pqxx errors.
// kReplace overwrites the stored row whatever its source (cdrd renormalize
// and rerate write the same leg derived again).
enum class UpsertMode { kRicherWins, kReplace };
InsertOutcome copy_and_insert(pqxx::dbtransaction& tx, const std::vector<const CdrRow*>& rows,
                              UpsertMode mode = UpsertMode::kRicherWins);

// The optimistic write of new rows (kRicherWins): the rows that cannot
// conflict go straight into cdrs with one binary COPY, in a savepoint; the
// rest take copy_and_insert(). A row cannot conflict when call assembly
// found no stored version of its leg (CdrRow::stored_version), its key is
// once in the batch, and its month has a partition of its own (rows bound for
// cdrs_default are counted by the upsert's RETURNING). Should the COPY still
// meet a stored row (unique_violation: a replay the walk did not reach), the
// savepoint is rolled back and every row takes the upsert. Either way each
// leg is one row holding its richest record. Throws pqxx errors.
InsertOutcome insert_rows(pqxx::dbtransaction& tx, const std::vector<const CdrRow*>& rows,
                          const MonthlyPartitions& partitions);

// Empties the staging table inside the transaction, for a second COPY in it.
void clear_staging(pqxx::transaction_base& tx);

// Inserts one quarantine row. When the text columns cannot hold the record
// (NUL bytes, invalid UTF-8) it keeps the bytes in `payload` instead, so a
// quarantine never fails on the data it is meant to keep. Throws pqxx errors
// that are not about that data.
void insert_quarantine(pqxx::dbtransaction& tx, const QuarantineEntry& entry);

// What a failed batch statement means, from the libpqxx exception type and
// the SQLSTATE PostgreSQL sent (errcodes-table in the PostgreSQL manual).
// Only kBadRow leads to the quarantine: PostgreSQL said the row itself is
// bad. Every other class is retried on a new connection, with back-off,
// forever; an error nobody classified is kOther, retried too, so a problem
// of the server or of cdrd never turns good CDRs into quarantined ones.
enum class DbErrorClass {
  kBadRow,       // 22xxx data_exception, 23xxx integrity_constraint_violation, 54000 program_limit_exceeded
  kConnection,   // pqxx::broken_connection, 08xxx connection_exception
  kInDoubt,      // pqxx::in_doubt_error (connection lost in COMMIT), 40003 statement_completion_unknown
  kConflict,     // 40xxx transaction_rollback: 40001 serialization_failure, 40P01 deadlock_detected
  kResources,    // 53xxx insufficient_resources: disk full, out of memory, too many connections
  kInterrupted,  // 57xxx operator_intervention: 57014 statement timeout/cancel, 57P01..57P03 shutdown, restart
  kOther,        // anything else (42xxx, P0001 from a trigger, XX000, libpqxx usage errors, std::bad_alloc...)
};

DbErrorClass classify_db_error(const std::exception& e);

// "bad_row", "connection", "in_doubt", "conflict", "resources", "interrupted", "other".
const char* db_error_class_name(DbErrorClass c);

// classify_db_error(e) == DbErrorClass::kBadRow: retrying the same row
// cannot succeed, so it is quarantined.
bool is_data_error(const std::exception& e);

// e.what() without the trailing newline libpq leaves on server messages.
std::string error_text(const std::exception& e);

}  // namespace cdrd
