#include "daemon/app/reprocess_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/canonical/canonical_import.h"
#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/normalize.h"
#include "daemon/app/database_setup.h"
#include "daemon/config/normalize_options.h"
#include "daemon/db/batch_sql.h"
#include "daemon/db/call_store.h"
#include "daemon/db/cdr_row.h"
#include "daemon/db/migrations.h"
#include "daemon/db/rate_store.h"
#include "daemon/rating/rating_time.h"

namespace cdrd {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kMaxConflictRetries = 10;
using Clock = std::chrono::steady_clock;

const char* kind_name(ReprocessCommand::Kind kind) {
  return kind == ReprocessCommand::Kind::kRenormalize ? "renormalize" : "rerate";
}

struct Cursor {
  std::string account;
  std::string ts = "-infinity";
  std::string id;
};

// One stored row as the batch query returns it.
struct StoredRow {
  std::string account_id, ts, id, call_id, source, raw, raw_format, leg, record, leg_interaction_id;
  int64_t gregorian_ts = 0;
};

// The rows a run walks: after the cursor ($1..$3), in the window, of the
// account, for rerate --deck those priced with the deck, those that found
// none and those written before any deck existed. `params` fill $4 on.
struct Window {
  std::string where;
  std::vector<std::string> params;
};

Window window_of(const ReprocessCommand& c, const std::string& from, const std::string& to) {
  Window w;
  auto param = [&w](const std::string& value) {
    w.params.push_back(value);
    return "$" + std::to_string(w.params.size() + 3);
  };
  w.where = " WHERE (account_id, ts, id) > ($1, $2::timestamptz, $3) AND ts >= " + param(from) +
            "::timestamptz AND ts < " + param(to) + "::timestamptz";
  if (!c.account.empty()) w.where += " AND account_id = " + param(c.account);
  if (c.kind == ReprocessCommand::Kind::kRerate && !c.deck.empty()) {
    const std::string d = param(c.deck);
    w.where += " AND (record->'rating'->'customer'->>'deck' = " + d + " OR record->'rating'->'vendor'->>'deck' = " + d +
               " OR record->'rating'->'customer'->>'status' = 'unrated' OR record->'rating'->'vendor'->>'status' ="
               " 'unrated' OR NOT record ? 'rating')";
  }
  return w;
}

// The next batch after `at`. `record - 'rating' - 'direction_class'`: what
// the writer had before the call step added them (rerate starts from it).
pqxx::result fetch_batch(pqxx::transaction_base& tx, const Window& w, const Cursor& at, int limit) {
  std::vector<std::string> params{at.account, at.ts, at.id};
  params.insert(params.end(), w.params.begin(), w.params.end());
  params.push_back(std::to_string(limit));
  return tx.exec_params(
      "SELECT account_id, ts::text, id, call_id, source, coalesce(raw, ''), coalesce(raw_format, ''),"
      " coalesce(leg, ''), (record - 'rating' - 'direction_class')::text,"
      " coalesce(leg_interaction_id, interaction_id, ''), gregorian_ts FROM cdrs" +
          w.where + " ORDER BY account_id, ts, id LIMIT $" + std::to_string(params.size()),
      pqxx::prepare::make_dynamic_params(params));
}

// The window's size, for the ETA.
int64_t count_window(pqxx::transaction_base& tx, const Window& w) {
  const Cursor start;
  std::vector<std::string> params{start.account, start.ts, start.id};
  params.insert(params.end(), w.params.begin(), w.params.end());
  return tx.exec_params1("SELECT count(*) FROM cdrs" + w.where, pqxx::prepare::make_dynamic_params(params))[0]
      .as<int64_t>();
}

// The record derived again from the raw document, as the ingest route
// that received it would derive it now. nullopt with *why when it cannot be.
std::optional<CdrRecord> renormalized(const StoredRow& row, const NormalizeOptions& options, std::string* why) {
  if (row.raw.empty()) {
    *why = "no raw document";
    return std::nullopt;
  }
  // The ?uuid=a_ of the original request is not kept; a leg stored as the
  // A-leg stays one (the prefix only ever forces A).
  const std::string uuid_param = row.leg == "A" ? "a_" + row.call_id : "";
  NormalizeResult result;
  if (row.source == "import") {
    ImportOptions import_options;
    import_options.account_id = row.account_id;
    import_options.numbers = options.numbers;
    CdrRecord record;
    std::string code;
    // A JSON row is its own raw text; a CSV row without its header is not
    // parseable alone, so its stored record is completed again instead.
    const std::string& source_json = row.raw_format == "json" ? row.raw : row.record;
    if (!import_record(source_json, row.raw, row.raw_format, import_options, &record, &code, why)) return std::nullopt;
    return record;
  }
  if (row.raw_format == "json") {
    result = normalize_json_cdr(row.raw, options, uuid_param);
  } else if (row.raw_format == "xml") {
    result = normalize_xml_cdr(row.raw, options, uuid_param);
  } else if (row.raw_format == "esl") {
    EslFrame frame;
    const bool json = !row.raw.empty() && row.raw.front() == '{';
    frame.headers = {{"Content-Length", std::to_string(row.raw.size())},
                     {"Content-Type", json ? "text/event-json" : "text/event-plain"}};
    frame.body = row.raw;
    EslEvent event;
    if (!parse_esl_event(frame, &event, why)) return std::nullopt;
    result = normalize_esl_event(event, options);
  } else {
    *why = "raw_format '" + row.raw_format + "' is not json, xml or esl";
    return std::nullopt;
  }
  if (!result.ok()) {
    *why = result.error.message;
    return std::nullopt;
  }
  return result.record;
}

class Progress {
 public:
  Progress(const char* name, int64_t total, int64_t done)
      : name_(name), total_(total), start_done_(done), terminal_(isatty(STDERR_FILENO) == 1) {}
  void update(int64_t done, bool last = false) {
    const auto now = Clock::now();
    const auto every = terminal_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000);
    if (!last && now - shown_ < every) return;
    shown_ = now;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done - start_done_) / seconds : 0;
    std::string eta = "-";
    if (rate > 0 && total_ > done) {
      const auto left = static_cast<int64_t>(static_cast<double>(total_ - done) / rate);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%" PRId64 ":%02" PRId64 ":%02" PRId64, left / 3600, left / 60 % 60, left % 60);
      eta = buf;
    }
    std::fprintf(stderr, "%s%s: %" PRId64 " of %" PRId64 " rows, %.0f rows/s, ETA %s%s", terminal_ ? "\r\033[K" : "",
                 name_, done, total_, rate, eta.c_str(), terminal_ && !last ? "" : "\n");
    std::fflush(stderr);
  }

 private:
  const char* name_;
  int64_t total_;
  int64_t start_done_;
  bool terminal_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point shown_{};
};

