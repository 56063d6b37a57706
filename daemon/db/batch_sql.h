// The statements of one BatchWriter batch, kept apart from its retry loop:
// the per-connection staging table, COPY + idempotent upsert, the quarantine
// and the data-versus-transient error split that decides between them.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>
#include <pqxx/dbtransaction>
#include <pqxx/transaction_base>

#include "daemon/db/cdr_row.h"

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

// CREATE TEMP TABLE cdrd_staging for this session. Throws pqxx errors.
void create_staging_table(pqxx::connection& conn);

// COPYs `rows` into the staging table, then moves them into cdrs, one row
// per (id, ts, account_id): a json_cdr/xml_cdr/import record replaces an esl one, any
// other conflict leaves the row as it is. Returns the number of rows that
// were new or replaced by a richer record (PostgreSQL reports them as one
// count).
// The staging rows stay until the transaction ends (ON COMMIT DELETE ROWS) or
// clear_staging(). Throws pqxx errors.
uint64_t copy_and_insert(pqxx::transaction_base& tx, const std::vector<const CdrRow*>& rows);

// Empties the staging table inside the transaction, for a second COPY in it.
void clear_staging(pqxx::transaction_base& tx);

// Inserts one quarantine row. When the text columns cannot hold the record
// (NUL bytes, invalid UTF-8) it keeps the bytes in `payload` instead, so a
// quarantine never fails on the data it is meant to keep. Throws pqxx errors
// that are not about that data.
void insert_quarantine(pqxx::dbtransaction& tx, const QuarantineEntry& entry);

// True when PostgreSQL refused a value (SQLSTATE class 22 or 23): retrying
// the same row cannot succeed, so it is quarantined. Everything else
// (connection, in-doubt commit, serialization, resources) is transient.
bool is_data_error(const std::exception& e);

// e.what() without the trailing newline libpq leaves on server messages.
std::string error_text(const std::exception& e);

}  // namespace cdrd
