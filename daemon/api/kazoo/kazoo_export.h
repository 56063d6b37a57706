// The streamed reads of the list routes: paginate=false (the whole window as
// one JSON envelope) and the CSV export. A read-pool thread reads the window
// in keyset batches, each its own short statement (so statement_timeout
// bounds each one and no transaction stays open for the whole export), and
// hands the body to a StreamReply piece by piece.
#pragma once

#include <string>
#include <string_view>

#include "daemon/api/cdr_store.h"
#include "daemon/api/kazoo/kazoo_row.h"

namespace cdrd {

class StreamReply;
struct Metrics;

struct ExportPlan {
  CdrListQuery query;  // page_size is the batch size
  bool interactions = false;
  bool csv = false;
  // detail=full: the stored records (JSON) and cdr_csv.h's CSV, which
  // POST /ingest/cdr reads back; else Kazoo's rows (kazoo_row.h).
  bool full = false;
  KazooRowOptions row;    // Kazoo's rows; row.zone localizes the full records too
  std::string filename;   // CSV: the Content-Disposition file name
  std::string start_key;  // JSON: echoed as "start_key" when given
  std::string request_id;
};

// One record as a row of the plan's JSON / CSV body (appended to *out);
// throws std::invalid_argument for a record that is no JSON object. *record
// may be parsed in place (record_view.h), so its text is not kept.
void append_json_row(const ExportPlan& plan, std::string* record, std::string* out);
void append_csv_row(const ExportPlan& plan, std::string* record, std::string* out);
// The CSV header line of the plan.
std::string csv_header(const ExportPlan& plan);

// Read-pool thread. Sends the whole window: the status and headers once the
// first batch was read (so an error before that is still a plain error
// reply), then the body. True when the body is complete (the caller
// finish()es), false when the stream was cancelled (the caller abort()s).
// Database errors are thrown; out.started() says whether headers went out.
bool produce_export(CdrStore& store, const ExportPlan& plan, StreamReply& out, Metrics* metrics);

}  // namespace cdrd
