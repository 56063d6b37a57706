#include "bench/http_load.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

namespace cdrd {
namespace {

struct Worker;

struct Connection {
  Worker* worker = nullptr;
  evhttp_connection* http = nullptr;
  std::string body;  // this connection's copy of the template, patched per CDR
  std::string uri;   // path?uuid=<uuid>, as mod_json_cdr requests it
  uint64_t cdr_index = 0;
  int attempts = 0;
  event* pace_timer = nullptr;  // with a rate: fires when cdr_index is due
  BenchClock::time_point sent_at{};
};

struct SharedState {
  const LoadOptions* options = nullptr;
  const CdrBodyTemplate* body = nullptr;
  std::string host_header;
  std::atomic<uint64_t> next_cdr{0};     // the threads take CDR indexes from one counter
  BenchClock::time_point paced_start{};  // CDR i is due at paced_start + i / rate
};

struct Worker {
  SharedState* shared = nullptr;
  event_base* base = nullptr;
  event* deadline = nullptr;
  std::vector<std::unique_ptr<Connection>> connections;
  int active = 0;
  LoadResult result;
};

void start_next_cdr(Connection* c);
void send_current(Connection* c);

void retire(Connection* c) {
  Worker* w = c->worker;
  if (--w->active == 0) event_base_loopexit(w->base, nullptr);
}

void remember_first_error(evhttp_request* req, int status, LoadResult* result) {
  if (!result->first_error_reply.empty()) return;
  std::string text = "HTTP " + std::to_string(status);
  evbuffer* input = evhttp_request_get_input_buffer(req);
  const size_t length = std::min<size_t>(evbuffer_get_length(input), 300);
  if (length > 0) {
    const auto* bytes = reinterpret_cast<const char*>(evbuffer_pullup(input, static_cast<ev_ssize_t>(length)));
    text += ": " + std::string(bytes, length);
  }
  result->first_error_reply = text;
}

void on_reply(evhttp_request* req, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  LoadResult& result = c->worker->result;
  const auto now = BenchClock::now();
  // libevent passes no request, or one without a status, when the connection
  // failed before a reply arrived.
  const int status = req != nullptr ? evhttp_request_get_response_code(req) : 0;
  if (status == 0) {
    ++result.transport_errors;
    if (c->attempts < c->worker->shared->options->max_attempts) {
      send_current(c);
      return;
    }
    ++result.failed_cdrs;
    start_next_cdr(c);
    return;
  }
  result.last_ack = now;
  if (status == 200) {
    ++result.acknowledged;
    result.ack_latencies_us.push_back(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - c->sent_at).count()));
  } else {
    ++result.other_statuses[status];
    remember_first_error(req, status, &result);
  }
  start_next_cdr(c);
}

void send_current(Connection* c) {
  Worker* w = c->worker;
  evhttp_request* req = evhttp_request_new(&on_reply, c);
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Host", w->shared->host_header.c_str());
  evhttp_add_header(headers, "Content-Type", "application/json");
  evhttp_add_header(headers, "User-Agent", "freeswitch-json/1.0");
  evbuffer_add(evhttp_request_get_output_buffer(req), c->body.data(), c->body.size());
  ++c->attempts;
  ++w->result.requests;
  c->sent_at = BenchClock::now();
  if (w->result.first_send == BenchClock::time_point{}) w->result.first_send = c->sent_at;
  // On failure libevent has already freed the request.
  if (evhttp_make_request(c->http, req, EVHTTP_REQ_POST, c->uri.c_str()) != 0) {
    ++w->result.failed_cdrs;
    retire(c);
  }
}

bool stop_requested(const SharedState* shared) {
  return shared->options->stop != nullptr && shared->options->stop->load(std::memory_order_relaxed);
}

// Sends CDR c->cdr_index now.
void send_cdr(Connection* c) {
  SharedState* shared = c->worker->shared;
  if (stop_requested(shared)) {
    c->worker->result.stopped = true;
    retire(c);
    return;
  }
  char uuid[37];
  format_bench_uuid(shared->options->run_id, c->cdr_index, uuid);
  shared->body->patch_uuid(uuid, &c->body);
  c->uri.assign(shared->options->path).append("?uuid=").append(uuid);
  c->attempts = 0;
  ++c->worker->result.cdrs_sent;
  send_current(c);
}

void on_pace_timer(evutil_socket_t, short, void* arg) { send_cdr(static_cast<Connection*>(arg)); }

void start_next_cdr(Connection* c) {
  SharedState* shared = c->worker->shared;
  if (stop_requested(shared)) {
    c->worker->result.stopped = true;
    retire(c);
    return;
  }
  const uint64_t index = shared->next_cdr.fetch_add(1, std::memory_order_relaxed);
  if (index >= shared->options->count) {
    retire(c);
    return;
  }
  c->cdr_index = index;
  if (shared->options->rate > 0) {
    const auto due =
        shared->paced_start + std::chrono::duration_cast<BenchClock::duration>(
                                  std::chrono::duration<double>(static_cast<double>(index) / shared->options->rate));
    const auto wait = due - BenchClock::now();
    if (wait > BenchClock::duration::zero()) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
      const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
      evtimer_add(c->pace_timer, &tv);
      return;
    }
  }
  send_cdr(c);
}

