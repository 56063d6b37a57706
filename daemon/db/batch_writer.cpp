#include "daemon/db/batch_writer.h"

#include <pthread.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/notification>
#include <pqxx/subtransaction>
#include <pqxx/transaction>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "daemon/core/cdr_record.h"
#include "daemon/core/metrics.h"
#include "daemon/db/batch_sql.h"
#include "daemon/db/call_store.h"
#include "daemon/db/cdr_row.h"
#include "daemon/db/migrations.h"
#include "daemon/db/rate_store.h"
#include "daemon/db/writer_lane.h"

namespace cdrd {
namespace {

using Clock = std::chrono::steady_clock;

// Longest single wait on the spool, so stop() is noticed while idle.
constexpr auto kPollSlice = std::chrono::milliseconds(50);
// An idle writer checks its connection this often, so /readyz notices an
// outage even when no CDRs arrive.
constexpr auto kIdlePing = std::chrono::seconds(1);

// share_of() splits the legs' hashes in this many parts.
constexpr size_t kShareScale = 4096;
constexpr size_t kMinRowsToBalance = 100;

// One batch read from the spool, decoded once and kept across retries.
struct PreparedBatch {
  std::vector<CdrRow> rows;
  std::vector<QuarantineEntry> unreadable;  // payloads that are not usable records
  SpoolPosition end;
};

uint64_t micros(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}
uint64_t micros_since(Clock::time_point t) { return micros(Clock::now() - t); }

std::string position_text(const SpoolPosition& p) { return std::to_string(p.segment) + ":" + std::to_string(p.offset); }

// Without a connect timeout, an unreachable host (packets dropped) would hold
// the writer, and stop() with it, for the kernel's TCP timeout (minutes).
std::string with_connect_timeout(const std::string& dsn) {
  if (dsn.find("connect_timeout") != std::string::npos) return dsn;
  const bool uri = dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0;
  if (uri) return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
  return dsn + (dsn.empty() ? "" : " ") + "connect_timeout=10";
}

// PostgreSQL's messages carry DETAIL and CONTEXT on lines of their own.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// The record's id for the log, when the JSON has one.
std::string record_id(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.IsObject()) {
    const auto it = doc.FindMember("id");
    if (it != doc.MemberEnd() && it->value.IsString()) return it->value.GetString();
  }
  return "(no id)";
}

// An id too long for its index (the reason it was refused) would fill the
// log line; the record itself is in cdrs_quarantine.
std::string short_id(const std::string& id) {
  constexpr size_t kMax = 100;
  return id.size() <= kMax ? id : id.substr(0, kMax) + "... (" + std::to_string(id.size()) + " bytes)";
}

int64_t utc_day(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::hours>(t.time_since_epoch()).count() / 24;
}

// Marks the writer's rating snapshot stale on NOTIFY cdrd_rates (sent by
// every change of the rating tables, rate_store.h). libpqxx delivers it from
// conn->get_notifs(), which check_alive() calls before every batch: no extra
// round trip.
class RatesListener : public pqxx::notification_receiver {
 public:
  RatesListener(pqxx::connection_base& conn, bool* stale)
      : pqxx::notification_receiver(conn, kRatesChannel), stale_(stale) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { *stale_ = true; }

 private:
  bool* stale_;
};

}  // namespace

double next_connection0_share(double share0, uint64_t share0_us, uint64_t slowest_lane_us, size_t lanes) {
  // With N rows, L lanes, c the time a row takes and E connection 0's extra
  // work: t0 = E + c*f*N and t_lane = c*(1-f)*N/L, so d(t_lane - t0)/df =
  // -c*N*(1+L)/L. One Newton step is (t_lane - t0)*L / (c*N*(1+L)); c*N is
  // taken as t0 + L*t_lane (= c*N + E, a little more, so a little less of a
  // step), and half of that step is made: the times of one batch are noisy.
  const double t0 = static_cast<double>(share0_us);
  const double tl = static_cast<double>(slowest_lane_us);
  const double l = static_cast<double>(lanes);
  if (lanes == 0 || t0 + l * tl <= 0) return share0;
  const double step = 0.5 * (tl - t0) * l / ((1 + l) * (t0 + l * tl));
  return std::clamp(share0 + step, kMinConnection0Share, kMaxConnection0Share);
}

