#include "daemon/http/cdr_export.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "adapters/canonical/cdr_csv.h"
#include "daemon/core/metrics.h"
#include "daemon/http/api_request.h"
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

std::string csv_filename(const std::string& stem) {
  std::string name = stem;
  for (char& c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return name + ".csv";
}

bool produce_export(CdrStore& store, const ExportPlan& plan, StreamReply& out, Metrics* metrics) {
  CdrListQuery q = plan.query;
  q.page_size = kBatchRows;
  std::string chunk;
  chunk.reserve(kChunkBytes + (64u << 10));
  uint64_t rows = 0;
  bool first_row = true;
  for (;;) {
    if (out.cancelled()) return false;
    const CdrPage page = plan.interactions ? store.interactions(q) : store.list(q);
    if (!out.started()) {
      if (plan.csv) {
        out.start(200, {{"Content-Type", "text/csv; charset=utf-8"},
                        {"Content-Disposition", "attachment; filename=\"" + plan.filename + "\""}});
        chunk = cdr_csv_header();
      } else {
        out.start(200, {{"Content-Type", "application/json"}});
        chunk = "{\"data\":[";
      }
    }
    for (const std::string& record : page.records) {
      if (plan.csv) {
        if (!append_cdr_csv_row(record, &chunk)) {
          spdlog::error("export {}: a stored record is not a JSON object; left out", plan.request_id);
          continue;
        }
      } else {
        if (!first_row) chunk.push_back(',');
        chunk += record;
      }
      first_row = false;
      ++rows;
      if (chunk.size() >= kChunkBytes) {
        if (!out.write(std::move(chunk))) return false;
        chunk.clear();
      }
    }
    metrics->api_export_rows.fetch_add(page.records.size(), std::memory_order_relaxed);
    if (!page.next) break;
    q.after = page.next;
  }
  if (!plan.csv) chunk += json_tail(plan, rows);
  return out.write(std::move(chunk));
}

}  // namespace cdrd
