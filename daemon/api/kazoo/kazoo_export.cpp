#include "daemon/api/kazoo/kazoo_export.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <future>
#include <stdexcept>

#include "adapters/canonical/cdr_csv.h"
#include "daemon/api/api_request.h"
#include "daemon/core/metrics.h"
#include "daemon/http/stream_reply.h"

namespace cdrd {
namespace {

// Rows per statement: large enough that a month exports in few round trips,
// small enough that one batch (~1 KB a record) stays a few MB.
constexpr size_t kBatchRows = 2000;
// Bytes gathered before they are handed to the loop as one HTTP chunk.
constexpr size_t kChunkBytes = 64u << 10;

std::string json_string(const std::string& s) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.String(s);
  return std::string(sb.GetString(), sb.GetSize());
}

// The members after "data" (it is written first, as it is produced).
std::string json_tail(const ExportPlan& plan, uint64_t rows) {
  std::string tail = "],\"page_size\":" + std::to_string(rows);
  if (!plan.start_key.empty()) tail += ",\"start_key\":" + json_string(plan.start_key);
  tail += ",\"request_id\":" + json_string(plan.request_id) +
          ",\"status\":\"success\",\"timestamp\":" + json_string(iso8601_now()) + "}";
  return tail;
}

}  // namespace

void append_json_row(const ExportPlan& plan, std::string* record, std::string* out) {
  if (!plan.full) {
    *out += kazoo_row_json(record, plan.row);
  } else if (plan.row.zone.kind == ZoneChoice::Kind::kUtc) {
    out->append(*record);
  } else {
    *out += localize_record(*record, plan.row.zone);
  }
}

void append_csv_row(const ExportPlan& plan, std::string* record, std::string* out) {
  if (!plan.full) {
    append_kazoo_csv_row(record, plan.row, out);
    return;
  }
  // The column cells of a jsonb object; anything else cannot be stored.
  if (!append_cdr_csv_row(localize_record(*record, plan.row.zone), out)) {
    throw std::invalid_argument("a stored record is not a JSON object");
  }
}

std::string csv_header(const ExportPlan& plan) { return plan.full ? cdr_csv_header() : kazoo_csv_header(plan.row); }

bool produce_export(CdrStore& store, const ExportPlan& plan, StreamReply& out, Metrics* metrics) {
  CdrListQuery q = plan.query;
  q.page_size = kBatchRows;
  uint64_t rows = 0;
  // Sends `text` as HTTP chunks of kChunkBytes (they need not end on a row).
  auto send = [&out](const std::string& text) {
    for (size_t at = 0; at < text.size(); at += kChunkBytes) {
      if (!out.write(text.substr(at, kChunkBytes))) return false;
    }
    return true;
  };
  // A batch is turned into text on a helper thread while this one fetches the
  // next batch, so PostgreSQL and the conversion use both cores at once. Only
  // this thread touches the connection; at most two batches are in memory.
  std::future<std::string> converting;
  for (;;) {
    if (out.cancelled()) return false;
    CdrPage page = plan.interactions ? store.interactions(q) : store.list(q);
    if (!out.started()) {
      if (plan.csv) {
        out.start(200, {{"Content-Type", "text/csv; charset=utf-8"},
                        {"Content-Disposition", "attachment; filename=\"" + plan.filename + "\""}});
        if (!send(csv_header(plan))) return false;
      } else {
        out.start(200, {{"Content-Type", "application/json"}});
        if (!send("{\"data\":[")) return false;
      }
    }
    if (converting.valid() && !send(converting.get())) return false;
    metrics->api_export_rows.fetch_add(page.records.size(), std::memory_order_relaxed);
    const bool first_batch = rows == 0;
    rows += page.records.size();
    // A record the projection cannot read throws here, and get() rethrows
    // it: the transfer is cut and the error logged (api_service.cpp).
    // The records are this batch's own: the conversion parses them in place.
    converting = std::async(std::launch::async, [records = std::move(page.records), &plan, first_batch]() mutable {
      std::string text;
      for (std::string& record : records) {
        if (plan.csv) {
          append_csv_row(plan, &record, &text);
        } else {
          if (!text.empty() || !first_batch) text.push_back(',');
          append_json_row(plan, &record, &text);
        }
      }
      return text;
    });
    if (!page.next) break;
    q.after = page.next;
  }
  if (converting.valid() && !send(converting.get())) return false;
  return plan.csv || send(json_tail(plan, rows));
}

}  // namespace cdrd