std::string job_key(const ReprocessCommand& c, const std::string& from, const std::string& to) {
  std::string key = std::string(kind_name(c.kind)) + " from=" + from + " to=" + to + " account=" + c.account;
  if (c.kind == ReprocessCommand::Kind::kRerate) key += " deck=" + c.deck;
  return key;
}

// ISO text -> timestamptz literal; the default when empty. False when not a time.
bool window_bound(const std::string& text, const char* fallback, std::string* out) {
  if (text.empty()) {
    *out = fallback;
    return true;
  }
  const auto us = parse_iso_time_us(text);
  return us && format_utc_micros(*us, out);
}

struct Totals {
  int64_t done = 0;
  int64_t skipped = 0;
};

int run(pqxx::connection& conn, const ReprocessCommand& c, const std::string& from, const std::string& to,
        const NormalizeOptions& options) {
  pqxx::nontransaction(conn).exec("SET TimeZone = 'UTC'");
  create_staging_table(conn);
  create_call_tables(conn);
  const auto rating = load_rating_snapshot(conn);
  const std::string key = job_key(c, from, to);

  Cursor cursor;
  Totals totals;
  {
    pqxx::work tx(conn);
    const pqxx::result job = tx.exec_params(
        "SELECT cursor_account, cursor_ts::text, cursor_id, rows_done, rows_skipped, finished_at IS NOT NULL"
        " FROM cdrd_jobs WHERE job = $1",
        key);
    if (!job.empty() && !job[0][5].as<bool>() && !c.restart) {
      cursor = Cursor{job[0][0].as<std::string>(), job[0][1].as<std::string>(), job[0][2].as<std::string>()};
      totals = Totals{job[0][3].as<int64_t>(), job[0][4].as<int64_t>()};
      const int64_t resumed_after = totals.done + totals.skipped;
      std::fprintf(stderr, "%s: resuming an unfinished run after %" PRId64 " rows (--restart starts over)\n",
                   kind_name(c.kind), resumed_after);
    } else {
      tx.exec_params(
          "INSERT INTO cdrd_jobs (job) VALUES ($1) ON CONFLICT (job) DO UPDATE SET cursor_account = '',"
          " cursor_ts = '-infinity', cursor_id = '', rows_done = 0, rows_skipped = 0, started_at = now(),"
          " updated_at = now(), finished_at = NULL",
          key);
    }
    tx.commit();
  }
  const Window window = window_of(c, from, to);
  int64_t total = 0;
  {
    pqxx::read_transaction tx(conn);
    total = count_window(tx, window);
  }
  Progress progress(kind_name(c.kind), total, totals.done + totals.skipped);
  int64_t refused_logged = 0;
  // Rows this run moved to a key further on (the rules now derive another
  // id, time or account): the walk meets them again, already done.
  std::set<std::string> moved_here;
  auto key_of = [](const std::string& account, const std::string& id, int64_t gregorian_ts) {
    return account + std::string(1, '\0') + id + std::string(1, '\0') + std::to_string(gregorian_ts);
  };

  while (true) {
    int attempt = 0;
    bool finished = false;
    while (true) {
      try {
        pqxx::work tx(conn, "cdrd-reprocess");
        const pqxx::result batch = fetch_batch(tx, window, cursor, c.batch_rows);
        if (batch.empty()) {
          tx.exec_params("UPDATE cdrd_jobs SET finished_at = now(), updated_at = now() WHERE job = $1", key);
          tx.commit();
          finished = true;
          break;
        }
        std::vector<CdrRow> rows;
        rows.reserve(batch.size());
        Totals step;
        std::vector<std::string> moved_in_batch;
        for (const auto& r : batch) {
          StoredRow s{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                      r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>(), r[7].as<std::string>(),
                      r[8].as<std::string>(), r[9].as<std::string>(), r[10].as<int64_t>()};
          if (moved_here.count(key_of(s.account_id, s.id, s.gregorian_ts)) != 0) continue;
          std::string why;
          std::optional<CdrRecord> record;
          if (c.kind == ReprocessCommand::Kind::kRerate) {
            record = CdrRecord{s.record, s.raw, s.raw_format};
          } else {
            record = renormalized(s, options, &why);
          }
          CdrRow row;
          if (record && !extract_columns(*record, &row, &why)) record.reset();
          if (!record) {
            ++step.skipped;
            if (refused_logged++ < 20)
              spdlog::warn("{} {} ({}) left as it is: {}", kind_name(c.kind), s.id, s.account_id, why);
            continue;
          }
          if (c.kind == ReprocessCommand::Kind::kRerate) row.leg_interaction_id = s.leg_interaction_id;
          // A row whose key the current rules derive differently (another
          // account, another id) moves: the old one goes with its links.
          if (row.id != s.id || row.account_id != s.account_id || row.gregorian_ts != s.gregorian_ts) {
            tx.exec_params("DELETE FROM cdrs WHERE id = $1 AND ts = $2::timestamptz AND account_id = $3", s.id, s.ts,
                           s.account_id);
            tx.exec_params("DELETE FROM cdr_links WHERE account_id = $1 AND call_id = $2", s.account_id, s.call_id);
            moved_in_batch.push_back(key_of(row.account_id, row.id, row.gregorian_ts));
          }
          rows.push_back(std::move(row));
          ++step.done;
        }
        std::vector<CdrRow*> pointers;
        pointers.reserve(rows.size());
        for (auto& r : rows) pointers.push_back(&r);
        CallStepOutcome calls;
        store_rows(tx, pointers, rating.get(), UpsertMode::kReplace, &calls);
        const auto& last = batch[batch.size() - 1];
        Cursor next{last[0].as<std::string>(), last[1].as<std::string>(), last[2].as<std::string>()};
        tx.exec_params(
            "UPDATE cdrd_jobs SET cursor_account = $2, cursor_ts = $3::timestamptz, cursor_id = $4,"
            " rows_done = rows_done + $5, rows_skipped = rows_skipped + $6, updated_at = now() WHERE job = $1",
            key, next.account, next.ts, next.id, step.done, step.skipped);
        tx.commit();
        cursor = std::move(next);
        moved_here.insert(moved_in_batch.begin(), moved_in_batch.end());
        totals.done += step.done;
        totals.skipped += step.skipped;
        break;
      } catch (const pqxx::transaction_rollback& e) {
        // A deadlock or serialization failure with the running daemon's
        // writer: the batch is tried again from the same cursor.
        if (++attempt > kMaxConflictRetries) throw;
        spdlog::info("{}: batch after {} conflicted, trying again: {}", kind_name(c.kind), cursor.id, e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
      }
    }
    progress.update(totals.done + totals.skipped, finished);
    if (finished) break;
  }
  std::printf("%s: %" PRId64 " rows %s, %" PRId64
              " left as they were (see the log: no raw document, or refused by the current "
              "rules)\n",
              kind_name(c.kind), totals.done,
              c.kind == ReprocessCommand::Kind::kRenormalize ? "derived again" : "rated again", totals.skipped);
  return 0;
}

}  // namespace

