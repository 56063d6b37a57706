// `cdrd rates ...`: rate decks and their assignments (issue 12, section 4)
// from the command line, stored through daemon/db/rate_store.h:
//   import -c FILE --deck NAME --currency USD [--duration-rounding up|nearest|down]
//          [--price-rounding none|up|down|half_up] [--decimals N] DECK.csv
//   list | show --deck NAME [--prefix P] | export --deck NAME
//   assign --side customer --account ID | --side vendor --trunk NAME
//          --deck NAME [--direction outbound|inbound|any] [--valid-from ISO]
//   unassign (the same keys, without --deck) | assignments [--side S] [--account ID | --trunk NAME]
// Everything that can be checked without the database (the arguments, the
// whole CSV file) is checked first: a bad one exits 2 naming what (for the
// file: its line and column) and the database is not touched.
#pragma once

#include <string>

#include "daemon/config/config.h"

namespace cdrd {

struct RatesCommand {
  enum class Action { kImport, kList, kShow, kExport, kAssign, kUnassign, kAssignments };
  Action action = Action::kList;
  std::string file;                      // import: the CSV
  std::string deck;                      // import, show, export, assign
  std::string currency;                  // import
  std::string duration_rounding = "up";  // import
  std::string price_rounding = "none";   // import
  int decimals = 4;                      // import
  std::string prefix;                    // show, optional
  std::string side;                      // assign, unassign; assignments optional
  std::string account;                   // side customer
  std::string trunk;                     // side vendor
  std::string direction = "any";         // assign, unassign
  std::string valid_from;                // assign, unassign: ISO-8601; "" = since always
};

// Runs `command` against the configured database (embedded or external, as
// `cdrd api-key` does: the running daemon's embedded server when there is
// one, else one started for the command under the state_dir lock; the
// migrations applied first). Returns the exit code: 0 done, 2 bad arguments
// or a bad file (nothing stored), 1 a database error or a missing deck or
// assignment.
int run_rates_command(const Config& config, const RatesCommand& command);

}  // namespace cdrd
