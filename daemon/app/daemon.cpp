#include "daemon/app/daemon.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/api/api_service.h"
#include "daemon/api/kazoo/kazoo_dialect.h"
#include "daemon/api/portsip/portsip_dialect.h"
#include "daemon/api/read_pool.h"
#include "daemon/api/wavix/wavix_dialect.h"
#include "daemon/api/yeti/yeti_dialect.h"
#include "daemon/app/database_setup.h"
#include "daemon/auth/token_key.h"
#include "daemon/core/metrics.h"
#include "daemon/db/batch_writer.h"
#include "daemon/esl/esl_client.h"
#include "daemon/http/http_listener.h"
#include "daemon/http/http_server.h"
#include "daemon/http/loop_base.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/ingest/ingest_service.h"
#include "daemon/ingest/reject_store.h"
#include "daemon/spool/spool.h"

namespace cdrd {
namespace {

// The batch writer blocks, without marking progress, for at most one
// connection attempt (connect_timeout=10 s, batch_writer.cpp) plus one
// back-off wait (BatchWriterOptions::retry_max, 5 s) while the database is
// down: a gap up to this long is an outage being retried, not a stuck writer.
constexpr auto kWriterLongestHealthyGap = std::chrono::seconds(20);

// Applies log.format to `logger` (at start and on SIGHUP).
void set_log_format(spdlog::logger& logger, const std::string& format) {
  if (format == "json") {
    logger.set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,"msg":"%v"})",
                       spdlog::pattern_time_type::utc);
  } else {
    logger.set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l [%t] %v", spdlog::pattern_time_type::utc);
  }
}

// sd_notify's RELOADING=1 wants the time the reload began (CLOCK_MONOTONIC).
unsigned long long monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000;
}

// A STATUS= value is one line.
std::string status_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("cdrd");
  set_log_format(*logger, format);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

struct Daemon::Impl {
  Config config;
  std::string config_path;
  Metrics& metrics = global_metrics();
  std::string token_key;  // HMAC key of auth tokens (api.token_secret needs a restart)

  DatabaseHandle db;
  std::unique_ptr<Spool> spool;
  std::unique_ptr<RejectStore> rejects;
  std::unique_ptr<BatchWriter> writer;
  event_base* base = nullptr;
  std::unique_ptr<LoopTaskQueue> loop_queue;
  std::unique_ptr<ReadPool> reads;
  // The route handlers outlive the server, which tells them to let go of
  // their requests before it frees its listeners.
  std::unique_ptr<IngestService> ingest;
  std::unique_ptr<ApiService> api;
  std::unique_ptr<HttpServer> http;
  std::vector<std::unique_ptr<EslClient>> esl_clients;

  event* sigterm = nullptr;
  event* sigint = nullptr;
  event* sighup = nullptr;
  event* drain_timer = nullptr;
  event* watchdog_timer = nullptr;
  std::chrono::steady_clock::time_point drain_deadline;
  int drain_limit_s = 0;  // limits.drain_timeout_s when the stop began
  bool stopping = false;
  // Watchdog: WATCHDOG_USEC, and whether pings are held back (writer stuck).
  std::chrono::microseconds watchdog_interval{0};
  bool watchdog_starved = false;
  std::string ready_status;  // STATUS= while all is well
  // What stop_storage() is doing, for the message when the deadline cuts it.
  std::atomic<const char*> stop_stage{"stopping"};

  int start();
  void stop_parts();
  // The parts that may block (database calls, fsync, the embedded server's
  // shutdown); stop_parts() and stop_within_deadline() run them.
  void stop_storage();
  // The loop's objects, once the loop has ended.
  void free_loop();
  // After the loop: stops everything within drain_deadline, or exits the
  // process at the deadline (never returns then). Returns the exit code.
  int stop_within_deadline();
  void begin_shutdown(const char* why);
  void reload();
  void feed_watchdog();
  std::string esl_states() const;

  static void on_signal(evutil_socket_t sig, short, void* self);
  static void on_drain_tick(evutil_socket_t, short, void* self);
  static void on_watchdog(evutil_socket_t, short, void* self);
};

Daemon::Daemon(Config config, std::string config_path) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->config_path = std::move(config_path);
}

Daemon::~Daemon() = default;

int Daemon::run() {
  const int rc = impl_->start();
  if (rc != 0) {
    impl_->stop_parts();
    return rc;
  }
  event_base_dispatch(impl_->base);
  return impl_->stop_within_deadline();
}

