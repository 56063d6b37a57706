// POST /ingest/cdr (issue 4, item 6): canonical CDRs from elsewhere (another
// cdrd's export, a billing system's corrections), stored tagged as imported.
//
// The body is split and validated by parse_import_body() (adapters/canonical).
// Each good row is one spool append; the bad rows' text goes to the rejects
// store with their lines and errors. The reply waits for all of them: 200
// only when every good row is durable and the bad ones are kept, otherwise
// 503 and the sender posts the body again (the writer's upsert makes the
// repeat a no-op for the rows that did land).
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "adapters/canonical/canonical_import.h"
#include "daemon/core/metrics.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/ingest/ingest_service.h"
#include "daemon/ingest/reject_store.h"
#include "daemon/spool/spool.h"

namespace cdrd {
namespace {

constexpr const char* kRoute = "/ingest/cdr";

// What one import request still waits for. Loop thread only: the spool's and
// the rejects store's callbacks post back to the loop before touching it.
struct PendingImport {
  std::chrono::steady_clock::time_point started;
  int waiting = 0;  // callbacks outstanding
  size_t accepted = 0;
  bool not_durable = false;
  bool rejects_failed = false;
  Spool::AppendResult refused = Spool::AppendResult::kQueued;
  ImportBatch batch;
};

// ?account_id=: false when the query has none. A given but empty one is an
// error the caller reports.
bool account_param(evhttp_request* req, std::string* account) {
  const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
  if (q == nullptr) return false;
  evkeyvalq params;
  if (evhttp_parse_query_str(q, &params) != 0) return false;
  const char* value = evhttp_find_header(&params, "account_id");
  if (value != nullptr) *account = value;
  evhttp_clear_headers(&params);
  return value != nullptr;
}

void write_rejected(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::vector<RejectedRow>& rejected) {
  w.Key("rejected");
  w.StartArray();
  for (const RejectedRow& r : rejected) {
    w.StartObject();
    w.Key("line");
    w.Uint64(r.line);
    w.Key("code");
    w.String(r.code);
    w.Key("message");
    w.String(r.message);
    w.EndObject();
  }
  w.EndArray();
}

// 200: {"status":"success","request_id","data":{"accepted":N,"rejected":[...]}}
std::string accepted_body(const PendingImport& p, const std::string& request_id) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("request_id");
  w.String(request_id);
  w.Key("data");
  w.StartObject();
  w.Key("accepted");
  w.Uint64(p.accepted);
  write_rejected(w, p.batch.rejected);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

// 400 when no row is valid: the error body plus "rejected". One bad row
// answers with its own code, like the other ingest routes.
std::string refused_body(const ImportBatch& batch, const std::string& request_id) {
  std::string code = "invalid_rows";
  std::string message = "no valid row in the " + std::string(import_format_name(batch.format)) + " body";
  if (batch.rejected.size() == 1) {
    code = batch.rejected[0].code;
    message = "line " + std::to_string(batch.rejected[0].line) + ": " + batch.rejected[0].message;
  } else if (!batch.rejected.empty()) {
    message += ": " + std::to_string(batch.rejected.size()) + " rows rejected, the first at line " +
               std::to_string(batch.rejected[0].line) + ": " + batch.rejected[0].message;
  } else {
    message = "the body holds no row";
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("code");
  w.String(code);
  w.Key("message");
  w.String(message);
  w.Key("request_id");
  w.String(request_id);
  write_rejected(w, batch.rejected);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

// The rejects store's copy of the bad rows: their text (a CSV body keeps its
// header, so the file is itself a body that can be posted again once fixed),
// and in the message each row's line in the original body and its error.
RejectedInput rejected_input(const ImportBatch& batch, const std::string& body) {
  RejectedInput input;
  input.route = kRoute;
  input.code = batch.rows.empty() ? "invalid_rows" : "rejected_rows";
  if (batch.rejected.empty()) {
    input.message = "the body holds no row";
    input.body = body;
    return input;
  }
  input.message = std::to_string(batch.rejected.size()) + " of " +
                  std::to_string(batch.rejected.size() + batch.rows.size()) + " rows rejected (" +
                  import_format_name(batch.format) + ")";
  const bool csv = !batch.csv_header.empty();
  if (csv) input.body = batch.csv_header + "\r\n";
  for (const RejectedRow& r : batch.rejected) {
    input.message += "; line " + std::to_string(r.line) + ": " + r.code + ": " + r.message;
    input.body += r.text;
    input.body += csv ? "\r\n" : "\n";
  }
  return input;
}

}  // namespace

void IngestService::handle_import(evhttp_request* req, const std::string& request_id) {
  parts_.metrics->received_import.fetch_add(1, std::memory_order_relaxed);
  if (draining_) {
    parts_.metrics->unavailable.fetch_add(1, std::memory_order_relaxed);
    send_error(req, 503, "shutting_down", "cdrd is stopping; retry", request_id);
    return;
  }
  std::string body = request_body(req);
  ImportOptions options;
  // numbers.*: the region of each account, as the normalizers use it.
  options.numbers = settings_->normalize.numbers;
  if (account_param(req, &options.account_id) && options.account_id.empty()) {
    reject(req, request_id, 400, "invalid_parameter", "account_id: the query parameter is empty", kRoute,
           std::move(body));
    return;
  }
  auto p = std::make_shared<PendingImport>();
  p->started = std::chrono::steady_clock::now();
  p->batch = parse_import_body(body, request_header(req, "Content-Type"), options);
  if (!p->batch.error_code.empty()) {
    const int status = p->batch.error_code == "unsupported_format" ? 415 : 400;
    reject(req, request_id, status, p->batch.error_code, p->batch.error_message, kRoute, std::move(body));
    return;
  }

  // Every callback lands here, on the loop; the last one answers.
  const auto done_one = [this, req, request_id, p] {
    if (--p->waiting > 0) return;
    if (p->refused != Spool::AppendResult::kQueued || p->not_durable || p->rejects_failed) {
      parts_.metrics->unavailable.fetch_add(1, std::memory_order_relaxed);
      if (p->refused == Spool::AppendResult::kFull) {
        finish(req, request_id, 503,
               error_body("spool_full", "the spool is full (database behind); retry later", request_id));
      } else if (p->refused != Spool::AppendResult::kQueued || p->not_durable) {
        finish(req, request_id, 503,
               error_body("spool_unavailable", "the spool could not store the CDRs; retry", request_id));
      } else {
        finish(req, request_id, 503,
               error_body("rejects_unavailable", "the rejects store could not keep the bad rows; retry", request_id));
      }
      return;
    }
    if (p->batch.rows.empty()) {
      finish(req, request_id, 400, refused_body(p->batch, request_id));
      return;
    }
    parts_.metrics->ack_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - p->started).count());
    finish(req, request_id, 200, accepted_body(*p, request_id));
  };