int run_reprocess_command(const Config& config, const ReprocessCommand& command) {
  std::string from;
  std::string to;
  if (!window_bound(command.from, "-infinity", &from)) {
    std::fprintf(stderr, "cdrd %s: --from '%s' is not an ISO-8601 time (e.g. 2024-05-01 or 2024-05-01T00:00:00Z)\n",
                 kind_name(command.kind), command.from.c_str());
    return kExitUsage;
  }
  if (!window_bound(command.to, "infinity", &to)) {
    std::fprintf(stderr, "cdrd %s: --to '%s' is not an ISO-8601 time (e.g. 2024-06-01 or 2024-06-01T00:00:00Z)\n",
                 kind_name(command.kind), command.to.c_str());
    return kExitUsage;
  }
  if (command.batch_rows < 1 || command.batch_rows > 10000) {
    std::fprintf(stderr, "cdrd %s: --batch %d is outside 1..10000\n", kind_name(command.kind), command.batch_rows);
    return kExitUsage;
  }
  return with_command_database(config, kind_name(command.kind), [&](pqxx::connection& conn) {
    try {
      return run(conn, command, from, to, normalize_options_from(config));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cdrd %s: %s (run the same command again to resume after the last committed batch)\n",
                   kind_name(command.kind), e.what());
      return kExitFailed;
    }
  });
}

}  // namespace cdrd