int Daemon::Impl::start() {
  std::string error;
  // Before anything under state_dir is touched: the spool, the rejects and
  // the embedded server's data belong to one cdrd at a time.
  db.state_lock = StateDirLock::acquire(config.state_dir, &error);
  if (!db.state_lock) {
    spdlog::critical("{}", error);
    return 1;
  }
  if (!load_token_key(config.api_token_secret, config.token_key_path(), &token_key, &error)) {
    spdlog::critical("auth token key: {}", error);
    return 1;
  }
  if (!open_database(config, &db, &error)) {
    spdlog::critical("{}", error);
    return 1;
  }
  // An unreachable external database must not stop ingest: the spool takes
  // the CDRs and the writer applies the schema when it gets through.
  if (!migrate_database(config, db.dsn, &error)) {
    if (db.embedded) {
      spdlog::critical("schema migration failed: {}", error);
      return 1;
    }
    spdlog::error("database not ready at start ({}); ingest continues into the spool", error);
  }

  SpoolOptions spool_options;
  spool_options.dir = config.spool_dir();
  spool_options.max_bytes = config.spool_max_bytes;
  spool_options.segment_bytes = config.spool_segment_bytes;
  spool_options.metrics = &metrics;
  spool = Spool::open(spool_options, &error);
  if (!spool) {
    spdlog::critical("spool: {}", error);
    return 1;
  }
  try {
    rejects = std::make_unique<RejectStore>(config.rejects_dir());
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }

  BatchWriterOptions writer_options;
  writer_options.dsn = db.dsn;
  writer_options.max_rows = static_cast<size_t>(config.batch_max_rows);
  writer_options.max_delay = std::chrono::milliseconds(config.batch_max_delay_ms);
  writer_options.partitions_ahead_months = config.partitions_ahead_months;
  writer_options.retention_months = config.retention_months;
  writer_options.connections = config.writer_connections;
  writer = std::make_unique<BatchWriter>(writer_options, spool.get(), &metrics);
  writer->start();

  evthread_use_pthreads();
  base = new_loop_base();
  loop_queue = std::make_unique<LoopTaskQueue>(base);
  reads = std::make_unique<ReadPool>(config.read_pool_size, db.dsn, config.statement_timeout_ms,
                                     static_cast<size_t>(config.api_max_queued_reads));
  HttpServer::Parts parts;
  parts.base = base;
  parts.metrics = &metrics;
  parts.readiness = [this](std::string* why) {
    if (!spool->healthy()) {
      *why = "the spool has failed a write; restart cdrd after fixing the disk";
      return false;
    }
    if (!writer->connected()) {
      *why = "the database is not reachable (CDRs are kept in the spool)";
      return false;
    }
    return true;
  };
  parts.input_links = [this] { return esl_states(); };
  http = std::make_unique<HttpServer>(parts);
  const std::shared_ptr<const IngestSettings> ingest_settings = make_ingest_settings(config);
  ingest = std::make_unique<IngestService>(IngestService::Parts{loop_queue.get(), spool.get(), rejects.get(), &metrics},
                                           ingest_settings);
  api = std::make_unique<ApiService>(ApiService::Parts{loop_queue.get(), reads.get(), &metrics, http->gate()},
                                     make_api_settings(config, token_key));
  // api.dialects, in its order (the config loader checked the names).
  const std::map<std::string, std::unique_ptr<ApiDialect> (*)()> dialects = {
      {"kazoo", &make_kazoo_dialect},
      {"portsip", &make_portsip_dialect},
      {"wavix", &make_wavix_dialect},
      {"yeti", &make_yeti_dialect},
  };
  for (const std::string& name : config.api_dialects) {
    const auto it = dialects.find(name);
    if (it != dialects.end()) api->mount(it->second());
  }
  http->add_handler(RouteFamily::kIngest, ingest.get());
  http->add_handler(RouteFamily::kReadApi, api.get());
  if (!http->listen(listener_specs(config), make_http_settings(config), &error)) {
    spdlog::critical("{}", error);
    return 1;
  }
  // The ESL clients share the HTTP routes' normalization rules (aliasing
  // pointer: the rules live as long as the settings that hold them).
  const std::shared_ptr<const NormalizeOptions> normalize(ingest_settings, &ingest_settings->normalize);
  for (const FreeswitchNode& node : config.freeswitch) {
    EslClient::Parts esl_parts{base, spool.get(), rejects.get(), &metrics};
    EslClientOptions esl_options;
    esl_options.node = node;
    esl_clients.push_back(std::make_unique<EslClient>(esl_parts, esl_options, normalize));
    esl_clients.back()->start();
  }

  ::signal(SIGPIPE, SIG_IGN);
  sigterm = evsignal_new(base, SIGTERM, &Impl::on_signal, this);
  sigint = evsignal_new(base, SIGINT, &Impl::on_signal, this);
  sighup = evsignal_new(base, SIGHUP, &Impl::on_signal, this);
  event_add(sigterm, nullptr);
  event_add(sigint, nullptr);
  event_add(sighup, nullptr);

  // The timer firing proves the loop runs; feed_watchdog() checks the writer.
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    watchdog_interval = std::chrono::microseconds(watchdog_usec);
    watchdog_timer = event_new(base, -1, EV_PERSIST, &Impl::on_watchdog, this);
    const timeval tv{static_cast<time_t>(watchdog_usec / 2 / 1000000),
                     static_cast<suseconds_t>((watchdog_usec / 2) % 1000000)};
    event_add(watchdog_timer, &tv);
  }

  spdlog::info("cdrd {} listening on {} (node {}, state {})", CDRD_VERSION, config.listen_http, config.node_name,
               config.state_dir);
  ready_status = "listening on " + config.listen_http;
  sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", ready_status.c_str(), static_cast<int>(getpid()));
  return 0;
}

