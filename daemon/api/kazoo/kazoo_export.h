// The streamed reads of the list routes: paginate=false (the whole window as
// one JSON envelope) and the CSV export. A read-pool thread reads the window
// in keyset batches, each its own short statement (so statement_timeout
// bounds each one and no transaction stays open for the whole export), and
// hands the body to a StreamReply piece by piece.
#pragma once

#include <string>

#include "daemon/api/cdr_store.h"

namespace cdrd {

class StreamReply;
struct Metrics;

struct ExportPlan {
  CdrListQuery query;  // page_size is the batch size
  bool interactions = false;
  bool csv = false;
  std::string filename;   // CSV: the Content-Disposition file name
  std::string start_key;  // JSON: echoed as "start_key" when given
  std::string request_id;
};

// "<stem>.csv" with every character of `stem` other than A-Z a-z 0-9 . _ -
// replaced by '_', so it goes into Content-Disposition without quoting rules.
std::string csv_filename(const std::string& stem);

// Read-pool thread. Sends the whole window: the status and headers once the
// first batch was read (so an error before that is still a plain error
// reply), then the body. True when the body is complete (the caller
// finish()es), false when the stream was cancelled (the caller abort()s).
// Database errors are thrown; out.started() says whether headers went out.
bool produce_export(CdrStore& store, const ExportPlan& plan, StreamReply& out, Metrics* metrics);

}  // namespace cdrd
