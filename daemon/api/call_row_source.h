// Row sources of the call-level dialects (seeds 001, 002, 004): calls (a
// root leg joined with the leg that answered, else the last attempt) and
// routing attempts (a leg of an inbound or internal call joined with its
// root), with offset paging and a bounded total count. Read-pool thread:
// each function runs its statements on the caller's connection (CdrStore::run).
//
// Which leg is a call's root is call assembly's choice, stored as
// cdrs.call_root (migration 009); the partial index (account_id, ts, id)
// WHERE call_root serves the call lists and their counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "daemon/api/call_rows.h"

namespace cdrd {

// One condition on a typed column of cdrs, from a dialect's parameter.
// `column` comes from the dialect's fixed table, never from the request; the
// value is a bind parameter.
struct RowCondition {
  enum class Op { kEq, kGt, kGte, kLt, kLte, kPrefix, kContains, kIn };
  std::string column;  // e.g. "c.caller_e164" (alias c: the row's leg; r: the root)
  Op op = Op::kEq;
  std::vector<std::string> values;  // one value, several for kIn
  std::string cast;                 // SQL type the value is cast to ("", "bigint", "timestamptz", "boolean")
};

struct RowWindow {
  std::string account_id;
  int64_t from_unix = 0;  // inclusive, compared with the leg's end (cdrs.ts)
  int64_t to_unix = 0;    // inclusive
  std::vector<RowCondition> conditions;
  // ORDER BY text from the dialect's fixed table, e.g. "c.ts DESC, c.id DESC".
  std::string order_by = "c.ts DESC, c.id DESC";
  int64_t offset = 0;
  int64_t limit = 100;
};

// At most this many rows are counted: the total of an offset-paged list is
// exact up to it and reported as this figure beyond (one bounded query).
constexpr int64_t kMaxCountedRows = 100000;

struct CallPage {
  std::vector<CallRow> rows;
  int64_t total = 0;  // matching calls, at most kMaxCountedRows
};
struct AttemptPage {
  std::vector<AttemptRow> rows;
  int64_t total = 0;
};

// Calls of the account whose root leg ended in the window. Throws pqxx errors.
CallPage list_calls(pqxx::connection& conn, const RowWindow& window, bool with_total = true);
// The call whose root leg has CDR id `id` (seed 001's id).
std::optional<CallRow> call_by_root_id(pqxx::connection& conn, const std::string& account_id, const std::string& id);
// The call that has a leg with FreeSWITCH uuid `call_id` (seed 002's uuid).
std::optional<CallRow> call_by_leg_uuid(pqxx::connection& conn, const std::string& account_id,
                                        const std::string& call_id);

// Routing attempts of the account's inbound and internal calls whose
// attempt leg ended in the window; `attempt_classes` are the
// direction_class values that count (e.g. {"inbound", "internal"}).
AttemptPage list_attempts(pqxx::connection& conn, const RowWindow& window,
                          const std::vector<std::string>& attempt_classes, bool with_total = true);
// One attempt by its row number, in the account.
std::optional<AttemptRow> attempt_by_seq(pqxx::connection& conn, const std::string& account_id, int64_t seq,
                                         const std::vector<std::string>& attempt_classes);

}  // namespace cdrd