void Daemon::Impl::on_signal(evutil_socket_t sig, short, void* self) {
  auto* d = static_cast<Impl*>(self);
  if (sig == SIGHUP) {
    d->reload();
  } else {
    d->begin_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  }
}

void Daemon::Impl::begin_shutdown(const char* why) {
  if (stopping) return;
  stopping = true;
  // Read now: drain_timeout_s is reloadable.
  drain_limit_s = config.drain_timeout_s;
  const auto limit = std::chrono::seconds(drain_limit_s);
  spdlog::info("{}: stopping within {} s; answering the {} request(s) in flight", why, limit.count(),
               http->in_flight());
  sd_notifyf(0, "STOPPING=1\nSTATUS=stopping (%s): draining for up to %lld s", why,
             static_cast<long long>(limit.count()));
  http->start_draining();
  // FreeSWITCH does not resend what it sent while we stop; stop taking events now.
  for (auto& client : esl_clients) client->stop();
  drain_deadline = std::chrono::steady_clock::now() + limit;
  drain_timer = event_new(base, -1, EV_PERSIST, &Impl::on_drain_tick, this);
  const timeval tv{0, 20000};
  event_add(drain_timer, &tv);
}

void Daemon::Impl::on_drain_tick(evutil_socket_t, short, void* self) {
  auto* d = static_cast<Impl*>(self);
  if (d->http->idle() || std::chrono::steady_clock::now() >= d->drain_deadline) {
    event_base_loopexit(d->base, nullptr);
  }
}

int Daemon::Impl::stop_within_deadline() {
  // The loop also ends without SIGTERM when libevent fails: stop just as well.
  if (!stopping) {
    drain_limit_s = config.drain_timeout_s;
    drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(drain_limit_s);
  }
  const int unanswered = http->in_flight();
  // On this thread, which ran the loop: the ESL clients hand what they hold to the spool.
  esl_clients.clear();
  std::promise<void> stopped;
  std::future<void> done = stopped.get_future();
  std::thread stopper([this, &stopped] {
    stop_storage();
    stopped.set_value();
  });
  if (done.wait_until(drain_deadline) != std::future_status::ready) {
    // Nothing acknowledged is lost by leaving now: an unanswered request was
    // never acknowledged (its sender retries), every acknowledged CDR is
    // fdatasync'd in the spool (the sync thread does not wait for the
    // writer), and the writer's uncommitted batch is replayed from the spool
    // at the next start, where the upsert makes it count once. The embedded
    // server gets its fast shutdown from PR_SET_PDEATHSIG.
    spdlog::error(
        "stop cut at the {} s drain deadline while {}: {} request(s) left unanswered (never acknowledged; the "
        "senders retry); {} acknowledged CDR(s) ({} bytes) not yet committed to PostgreSQL stay in the spool for "
        "the next start",
        drain_limit_s, stop_stage.load(), unanswered, metrics.spool_pending_records.load(), metrics.spool_bytes.load());
    spdlog::default_logger()->flush();
    ::_exit(1);
  }
  stopper.join();
  free_loop();
  spdlog::info("cdrd stopped: every request answered, the writer's last batch committed, the spool flushed");
  return 0;
}