  ++in_flight_;
  p->waiting = 1;  // held until every append and the rejects save are issued
  for (const ImportedRow& row : p->batch.rows) {
    const auto status = parts_.spool->append(encode_spool_payload(row.record), [this, p, done_one](bool durable) {
      parts_.loop_queue->post([p, done_one, durable] {
        if (durable) ++p->accepted;
        p->not_durable |= !durable;
        done_one();
      });
    });
    if (status != Spool::AppendResult::kQueued) {
      // The rows already queued still become durable; the sender's retry of
      // the whole body then finds them stored and adds nothing twice.
      p->refused = status;
      break;
    }
    ++p->waiting;
  }
  if (!p->batch.rejected.empty() || p->batch.rows.empty()) {
    const size_t bad = std::max<size_t>(p->batch.rejected.size(), 1);
    parts_.metrics->rejected.fetch_add(bad, std::memory_order_relaxed);
    RejectedInput input = rejected_input(p->batch, body);
    input.request_id = request_id;
    input.content_type = request_header(req, "Content-Type");
    input.remote = request_peer(req);
    spdlog::warn("{} request {}: {}", kRoute, request_id, input.message);
    ++p->waiting;
    parts_.rejects->save(std::move(input), [this, p, done_one](bool saved) {
      parts_.loop_queue->post([p, done_one, saved] {
        p->rejects_failed |= !saved;
        done_one();
      });
    });
  }
  done_one();
}

}  // namespace cdrd
