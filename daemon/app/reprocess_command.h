// cdrd renormalize / cdrd rerate: work over stored rows in keyset batches.
//
// renormalize derives each row's record again from its raw document with
// the current rules (the normalizers and the configuration of this cdrd):
// new fields reach old rows, a fixed rule repairs them. rerate keeps the
// records and prices them again with the decks stored now. Both run every
// batch through the writer's own call step (daemon/db/call_store.h:
// assembly, rating, upsert that replaces the row), so a row comes out
// exactly as the writer would write it today.
//
// Batches walk the (account_id, ts, id) index. Each batch commits together
// with the job's cursor in cdrd_jobs, so the command is idempotent (a row
// done twice comes out the same) and resumable: run after a kill with the
// same window, it goes on after the last committed batch (--restart starts
// over). On a terminal, a progress line (rows done, rate, ETA) is redrawn;
// otherwise a line is logged every 10 seconds.
#pragma once

#include <string>

#include "daemon/config/config.h"

namespace cdrd {

struct ReprocessCommand {
  enum class Kind { kRenormalize, kRerate };
  Kind kind = Kind::kRenormalize;
  std::string from;     // ISO-8601; rows whose leg ended at or after it. Empty: no lower bound.
  std::string to;       // ISO-8601; rows whose leg ended before it. Empty: no upper bound.
  std::string account;  // only this account's rows; empty: every account
  std::string deck;     // rerate only: rows rated with this deck, and unrated rows
  int batch_rows = 500;
  bool restart = false;  // ignore a stored cursor of an unfinished run
};

// Exit status: 0 done, 1 database error (run it again to resume), 2 bad arguments.
int run_reprocess_command(const Config& config, const ReprocessCommand& command);

}  // namespace cdrd