struct BatchWriter::Impl {
  enum class ReadResult { kBatch, kEmpty, kClosed };
  struct Outcome {
    uint64_t written = 0;
    // Rows new or replaced by a richer source (esl -> json_cdr): one
    // affected-rows count from PostgreSQL covers both.
    uint64_t inserted = 0;
    uint64_t in_default = 0;  // of `inserted`, rows in cdrs_default
    uint64_t direct = 0;      // of `inserted`, rows COPYed straight into cdrs
    uint64_t direct_conflicts = 0;
    std::set<std::string> default_months;
    std::vector<QuarantineEntry> refused;
    std::vector<const CdrRow*> stored;  // rows now in cdrs (their links go in after them)
    CallStepOutcome calls;

    void add(const InsertOutcome& r) {
      inserted += r.affected;
      direct += r.direct;
      direct_conflicts += r.direct_conflicts;
      in_default += r.in_default;
      default_months.insert(r.default_months.begin(), r.default_months.end());
    }
  };

  BatchWriterOptions options;
  std::string dsn;
  Spool* spool;
  Metrics* metrics;
  Metrics own_metrics;  // when the caller passes none
  std::atomic<bool>* connected;
  std::atomic<Clock::rep>* progress_ticks;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;

  std::unique_ptr<pqxx::connection> conn;
  // Connections 1..N-1 (this thread's `conn` is connection 0), made by run().
  std::vector<std::unique_ptr<WriterLane>> lanes;
  // The rate decks, reloaded when their version in the database changes
  // (rate_store.h); shared immutable, so a reload never disturbs a batch.
  std::shared_ptr<const RatingSnapshot> rating;
  std::unique_ptr<RatesListener> rates_listener;  // destroyed before `conn`, which it is registered with
  bool rating_stale = true;
  bool checkpoint_behind = false;  // the last Spool::commit() failed
  Clock::time_point last_checkpoint_try;
  int64_t partitions_day = std::numeric_limits<int64_t>::min();
  // The months with a partition of their own, read after every change the
  // writer makes to them (at connect and daily): insert_rows() sends only
  // rows of those months by the direct COPY.
  MonthlyPartitions partitions;
  int64_t retention_day = std::numeric_limits<int64_t>::min();
  // Connection 0's part of each batch's rows (share_of()), moved by
  // balance_shares(); an equal part to start with.
  double share0 = 0;
  std::set<std::string> warned_default_months;  // each month is named once per process
  Clock::time_point last_contact;
  std::chrono::milliseconds backoff;
  std::mt19937 rng{std::random_device{}()};

  Impl(BatchWriterOptions o, Spool* s, Metrics* m, std::atomic<bool>* c, std::atomic<Clock::rep>* p)
      : options(std::move(o)),
        dsn(with_connect_timeout(options.dsn)),
        spool(s),
        metrics(m != nullptr ? m : &own_metrics),
        connected(c),
        progress_ticks(p),
        backoff(options.retry_initial) {
    options.max_rows = std::max<size_t>(options.max_rows, 1);
    options.connections = std::max(options.connections, 1);
  }

  void mark_progress() { progress_ticks->store(Clock::now().time_since_epoch().count()); }

  bool stop_requested() {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }

