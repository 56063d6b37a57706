#include "daemon/api/api_service.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "daemon/api/api_access.h"
#include "daemon/api/cdr_store.h"
#include "daemon/api/read_pool.h"
#include "daemon/auth/token_signer.h"
#include "daemon/core/metrics.h"
#include "daemon/http/http_reply.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/http/stream_reply.h"

namespace cdrd {

std::shared_ptr<const ApiSettings> make_api_settings(const Config& config, const std::string& token_key) {
  auto s = std::make_shared<ApiSettings>();
  s->auth = ApiAuth(config.api_keys);
  if (!token_key.empty()) s->tokens = std::make_shared<const TokenSigner>(token_key);
  s->token_ttl_s = config.api_token_ttl_s;
  s->cors_origins = config.api_cors_origins;
  s->max_window_s = config.api_max_window_s;
  // An export holds its read thread while the client reads: one thread
  // always stays for paged reads.
  s->max_exports = std::max(1, std::min(config.api_max_exports, config.read_pool_size - 1));
  return s;
}

ApiService::ApiService(Parts parts, std::shared_ptr<const ApiSettings> settings)
    : parts_(parts), settings_(std::move(settings)) {}

ApiService::~ApiService() = default;

void ApiService::mount(std::unique_ptr<ApiDialect> dialect) { dialects_.push_back(std::move(dialect)); }

bool ApiService::handle(evhttp_request* req, const std::string& path, const std::string& request_id) {
  const ApiCall call{req, path, request_id};
  for (const auto& dialect : dialects_) {
    if (dialect->handle(*this, call)) {
      parts_.metrics->api_requests.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

void ApiService::start_draining() {
  draining_ = true;
  for (const auto& stream : streams_) stream->cancel();
}

void ApiService::forget_requests() {
  for (const auto& stream : streams_) stream->release();
  streams_.clear();
}

void ApiService::send(evhttp_request* req, const std::string& request_id, const RouteReply& reply) {
  if (reply.status >= 300) parts_.metrics->api_errors.fetch_add(1, std::memory_order_relaxed);
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  for (const auto& [name, value] : reply.headers) evhttp_add_header(headers, name.c_str(), value.c_str());
  send_body(req, reply.status, reply.content_type, reply.body, request_id);
}

void ApiService::fail(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id,
                      const ApiError& error) {
  send(req, request_id, dialect.error_reply(error, request_id));
}

void ApiService::submit(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id,
                        const ApiGrant& grant, Query query) {
  submit_unchecked(dialect, req, request_id, [&dialect, request_id, grant, query = std::move(query)](CdrStore& store) {
    if (auto denied = grant.verify(store)) return dialect.error_reply(*denied, request_id);
    return query(store);
  });
}

void ApiService::submit_unchecked(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id,
                                  Query query) {
  if (draining_) {
    fail(dialect, req, request_id, {503, "shutting_down", "cdrd is stopping; retry"});
    return;
  }
  // Runs on a read-pool thread; the reply is sent from the loop thread.
  // Dialects are mounted for the service's lifetime, which outlives the pool.
  auto job = [this, &dialect, req, request_id, query = std::move(query)](CdrStore& store) {
    RouteReply reply;
    try {
      reply = query(store);
    } catch (const std::exception& e) {
      reply = dialect.error_reply(database_error(e, request_id), request_id);
    }
    parts_.loop_queue->post([this, req, request_id, reply = std::move(reply)] {
      --in_flight_;
      send(req, request_id, reply);
    });
  };
  if (!submit_job(std::move(job))) refuse_read(dialect, req, request_id);
}

void ApiService::stream(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id,
                        const ApiGrant& grant, Producer produce) {
  auto fail_retry = [&](const ApiError& error) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    fail(dialect, req, request_id, error);
  };
  if (draining_) {
    fail_retry({503, "shutting_down", "cdrd is stopping; retry"});
    return;
  }
  // Counted here, on the loop thread, so the limit holds however fast
  // requests arrive.
  if (static_cast<int>(streams_.size()) >= settings_->max_exports) {
    parts_.metrics->api_exports_refused.fetch_add(1, std::memory_order_relaxed);
    fail_retry({429, "too_many_exports",
                std::to_string(settings_->max_exports) +
                    " streamed reads (paginate=false, CSV or NDJSON exports) are running; retry"});
    return;
  }
  std::shared_ptr<StreamReply> stream = StreamReply::open(
      req, parts_.loop_queue, request_id,
      [this](StreamReply& self) {
        --in_flight_;
        for (auto it = streams_.begin(); it != streams_.end(); ++it) {
          if (it->get() == &self) {
            streams_.erase(it);  // the closure that ended the stream still holds it
            break;
          }
        }
      },
      StreamReply::kDefaultMaxBuffered, parts_.gate);
  ReadPool* pool = parts_.reads;
  Metrics* metrics = parts_.metrics;
  auto job = [pool, metrics, stream, grant, &dialect, request_id, produce = std::move(produce)](CdrStore& store) {
    // Woken when the pool stops, so a producer waiting for a slow client
    // lets the pool join it.
    const uint64_t hook = pool->add_stop_hook([stream] { stream->cancel(); });
    auto error_reply = [&](const ApiError& error) {
      const RouteReply r = dialect.error_reply(error, request_id);
      stream->reply(r.status, r.content_type, r.body, r.headers);
    };
    try {
      if (auto denied = grant.verify(store)) {
        error_reply(*denied);
      } else if (produce(store, *stream)) {
        stream->finish();
      } else {
        metrics->api_exports_cancelled.fetch_add(1, std::memory_order_relaxed);
        stream->abort();
      }
    } catch (const std::exception& e) {
      if (!stream->started()) {
        error_reply(database_error(e, request_id));
      } else {
        // The status line is gone: the client learns of the failure from the
        // transfer ending without its terminating chunk.
        spdlog::error("read api request {}: the streamed reply failed after it started, closing the connection: {}",
                      request_id, e.what());
        metrics->api_exports_cancelled.fetch_add(1, std::memory_order_relaxed);
        stream->abort();
      }
    }
    pool->remove_stop_hook(hook);
  };
  streams_.insert(stream);
  if (!submit_job(std::move(job))) {
    stream->discard();
    streams_.erase(stream);
    refuse_read(dialect, req, request_id);
    return;
  }
  parts_.metrics->api_exports.fetch_add(1, std::memory_order_relaxed);
}

bool ApiService::submit_job(std::function<void(CdrStore& store)> job) {
  ++in_flight_;
  if (parts_.reads->submit(std::move(job))) return true;
  --in_flight_;
  return false;
}

void ApiService::refuse_read(const ApiDialect& dialect, evhttp_request* req, const std::string& request_id) {
  evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
  fail(dialect, req, request_id, {503, "too_many_requests", "too many read requests in progress; retry"});
}

}  // namespace cdrd
