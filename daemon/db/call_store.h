// The call-level step of a batch, run by whoever writes rows into cdrs (the
// BatchWriter's thread, `cdrd renormalize`, `cdrd rerate`) inside its own
// transaction, before the rows are copied in:
//
//   1. the batch's links (every uuid each leg names) go to a temp table;
//   2. one recursive query walks cdr_links from them and returns every
//      stored leg connected to the batch, however many hops away;
//   3. assemble_calls() (daemon/core/call_assembly.h) decides, for batch and
//      stored legs together, each call's interaction_id, direction_class and
//      root leg;
//   4. rating (a RatingSnapshot, immutable, shared): the vendor charge on
//      every leg with a trunk, the customer charge on the root leg;
//   5. each batch row gets those fields as columns and as `record_patch`
//      (appended to its record at COPY); each stored row whose call-level
//      fields changed is updated in place (re-linked), with its record.
// After the rows are in cdrs, insert_links() adds their links, so the next
// batch finds them. All of it in the caller's transaction: the batch and the
// re-linking commit together or not at all.
#pragma once

#include <pqxx/connection>
#include <pqxx/dbtransaction>
#include <pqxx/transaction_base>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/db/batch_sql.h"
#include "daemon/db/cdr_row.h"

namespace cdrd {

class RatingSnapshot;  // daemon/rating/rating_snapshot.h

// The temp tables of steps 1 and 5, once per connection (ON COMMIT DELETE ROWS).
void create_call_tables(pqxx::connection& conn);

struct CallStepOutcome {
  uint64_t relinked = 0;  // stored rows updated
  uint64_t customer_rated = 0, customer_unrated = 0;
  uint64_t vendor_rated = 0, vendor_unrated = 0;
  uint64_t elapsed_us = 0;  // wall time of the whole step (the writer reports it by step)
};

// Steps 1-5 for `rows`; sets their call-level columns and record_patch.
// `rating` may be null (no decks loaded): nothing is rated then.
// `rated_at` is the ISO time written into each rating. Throws pqxx errors.
CallStepOutcome assemble_and_rate(pqxx::dbtransaction& tx, std::vector<CdrRow*>& rows, const RatingSnapshot* rating,
                                  const std::string& rated_at);

// The links assemble_and_rate() copied for the batch, into cdr_links (ON
// CONFLICT DO NOTHING: idempotent), when every row of the batch goes in.
void store_batch_links(pqxx::transaction_base& tx);

// The links of rows now in cdrs (ON CONFLICT DO NOTHING: idempotent).
void insert_links(pqxx::dbtransaction& tx, const std::vector<const CdrRow*>& rows);

// The whole step for rows that all go in: assemble_and_rate(), then
// insert_rows() (the direct COPY of new rows) when `partitions` is given and
// `mode` is kRicherWins, else copy_and_insert() with `mode`; insert_links().
// The BatchWriter's first attempt, `cdrd renormalize` and `cdrd rerate`
// (the writer's split path calls the steps itself, around its bisection).
// Throws pqxx errors.
InsertOutcome store_rows(pqxx::dbtransaction& tx, std::vector<CdrRow*>& rows, const RatingSnapshot* rating,
                         UpsertMode mode, CallStepOutcome* calls, const MonthlyPartitions* partitions = nullptr);

// The links of one row, its own call_id first (usable_link() only).
std::vector<std::string> links_of(const CdrRow& row);

// ISO-8601 UTC "now" (format_iso_time_us()), for rated_at.
std::string iso_now();

}  // namespace cdrd