void on_deadline(evutil_socket_t, short, void* arg) {
  auto* w = static_cast<Worker*>(arg);
  w->result.timed_out = true;
  event_base_loopbreak(w->base);
}

void run_worker(Worker* w) {
  for (auto& c : w->connections) {
    ++w->active;
    start_next_cdr(c.get());
  }
  if (w->active > 0) event_base_dispatch(w->base);
}

void merge(const LoadResult& from, LoadResult* into) {
  into->cdrs_sent += from.cdrs_sent;
  into->requests += from.requests;
  into->acknowledged += from.acknowledged;
  for (const auto& [status, n] : from.other_statuses) into->other_statuses[status] += n;
  into->transport_errors += from.transport_errors;
  into->failed_cdrs += from.failed_cdrs;
  into->ack_latencies_us.insert(into->ack_latencies_us.end(), from.ack_latencies_us.begin(),
                                from.ack_latencies_us.end());
  if (into->first_error_reply.empty()) into->first_error_reply = from.first_error_reply;
  into->timed_out = into->timed_out || from.timed_out;
  into->stopped = into->stopped || from.stopped;
  if (from.first_send != BenchClock::time_point{} &&
      (into->first_send == BenchClock::time_point{} || from.first_send < into->first_send)) {
    into->first_send = from.first_send;
  }
  into->last_ack = std::max(into->last_ack, from.last_ack);
}

void release(Worker* w) {
  // Connections first: freeing one drops its pending request without calling back.
  for (auto& c : w->connections) {
    if (c->http != nullptr) evhttp_connection_free(c->http);
    if (c->pace_timer != nullptr) event_free(c->pace_timer);
  }
  w->connections.clear();
  if (w->deadline != nullptr) event_free(w->deadline);
  if (w->base != nullptr) event_base_free(w->base);
}

}  // namespace

bool run_http_load(const LoadOptions& options, const CdrBodyTemplate& body, LoadResult* result, std::string* error) {
  SharedState shared;
  shared.options = &options;
  shared.body = &body;
  const bool ipv6 = options.host.find(':') != std::string::npos;
  shared.host_header = (ipv6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);

  const int thread_count = std::max(1, std::min(options.threads, options.concurrency));
  std::vector<std::unique_ptr<Worker>> workers;
  bool ok = true;
  for (int i = 0; i < thread_count && ok; ++i) {
    auto w = std::make_unique<Worker>();
    w->shared = &shared;
    w->base = event_base_new();
    w->deadline = w->base != nullptr ? evtimer_new(w->base, &on_deadline, w.get()) : nullptr;
    if (w->deadline == nullptr) {
      *error = "cannot create a libevent base";
      ok = false;
    } else {
      const timeval limit{options.timeout_s, 0};
      evtimer_add(w->deadline, &limit);
      // Capped: a paced run may be given a large count and stopped early.
      w->result.ack_latencies_us.reserve(
          std::min<uint64_t>(options.count / static_cast<uint64_t>(thread_count) + 1, uint64_t{1} << 20));
    }
    workers.push_back(std::move(w));
  }
  for (int i = 0; i < options.concurrency && ok; ++i) {
    Worker* w = workers[static_cast<size_t>(i % thread_count)].get();
    auto c = std::make_unique<Connection>();
    c->worker = w;
    c->body = body.body();
    c->http = evhttp_connection_base_new(w->base, nullptr, options.host.c_str(), static_cast<uint16_t>(options.port));
    if (c->http == nullptr) {
      *error = "cannot create an HTTP connection to " + shared.host_header;
      ok = false;
      break;
    }
    evhttp_connection_set_timeout(c->http, options.request_timeout_s);
    c->pace_timer = evtimer_new(w->base, &on_pace_timer, c.get());
    if (c->pace_timer == nullptr) {
      *error = "cannot create a libevent timer";
      ok = false;
      break;
    }
    w->connections.push_back(std::move(c));
  }
  if (ok) {
    shared.paced_start = BenchClock::now();
    std::vector<std::thread> threads;
    threads.reserve(workers.size());
    for (auto& w : workers) threads.emplace_back(&run_worker, w.get());
    for (auto& t : threads) t.join();
    *result = LoadResult{};
    result->ack_latencies_us.reserve(std::min<uint64_t>(options.count, uint64_t{1} << 22));
    for (auto& w : workers) merge(w->result, result);
  }
  for (auto& w : workers) release(w.get());
  return ok;
}

}  // namespace cdrd