void Daemon::Impl::feed_watchdog() {
  // The writer marks progress after each batch, while idle (every 50 ms) and
  // around each reconnect attempt, so only a writer blocked inside one call
  // (a statement waiting on a lock, a server that stopped answering) falls
  // this far behind. A restart by systemd then unblocks it; the spool keeps
  // what it has not written.
  const auto limit = std::max<std::chrono::steady_clock::duration>(watchdog_interval, kWriterLongestHealthyGap);
  const auto behind = std::chrono::steady_clock::now() - writer->last_progress();
  if (behind <= limit) {
    if (watchdog_starved) {
      watchdog_starved = false;
      spdlog::info("watchdog: the batch writer moves again; feeding the systemd watchdog");
      sd_notifyf(0, "WATCHDOG=1\nSTATUS=%s", ready_status.c_str());
    } else {
      sd_notify(0, "WATCHDOG=1");
    }
    return;
  }
  if (watchdog_starved) return;
  watchdog_starved = true;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(behind).count();
  const std::string why = "the batch writer has made no progress for " + std::to_string(seconds) +
                          " s (blocked inside a database call?); not feeding the systemd watchdog";
  spdlog::error("watchdog: {}", why);
  sd_notifyf(0, "STATUS=%s", why.c_str());
}

void Daemon::Impl::on_watchdog(evutil_socket_t, short, void* self) { static_cast<Impl*>(self)->feed_watchdog(); }

void Daemon::Impl::reload() {
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", monotonic_usec());
  Config next;
  std::string error;
  if (!load_config(config_path, process_environment(), &next, &error) || !config_reload_allowed(config, next, &error)) {
    spdlog::error("SIGHUP: configuration not reloaded, keeping the running one: {}", error);
    const std::string status = status_line("SIGHUP: configuration not reloaded, keeping the running one: " + error);
    sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
    return;
  }
  http->apply(make_http_settings(next));
  api->apply(make_api_settings(next, token_key));
  const std::shared_ptr<const IngestSettings> ingest_settings = make_ingest_settings(next);
  ingest->apply(ingest_settings);
  const std::shared_ptr<const NormalizeOptions> normalize(ingest_settings, &ingest_settings->normalize);
  for (auto& client : esl_clients) client->apply(normalize);
  set_log_format(*spdlog::default_logger(), next.log_format);
  spdlog::default_logger()->set_level(spdlog::level::from_str(next.log_level));
  config = std::move(next);
  spdlog::info("SIGHUP: configuration reloaded from {}", config_path);
  sd_notifyf(0, "READY=1\nSTATUS=%s (configuration reloaded)", ready_status.c_str());
}

std::string Daemon::Impl::esl_states() const {
  if (esl_clients.empty()) return "";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& client : esl_clients) {
    w.Key(client->node_name().c_str(), static_cast<rapidjson::SizeType>(client->node_name().size()));
    w.String(EslClient::state_name(client->state()));
  }
  w.EndObject();
  return std::string("\"esl\":") + buffer.GetString();
}

void Daemon::Impl::stop_parts() {
  // ESL clients before the spool: their last appends must reach it.
  esl_clients.clear();
  stop_storage();
  free_loop();
}

void Daemon::Impl::stop_storage() {
  // The read threads first: their last replies go to the loop queue, which
  // is dropped with the loop.
  stop_stage = "waiting for the read API's queries";
  reads.reset();
  stop_stage = "waiting for the batch writer to commit its batch";
  if (writer) writer->stop();  // commits the in-flight batch
  writer.reset();
  stop_stage = "flushing the spool";
  if (spool) spool->shutdown();
  spool.reset();  // flushes pending appends
  stop_stage = "writing the rejects store";
  rejects.reset();
  stop_stage = "stopping the embedded PostgreSQL";
  if (db.embedded) {
    std::string error;
    if (!db.embedded->stop(&error)) spdlog::error("embedded PostgreSQL: {}", error);
  }
  stop_stage = "freeing the event loop";
}

void Daemon::Impl::free_loop() {
  http.reset();
  api.reset();
  ingest.reset();
  for (event* ev : {sigterm, sigint, sighup, drain_timer, watchdog_timer}) {
    if (ev) event_free(ev);
  }
  sigterm = sigint = sighup = drain_timer = watchdog_timer = nullptr;
  loop_queue.reset();
  if (base) event_base_free(base);
  base = nullptr;
}

}  // namespace cdrd