  // Sleeps the jittered back-off; false when stop() came first.
  bool wait_backoff() {
    const auto half = std::max<int64_t>(backoff.count() / 2, 1);
    std::uniform_int_distribution<int64_t> jitter(0, half);
    const std::chrono::milliseconds delay(half + jitter(rng));
    metrics->writer_backoff_ms.store(backoff.count(), std::memory_order_relaxed);
    backoff = std::min(backoff * 2, std::max(options.retry_max, options.retry_initial));
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, delay, [this] { return stopping; });
  }

  void set_connected(bool up) {
    connected->store(up);
    metrics->db_up.store(up ? 1 : 0, std::memory_order_relaxed);
  }

  void disconnect() {
    rates_listener.reset();
    conn.reset();
    set_connected(false);
  }

  bool connect() {
    try {
      auto c = std::make_unique<pqxx::connection>(dsn);
      configure_writer_session(*c, "cdrd-writer");
      // The daemon may have started while the database was unreachable, so
      // the schema may not be there yet.
      std::string error;
      if (!apply_migrations(*c, nullptr, &error)) throw std::runtime_error(error);
      const auto now = std::chrono::system_clock::now();
      if (!ensure_partitions(*c, now, options.partitions_ahead_months, &error)) throw std::runtime_error(error);
      partitions_day = utc_day(now);
      apply_retention(*c, now);
      partitions = monthly_partition_ranges(*c);
      create_staging_table(*c);
      create_call_tables(*c);
      // LISTEN before the first load: a change committed in between is then
      // seen as a notification, never missed.
      rates_listener = std::make_unique<RatesListener>(*c, &rating_stale);
      rating_stale = true;
      conn = std::move(c);
      last_contact = Clock::now();
      set_connected(true);
      spdlog::info("batch writer connected to the database");
      return true;
    } catch (const std::exception& e) {
      metrics->writer_errors.fetch_add(1, std::memory_order_relaxed);
      count_retry(classify_db_error(e));
      spdlog::warn("batch writer cannot use the database (CDRs stay in the spool): {}", error_text(e));
      return false;
    }
  }

  void count_retry(DbErrorClass c) {
    switch (c) {
      case DbErrorClass::kConnection:
        metrics->writer_retries_connection.fetch_add(1, std::memory_order_relaxed);
        break;
      case DbErrorClass::kInDoubt:
        metrics->writer_retries_in_doubt.fetch_add(1, std::memory_order_relaxed);
        break;
      case DbErrorClass::kConflict:
        metrics->writer_retries_conflict.fetch_add(1, std::memory_order_relaxed);
        break;
      case DbErrorClass::kResources:
        metrics->writer_retries_resources.fetch_add(1, std::memory_order_relaxed);
        break;
      case DbErrorClass::kInterrupted:
        metrics->writer_retries_interrupted.fetch_add(1, std::memory_order_relaxed);
        break;
      case DbErrorClass::kBadRow:  // only a data error at connect: the batch path splits those
      case DbErrorClass::kOther:
        metrics->writer_retries_other.fetch_add(1, std::memory_order_relaxed);
        break;
    }
  }

  // database.retention_months, at connect and once a day. A failure (a lock
  // that did not come within lock_timeout) is logged and tried again the
  // next day: it must never hold up the CDRs.
  void apply_retention(pqxx::connection& c, std::chrono::system_clock::time_point now) {
    if (options.retention_months <= 0 || utc_day(now) == retention_day) return;
    std::vector<std::string> dropped;
    std::string error;
    const bool ok = drop_expired_partitions(c, now, options.retention_months, &dropped, &error);
    metrics->partitions_dropped.fetch_add(dropped.size(), std::memory_order_relaxed);
    if (!ok) {
      if (!c.is_open()) throw pqxx::broken_connection(error);
      spdlog::warn("{} (tried again tomorrow)", error);
    }
    retention_day = utc_day(now);
  }

  void ensure_daily_partitions() {
    const auto now = std::chrono::system_clock::now();
    if (utc_day(now) == partitions_day) return;
    std::string error;
    if (!ensure_partitions(*conn, now, options.partitions_ahead_months, &error)) throw std::runtime_error(error);
    partitions_day = utc_day(now);
    apply_retention(*conn, now);
    partitions = monthly_partition_ranges(*conn);
  }

  // Reads what the server sent unasked: after a server shutdown that is
  // the end of the stream, and get_notifs() throws broken_connection. Finding
  // out this way, before a statement, matters with libpqxx 6.4: a statement
  // on a dead connection leaks its PGresult (make_result() throws while
  // asking the dead connection for its encoding).
  void check_alive() {
    if (!conn->is_open()) throw pqxx::broken_connection("the connection is closed");
    conn->get_notifs();
  }

  void ping_if_idle() {
    if (!conn || Clock::now() - last_contact < kIdlePing) return;
    try {
      check_alive();
      pqxx::nontransaction tx(*conn);
      tx.exec("SELECT 1");
      last_contact = Clock::now();
      tx.commit();
      // A deck changed while no CDR arrives: load it now, not in front of
      // the next batch.
      refresh_rating();
    } catch (const std::exception& e) {
      spdlog::warn("batch writer lost the database: {}", error_text(e));
      disconnect();
    }
  }

  ReadResult read_batch(SpoolPosition from, PreparedBatch* batch) {
    std::vector<SpoolRecord> records;
    if (!spool->read(from, options.max_rows, Clock::now() + kPollSlice, &records)) return ReadResult::kClosed;
    if (records.empty()) return ReadResult::kEmpty;
    // Let the batch fill for max_delay after its first record: fewer, larger
    // transactions are what PostgreSQL absorbs fastest.
    const auto fill_deadline = Clock::now() + options.max_delay;
    while (records.size() < options.max_rows && !stop_requested()) {
      mark_progress();
      const auto now = Clock::now();
      if (now >= fill_deadline) break;
      std::vector<SpoolRecord> more;
      if (!spool->read(records.back().next, options.max_rows - records.size(),
                       std::min(fill_deadline, now + kPollSlice), &more)) {
        break;
      }
      for (auto& r : more) records.push_back(std::move(r));
    }
    const auto prepare_started = Clock::now();
    prepare(records, batch);
    metrics->writer_prepare_us.fetch_add(micros_since(prepare_started), std::memory_order_relaxed);
    return ReadResult::kBatch;
  }

  static void prepare(std::vector<SpoolRecord>& records, PreparedBatch* batch) {
    batch->rows.reserve(records.size());
    for (auto& spooled : records) {
      CdrRecord record;
      CdrRow row;
      std::string error;
      if (!decode_spool_payload(spooled.payload, &record, &error)) {
        QuarantineEntry q;
        q.log_id = "(undecodable)";
        q.error = "spool record before " + position_text(spooled.next) + ": " + error;
        q.payload = std::move(spooled.payload);
        batch->unreadable.push_back(std::move(q));
      } else if (!take_columns(&record, &row, &error)) {
        QuarantineEntry q;
        q.log_id = record_id(record.json);
        q.error = std::move(error);
        q.record = std::move(record.json);
        if (!record.raw.empty()) q.raw = std::move(record.raw);
        if (!record.raw_format.empty()) q.raw_format = std::move(record.raw_format);
        q.payload = std::move(spooled.payload);
        batch->unreadable.push_back(std::move(q));
      } else {
        batch->rows.push_back(std::move(row));
      }
    }
    batch->end = records.back().next;
  }

  static QuarantineEntry refused_entry(const CdrRow& row, std::string error) {
    QuarantineEntry q;
    q.log_id = row.id;
    q.error = std::move(error);
    q.record = row.record;
    q.raw = row.raw;
    q.raw_format = row.raw_format;
    return q;
  }

  // Finds the rows PostgreSQL refuses by halving: every half that goes in
  // is kept (its savepoint released), every half that fails is split again
  // down to single rows, which are quarantined. All of it in `tx`, so the
  // batch still commits once.
  void bisect(pqxx::work& tx, const std::vector<const CdrRow*>& rows, Outcome* out) {
    if (rows.empty()) return;
    try {
      pqxx::subtransaction sub(tx, "cdrd-split");
      const InsertOutcome inserted = copy_and_insert(sub, rows);
      clear_staging(sub);
      sub.commit();
      out->add(inserted);
      out->written += rows.size();
      out->stored.insert(out->stored.end(), rows.begin(), rows.end());
      return;
    } catch (const std::exception& e) {
      if (!is_data_error(e)) throw;
      if (rows.size() == 1) {
        out->refused.push_back(refused_entry(*rows.front(), error_text(e)));
        return;
      }
    }
    const auto mid = rows.begin() + static_cast<std::ptrdiff_t>(rows.size() / 2);
    bisect(tx, std::vector<const CdrRow*>(rows.begin(), mid), out);
    bisect(tx, std::vector<const CdrRow*>(mid, rows.end()), out);
  }

  // One attempt at the whole batch; throws on anything that is not a data
  // error (the caller reconnects and retries the same batch).
  // Reloads the decks when they changed. A snapshot that cannot be built from
  // what is stored (which the rates commands prevent) keeps the previous one
  // and is tried again at the next change: rating must never stop the CDRs.
  void refresh_rating() {
    if (!rating_stale) return;
    try {
      const auto started = Clock::now();
      auto fresh = load_rating_snapshot(*conn);
      if (rating) metrics->rating_reloads.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("rating: {} rate deck(s) loaded (version {}) in {} ms", fresh->deck_count(), fresh->version(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
      rating = std::move(fresh);
    } catch (const std::exception& e) {
      const DbErrorClass cls = classify_db_error(e);
      if (cls != DbErrorClass::kOther && cls != DbErrorClass::kBadRow) throw;
      spdlog::error("rating: the rate decks could not be loaded, rating goes on with the previous ones: {}",
                    error_text(e));
    }
    rating_stale = false;
  }

  void count_inserts(const InsertOutcome& r) {
    metrics->inserted.fetch_add(r.affected, std::memory_order_relaxed);
    metrics->rows_default_partition.fetch_add(r.in_default, std::memory_order_relaxed);
    metrics->rows_copied_direct.fetch_add(r.direct, std::memory_order_relaxed);
    metrics->direct_copy_conflicts.fetch_add(r.direct_conflicts, std::memory_order_relaxed);
  }

  // The connection (0 = this thread's) that writes a row: a function of the
  // leg alone within a batch, so both versions of a leg in it (ESL and
  // mod_json_cdr, or a replay) are in one share and its upsert sees them
  // together. Connection 0 takes the fraction share0 of the legs' hashes,
  // the lanes the rest in equal parts. Across batches the split may move: a
  // batch starts only once every share of the one before has committed.
  size_t share_of(const CdrRow& row) const {
    std::string key = row.account_id;
    key.push_back('\0');
    key.append(row.call_id);
    const size_t h = std::hash<std::string>{}(key);
    if (h % kShareScale < share0_scaled()) return 0;
    return 1 + (h / kShareScale) % lanes.size();
  }
  size_t share0_scaled() const { return static_cast<size_t>(share0 * static_cast<double>(kShareScale)); }

  // Moves share0 so that connection 0 and the slowest lane finish a batch
  // together (next_connection0_share()).
  void balance_shares(uint64_t share0_us, uint64_t lane_us) {
    set_share0(next_connection0_share(share0, share0_us, lane_us, lanes.size()));
  }
  void set_share0(double share) {
    share0 = share;
    metrics->writer_share0_permille.store(static_cast<int64_t>(share0 * 1000), std::memory_order_relaxed);
  }

  // The batch in shares, one per connection (see the header). Returns only
  // when every share has committed; else throws the first error, after every
  // lane has finished with the rows.
  void write_in_shares(std::vector<CdrRow*>& rows, const PreparedBatch& batch, Outcome* out) {
    pqxx::work tx(*conn, "cdrd-batch");
    out->calls = assemble_and_rate(tx, rows, rating.get(), iso_now());
    std::vector<std::vector<const CdrRow*>> shares(lanes.size() + 1);
    for (const CdrRow* r : rows) shares[share_of(*r)].push_back(r);
    std::vector<InsertOutcome> results(shares.size());
    std::vector<uint8_t> committed(shares.size(), 0);  // not vector<bool>: lanes write their own bytes
    std::vector<uint64_t> elapsed_us(shares.size(), 0);
    std::vector<WriterLane*> started;
    std::exception_ptr error;
    const auto shares_started = Clock::now();
    try {
      for (size_t k = 1; k < shares.size(); ++k) {
        if (shares[k].empty()) continue;
        lanes[k - 1]->start([this, &shares, &results, &committed, &elapsed_us, shares_started, k](pqxx::connection& c) {
          pqxx::work share_tx(c, "cdrd-batch-share");
          results[k] = insert_rows(share_tx, shares[k], partitions);
          share_tx.commit();
          committed[k] = 1;
          elapsed_us[k] = micros_since(shares_started);
        });
        started.push_back(lanes[k - 1].get());
      }
      if (!shares[0].empty()) results[0] = insert_rows(tx, shares[0], partitions);
      store_batch_links(tx);
      for (const auto& q : batch.unreadable) insert_quarantine(tx, q);
      tx.commit();
      committed[0] = 1;
      elapsed_us[0] = micros_since(shares_started);
    } catch (...) {
      error = std::current_exception();
    }
    for (WriterLane* lane : started) {
      try {
        lane->wait();
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
    if (error) {
      // The shares that committed stay (the retry replays their rows as
      // unchanged upserts, which insert nothing): their rows are counted now.
      for (size_t k = 0; k < shares.size(); ++k) {
        if (committed[k] != 0) count_inserts(results[k]);
      }
      std::rethrow_exception(error);
    }
    for (const InsertOutcome& r : results) out->add(r);
    out->written = rows.size();
    const uint64_t slowest_lane = *std::max_element(elapsed_us.begin() + 1, elapsed_us.end());
    metrics->writer_share0_us.fetch_add(elapsed_us[0], std::memory_order_relaxed);
    metrics->writer_lanes_us.fetch_add(slowest_lane, std::memory_order_relaxed);
    // A batch too small to keep every connection busy says nothing of the split.
    if (rows.size() >= kMinRowsToBalance) balance_shares(elapsed_us[0], slowest_lane);
  }

  Outcome write_batch(PreparedBatch& batch) {
    std::vector<CdrRow*> rows;
    rows.reserve(batch.rows.size());
    for (auto& r : batch.rows) rows.push_back(&r);

    Outcome out;
    try {
      if (!lanes.empty()) {
        write_in_shares(rows, batch, &out);
        return out;
      }
      pqxx::work tx(*conn, "cdrd-batch");
      out.add(store_rows(tx, rows, rating.get(), UpsertMode::kRicherWins, &out.calls, &partitions));
      for (const auto& q : batch.unreadable) insert_quarantine(tx, q);
      // A deferred constraint refuses its rows here, at COMMIT, as a data
      // error (the connection still open; a lost one is in_doubt_error).
      tx.commit();
      out.written = rows.size();
      return out;
    } catch (const std::exception& e) {
      if (!is_data_error(e)) throw;
    }
    out = Outcome{};
    pqxx::work tx(*conn, "cdrd-batch-split");
    // Deferred constraints checked at the end of each statement, so each one
    // fails the half that holds its row instead of the whole COMMIT.
    tx.exec("SET CONSTRAINTS ALL IMMEDIATE");
    // Call assembly and rating (call_store.h) come first in each attempt:
    // they set the rows' call-level fields from what is stored at that moment.
    out.calls = assemble_and_rate(tx, rows, rating.get(), iso_now());
    const std::vector<const CdrRow*> all(rows.begin(), rows.end());
    const auto mid = all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2);
    bisect(tx, std::vector<const CdrRow*>(all.begin(), mid), &out);
    bisect(tx, std::vector<const CdrRow*>(mid, all.end()), &out);
    insert_links(tx, out.stored);
    for (const auto& q : batch.unreadable) insert_quarantine(tx, q);
    for (const auto& q : out.refused) insert_quarantine(tx, q);
    tx.commit();
    return out;
  }

  // Rows of a month with no partition are safe in cdrs_default, but an
  // operator should know (an old import, a clock far ahead, too few
  // partitions ahead): each month is named once per process, the counter
  // counts every row.
  void warn_default_months(const Outcome& out) {
    std::string fresh;
    for (const auto& m : out.default_months) {
      if (!warned_default_months.insert(m).second) continue;
      fresh += (fresh.empty() ? "" : ", ") + m;
    }
    if (!fresh.empty()) {
      spdlog::warn(
          "CDRs for {} have no monthly partition: stored in cdrs_default (see database.partitions_ahead_months)",
          fresh);
    }
  }

  // A checkpoint that failed after its batch was committed is retried while
  // the writer is idle: otherwise the spool would keep the segments it could
  // delete (and count them against spool.max_bytes) until the next batch.
  void retry_checkpoint(const SpoolPosition& position) {
    if (!checkpoint_behind || Clock::now() - last_checkpoint_try < kIdlePing) return;
    last_checkpoint_try = Clock::now();
    std::string error;
    if (spool->commit(position, &error)) {
      checkpoint_behind = false;
      spdlog::info("spool checkpoint caught up at {}", position_text(position));
    } else {
      spdlog::warn("spool checkpoint still failing: {}", error);
    }
  }

  void run() {
    for (int k = 1; k < options.connections; ++k) {
      lanes.push_back(std::make_unique<WriterLane>(dsn, "cdrd-writer-" + std::to_string(k)));
    }
    set_share0(1.0 / static_cast<double>(lanes.size() + 1));
    SpoolPosition position = spool->committed();
    std::optional<PreparedBatch> pending;
    while (true) {
      mark_progress();
      if (!pending && stop_requested()) break;
      if (!conn && !connect()) {
        if (!wait_backoff()) break;
        continue;
      }
      if (!pending) {
        PreparedBatch batch;
        const ReadResult r = read_batch(position, &batch);
        if (r == ReadResult::kClosed) break;
        if (r == ReadResult::kEmpty) {
          retry_checkpoint(position);
          ping_if_idle();
          continue;
        }
        pending = std::move(batch);
      }
      try {
        check_alive();
        ensure_daily_partitions();
        refresh_rating();
        const auto started = Clock::now();
        const Outcome out = write_batch(*pending);
        const auto finished = Clock::now();
        last_contact = finished;
        metrics->batch_seconds.observe(std::chrono::duration<double>(finished - started).count());
        const uint64_t batch_us = micros(finished - started);
        metrics->writer_call_step_us.fetch_add(out.calls.elapsed_us, std::memory_order_relaxed);
        metrics->writer_rows_us.fetch_add(batch_us - std::min(batch_us, out.calls.elapsed_us),
                                          std::memory_order_relaxed);
        metrics->written.fetch_add(out.written, std::memory_order_relaxed);
        metrics->inserted.fetch_add(out.inserted, std::memory_order_relaxed);
        metrics->batches.fetch_add(1, std::memory_order_relaxed);
        metrics->quarantined.fetch_add(pending->unreadable.size() + out.refused.size(), std::memory_order_relaxed);
        metrics->rows_default_partition.fetch_add(out.in_default, std::memory_order_relaxed);
        metrics->rows_copied_direct.fetch_add(out.direct, std::memory_order_relaxed);
        metrics->direct_copy_conflicts.fetch_add(out.direct_conflicts, std::memory_order_relaxed);
        metrics->calls_relinked.fetch_add(out.calls.relinked, std::memory_order_relaxed);
        metrics->customer_rated.fetch_add(out.calls.customer_rated, std::memory_order_relaxed);
        metrics->customer_unrated.fetch_add(out.calls.customer_unrated, std::memory_order_relaxed);
        metrics->vendor_rated.fetch_add(out.calls.vendor_rated, std::memory_order_relaxed);
        metrics->vendor_unrated.fetch_add(out.calls.vendor_unrated, std::memory_order_relaxed);
        warn_default_months(out);
        for (const auto& q : pending->unreadable) {
          spdlog::warn("quarantined CDR {}: {}", short_id(q.log_id), one_line(q.error));
        }
        for (const auto& q : out.refused) spdlog::warn("quarantined CDR {}: {}", short_id(q.log_id), one_line(q.error));
        // Only now that PostgreSQL has the batch may the spool forget it.
        std::string error;
        const auto checkpoint_started = Clock::now();
        const bool checkpointed = spool->commit(pending->end, &error);
        metrics->writer_checkpoint_us.fetch_add(micros_since(checkpoint_started), std::memory_order_relaxed);
        if (!checkpointed) {
          spdlog::error("spool checkpoint failed (the batch is in the database and will be replayed harmlessly): {}",
                        error);
          checkpoint_behind = true;
        } else {
          checkpoint_behind = false;
        }
        position = pending->end;
        pending.reset();
        backoff = options.retry_initial;
      } catch (const std::exception& e) {
        const DbErrorClass cls = classify_db_error(e);
        metrics->writer_errors.fetch_add(1, std::memory_order_relaxed);
        count_retry(cls);
        spdlog::warn("batch writer: batch up to {} failed ({}), will reconnect and retry it in about {} ms: {}",
                     position_text(pending->end), db_error_class_name(cls), backoff.count(), error_text(e));
        disconnect();
        if (!wait_backoff()) break;
      }
    }
    lanes.clear();
    disconnect();
  }
};

BatchWriter::BatchWriter(BatchWriterOptions options, Spool* spool, Metrics* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), spool, metrics, &connected_, &progress_ticks_)) {}

BatchWriter::~BatchWriter() { stop(); }

void BatchWriter::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping) return;
  }
  thread_ = std::thread([this] { run(); });
}

void BatchWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void BatchWriter::run() {
  // The name top -H and /proc/<pid>/task/*/comm show (bench/run_ingest_bench.sh
  // reads this thread's CPU time by it).
  pthread_setname_np(pthread_self(), "cdrd-writer");
  impl_->run();
}

}  // namespace cdrd
