// The rows the read core hands to a dialect's projection. Each is made of
// canonical records (ARCHITECTURE.md, "Canonical record") exactly as stored
// in cdrs.record, call assembly's fields included; a projection picks and
// renames fields and never touches the database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cdrd {

// One leg (Kazoo's rows, seed 000/003).
struct LegRow {
  std::string record;
};

// One call (seed 001, 002): the call's root leg (its A-leg: the earliest
// started leg that is not a loopback half) and the leg that answered, else
// the last attempt by start; `answered` is empty for a call of one leg.
struct CallRow {
  std::string root;
  std::optional<std::string> answered;
};

// One routing attempt (seed 004): a leg of the call other than its root (or
// the root alone, for a call that was never routed on), with the root.
// `seq` is the attempt leg's stable row number (cdrs.row_seq).
struct AttemptRow {
  int64_t seq = 0;
  std::string attempt;
  std::string root;
};

}  // namespace cdrd
