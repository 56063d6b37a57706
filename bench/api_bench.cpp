// cdrd_api_bench: measures the read API on the data set that
// cdrd_api_bench_load put into cdrd's database: p50/p99/max latency of the
// first page of a day, the next pages, get by id and a month's summary, and
// rows/s of CSV exports of a month. Requests go one at a time over one
// keep-alive connection; every choice comes from a seeded generator, so two
// runs send the same requests. Run by hand (bench/run_api_bench.sh); never
// part of ctest.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <random>

#include "bench/api_bench_dataset.h"
#include "bench/api_http_client.h"
#include "bench/guarded_main.h"
#include "bench/latency_stats.h"

namespace cdrd {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200;

struct Settings {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string dsn;
  std::string key;
  std::string prefix = "/v2";
  int requests = 2000;
  int exports = 10;
  int page_size = 50;
  int max_next_pages = 10;
  int warmup = 10;
  uint64_t seed = 42;
  int timeout_s = 1800;
  int request_timeout_s = 120;
  std::string command_line;
};

// One query kind's results.
struct KindResult {
  explicit KindResult(std::string kind_name) : name(std::move(kind_name)) {}
  std::string name;
  uint64_t requests = 0;
  std::vector<uint64_t> latencies_us;  // of the 200 replies
  std::map<int, uint64_t> errors;      // by status; 0 = no reply
  std::string first_error;
  uint64_t rows = 0;  // records (JSON) or CSV rows in the 200 replies
  uint64_t bytes = 0;
  double seconds = 0;  // sum of the 200 replies' total time
  std::vector<uint64_t> header_us;
  LatencySummary summary;
  LatencySummary header_summary;
};

using Clock = std::chrono::steady_clock;

bool is_loopback_address(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

uint64_t to_us(double ms) { return static_cast<uint64_t>(std::llround(ms * 1000.0)); }

void record_error(KindResult* k, const BenchReply& reply) {
  ++k->errors[reply.status];
  if (k->first_error.empty()) {
    k->first_error = fmt::format("HTTP {}: {}", reply.status, reply.body.substr(0, 300));
  }
}

// Counts the records of an RFC 4180 body fed in pieces: a line break ends a
// record only outside quotes (an SDP field holds CRLFs). An escaped quote
// ("") toggles the state twice, so it needs no special case.
struct CsvRecordCounter {
  bool in_quotes = false;
  uint64_t records = 0;
  void feed(const char* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      if (data[i] == '"') {
        in_quotes = !in_quotes;
      } else if (data[i] == '\n' && !in_quotes) {
        ++records;
      }
    }
  }
};

// The parts of a list reply the bench needs; false when it is not the
// contract's success envelope.
struct ListReply {
  size_t records = 0;
  std::string next_start_key;
};

bool parse_list_reply(const std::string& body, ListReply* out) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  const auto data = doc.FindMember("data");
  const auto status = doc.FindMember("status");
  if (data == doc.MemberEnd() || !data->value.IsArray() || status == doc.MemberEnd() || !status->value.IsString() ||
      std::string(status->value.GetString()) != "success") {
    return false;
  }
  out->records = data->value.Size();
  const auto next = doc.FindMember("next_start_key");
  out->next_start_key = next != doc.MemberEnd() && next->value.IsString() ? next->value.GetString() : "";
  return true;
}

bool is_success_envelope(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  const auto status = doc.FindMember("status");
  return doc.HasMember("data") && status != doc.MemberEnd() && status->value.IsString() &&
         std::string(status->value.GetString()) == "success";
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// "YYYY-MM-DDTHH:MM:SSZ" of Unix seconds.
std::string iso_utc(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class Bench {
 public:
  Bench(const Settings& s, const BenchDataset& d, std::vector<std::string> accounts, pqxx::connection* db)
      : s_(s),
        d_(d),
        accounts_(std::move(accounts)),
        db_(db),
        rng_(s.seed),
        client_(s.host, s.port, s.request_timeout_s) {
    deadline_ = Clock::now() + std::chrono::seconds(s.timeout_s);
    months_ = window_months(d);
  }

  bool client_ok() const { return client_.ok(); }
  bool timed_out() const { return timed_out_; }

  // (a) the first page of one day of one account, both drawn uniformly.
  KindResult first_pages(int count) {
    KindResult k{"first page of a day"};
    for (int i = 0; i < count && !out_of_time(); ++i) {
      const std::string& account = accounts_[pick(accounts_.size())];
      const int64_t day = random_day();
      list_page(&k, account, day, day + 86399, "");
    }
    return k;
  }

  // (b) the pages after the first of a day of one account: a random row's
  // account and day (so accounts with more calls are picked more often and
  // have more pages), then next_start_key up to max_next_pages times. Only
  // the pages after the first are timed.
  KindResult next_pages(int count) {
    KindResult k{"next pages (start_key)"};
    KindResult untimed{"first pages"};
    const int max_sessions = count * 10;
    for (int session = 0; session < max_sessions && static_cast<int>(k.requests) < count && !out_of_time();) {
      const std::vector<BenchRowKey> rows = random_rows(std::min(100, max_sessions - session));
      for (const BenchRowKey& row : rows) {
        if (static_cast<int>(k.requests) >= count || out_of_time()) break;
        ++session;
        const int64_t day = day_of(row.gregorian_ts);
        std::string key = list_page(&untimed, row.account_id, day, day + 86399, "");
        for (int page = 0; page < s_.max_next_pages && !key.empty() && static_cast<int>(k.requests) < count; ++page) {
          key = list_page(&k, row.account_id, day, day + 86399, key);
        }
      }
    }
    return k;
  }

  // (c) one CDR by id, of a row drawn uniformly.
  KindResult by_id(int count) {
    KindResult k{"get by id"};
    while (static_cast<int>(k.requests) < count && !out_of_time()) {
      for (const BenchRowKey& row : random_rows(std::min<int>(500, count - static_cast<int>(k.requests)))) {
        if (out_of_time()) break;
        const std::string target = s_.prefix + "/accounts/" + row.account_id + "/cdrs/" + url_encode(row.id);
        const BenchReply reply = client_.get(target, auth());
        ++k.requests;
        if (reply.status == 200 && reply.body.find(row.id) != std::string::npos && is_success_envelope(reply.body)) {
          k.latencies_us.push_back(to_us(reply.total_ms));
          k.rows += 1;
          k.bytes += reply.bytes;
        } else {
          record_error(&k, reply);
        }
      }
    }
    return k;
  }

  // (d) the summary of one calendar month of an account drawn uniformly.
  KindResult summaries(int count) {
    KindResult k{"month summary"};
    for (int i = 0; i < count && !out_of_time(); ++i) {
      const std::string& account = accounts_[pick(accounts_.size())];
      const auto& month = months_[pick(months_.size())];
      const std::string target =
          fmt::format("{}/accounts/{}/cdrs/summary?created_from={}&created_to={}", s_.prefix, account,
                      month.first + kGregorianUnixOffset, month.second - 1 + kGregorianUnixOffset);
      const BenchReply reply = client_.get(target, auth());
      ++k.requests;
      if (reply.status == 200 && is_success_envelope(reply.body)) {
        k.latencies_us.push_back(to_us(reply.total_ms));
        k.bytes += reply.bytes;
      } else {
        record_error(&k, reply);
      }
    }
    return k;
  }

  // (f) the PBX dialect's list (seed 001) of one day of a random row's
  // account (big accounts more often): the first `top` calls and the total
  // `count`, which is the bounded count of issue 13 (call_row_source.h).
  // With top=1 the reply is almost all count.
  KindResult call_counts(int count, int top) {
    KindResult k{top == 1 ? "PBX count of a day (top=1)" : "PBX list of a day + count"};
    while (static_cast<int>(k.requests) < count && !out_of_time()) {
      for (const BenchRowKey& row : random_rows(std::min<int>(500, count - static_cast<int>(k.requests)))) {
        if (out_of_time()) break;
        const int64_t day = day_of(row.gregorian_ts) - kGregorianUnixOffset;
        const std::string target = fmt::format("/api/cdrs?account_id={}&start_time={}&end_time={}&top={}",
                                               row.account_id, iso_utc(day), iso_utc(day + 86399), top);
        const BenchReply reply = client_.get(target, {{"Authorization", "Bearer " + s_.key}});
        ++k.requests;
        if (reply.status == 200 && reply.body.rfind("{\"count\":", 0) == 0) {
          k.latencies_us.push_back(to_us(reply.total_ms));
          k.rows += static_cast<uint64_t>(std::stoll(reply.body.substr(9)));
          k.bytes += reply.bytes;
        } else {
          record_error(&k, reply);
        }
      }
    }
    return k;
  }

  // (e) CSV export of one calendar month of a random row's account (big
  // accounts more often, as their exports are the ones that matter).
  KindResult csv_exports(int count) {
    KindResult k{"CSV export of a month"};
    for (const BenchRowKey& row : random_rows(count)) {
      if (out_of_time()) break;
      const auto& month = months_[pick(months_.size())];
      const std::string target =
          fmt::format("{}/accounts/{}/cdrs?created_from={}&created_to={}", s_.prefix, row.account_id,
                      month.first + kGregorianUnixOffset, month.second - 1 + kGregorianUnixOffset);
      CsvRecordCounter counter;
      auto headers = auth();
      headers.emplace_back("Accept", "text/csv");
      BenchReply reply =
          client_.get(target, headers, [&counter](const char* data, size_t size) { counter.feed(data, size); });
      ++k.requests;
      if (reply.status == 200 && reply.content_type.rfind("text/csv", 0) == 0 && counter.records >= 1) {
        k.latencies_us.push_back(to_us(reply.total_ms));
        k.header_us.push_back(to_us(reply.header_ms));
        k.rows += counter.records - 1;  // the header line
        k.bytes += reply.bytes;
        k.seconds += reply.total_ms / 1000.0;
      } else {
        if (reply.status == 200) {
          // Counted apart from real statuses: a 200 that is not a CSV export.
          reply.status = -1;
          reply.body = "200 with Content-Type '" + reply.content_type + "' and " + std::to_string(counter.records) +
                       " lines, not a CSV export";
        }
        record_error(&k, reply);
      }
    }
    return k;
  }

  // Untimed requests of every kind first: they open the read pool's lazy
  // database connections and the keep-alive connection.
  void warm_up(int count) {
    if (count <= 0) return;
    first_pages(count);
    by_id(count);
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  int64_t random_day() {
    const int64_t days = (d_.window_end_unix - d_.window_start_unix) / 86400;
    return d_.window_start_unix + static_cast<int64_t>(pick(static_cast<size_t>(days))) * 86400 + kGregorianUnixOffset;
  }

  // The start (Gregorian seconds) of the UTC day of a Gregorian time.
  static int64_t day_of(int64_t gregorian) { return gregorian - gregorian % 86400; }

  std::vector<BenchRowKey> random_rows(int count) {
    std::uniform_int_distribution<int64_t> any(0, d_.total_rows - 1);
    std::vector<int64_t> ns;
    ns.reserve(static_cast<size_t>(std::max(count, 0)));
    for (int i = 0; i < count; ++i) ns.push_back(any(rng_));
    return bench_row_keys(*db_, d_, ns);
  }

  BenchHttpClient::Headers auth() const { return {{"X-Auth-Token", s_.key}}; }

  // Requests one list page and records it in *k; returns its
  // next_start_key ("" on the last page or an error).
  std::string list_page(KindResult* k, const std::string& account, int64_t from, int64_t to,
                        const std::string& start_key) {
    std::string target = fmt::format("{}/accounts/{}/cdrs?created_from={}&created_to={}&page_size={}", s_.prefix,
                                     account, from, to, s_.page_size);
    if (!start_key.empty()) target += "&start_key=" + url_encode(start_key);
    const BenchReply reply = client_.get(target, auth());
    ++k->requests;
    ListReply list;
    if (reply.status != 200 || !parse_list_reply(reply.body, &list)) {
      record_error(k, reply);
      return "";
    }
    k->latencies_us.push_back(to_us(reply.total_ms));
    k->rows += list.records;
    k->bytes += reply.bytes;
    return list.next_start_key;
  }

  bool out_of_time() {
    if (Clock::now() >= deadline_) timed_out_ = true;
    return timed_out_;
  }

  const Settings& s_;
  const BenchDataset& d_;
  const std::vector<std::string> accounts_;
  pqxx::connection* db_;
  std::mt19937_64 rng_;
  BenchHttpClient client_;
  std::vector<std::pair<int64_t, int64_t>> months_;
  Clock::time_point deadline_;
  bool timed_out_ = false;
};

std::string errors_text(const KindResult& k) {
  if (k.errors.empty()) return "0";
  std::string text;
  uint64_t total = 0;
  for (const auto& [status, n] : k.errors) {
    total += n;
    const std::string what = status == 0 ? "no reply" : status == -1 ? "200 not CSV" : std::to_string(status);
    text += fmt::format("{}{}: {}", text.empty() ? "" : ", ", what, n);
  }
  return fmt::format("{} ({})", total, text);
}

std::string ms_cell(const KindResult& k, double value) {
  return k.latencies_us.empty() ? "-" : fmt::format("{:.2f}", value);
}

void print_report(const Settings& s, const BenchDataset& d, std::vector<KindResult>& kinds, double wall_s) {
  fmt::print("\ncdrd_api_bench: {}\n", s.command_line);
  fmt::print("data set: {} rows, {} accounts (skew {}), {} .. {} (exclusive), loaded {}\n", d.total_rows, d.accounts,
             d.skew, utc_date(d.window_start_unix), utc_date(d.window_end_unix),
             d.finished ? "and vacuumed" : fmt::format("{} rows (NOT finished)", d.loaded_rows));
  fmt::print("requests one at a time over one keep-alive connection to {}:{}; seed {}; page_size {}; {:.1f} s\n\n",
             s.host, s.port, s.seed, s.page_size, wall_s);
  fmt::print("| {:<28} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>9} | {}\n", "query", "requests", "ok", "p50 ms",
             "p99 ms", "max ms", "rows/reply", "errors");
  fmt::print("|{:-<30}|{:->10}|{:->10}|{:->10}|{:->10}|{:->10}|{:->11}|--------\n", "", "", "", "", "", "", "");
  for (auto& k : kinds) {
    k.summary = summarize_latencies(&k.latencies_us);
    k.header_summary = summarize_latencies(&k.header_us);
    const double per_reply =
        k.summary.count > 0 ? static_cast<double>(k.rows) / static_cast<double>(k.summary.count) : 0;
    fmt::print("| {:<28} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>10.1f} | {}\n", k.name, k.requests,
               k.summary.count, ms_cell(k, k.summary.p50_ms), ms_cell(k, k.summary.p99_ms),
               ms_cell(k, k.summary.max_ms), per_reply, errors_text(k));
  }
  const KindResult& csv = kinds.back();
  if (csv.seconds > 0) {
    fmt::print(
        "\nCSV export: {} exports, {} rows, {:.1f} MB in {:.2f} s: {:.0f} rows/s, {:.1f} MB/s "
        "(time to headers p50 {:.1f} ms)\n",
        csv.summary.count, csv.rows, static_cast<double>(csv.bytes) / 1e6, csv.seconds,
        static_cast<double>(csv.rows) / csv.seconds, static_cast<double>(csv.bytes) / 1e6 / csv.seconds,
        csv.header_summary.p50_ms);
  } else {
    fmt::print("\nCSV export: no successful export\n");
  }
  for (const auto& k : kinds) {
    if (!k.first_error.empty()) fmt::print("first error of '{}': {}\n", k.name, k.first_error);
  }
}

std::string report_json(const std::vector<KindResult>& kinds, bool timed_out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("timed_out");
  w.Bool(timed_out);
  for (const auto& k : kinds) {
    w.Key(k.name.c_str(), static_cast<rapidjson::SizeType>(k.name.size()));
    w.StartObject();
    w.Key("requests");
    w.Uint64(k.requests);
    w.Key("ok");
    w.Uint64(k.summary.count);
    w.Key("p50_ms");
    w.Double(k.summary.p50_ms);
    w.Key("p99_ms");
    w.Double(k.summary.p99_ms);
    w.Key("max_ms");
    w.Double(k.summary.max_ms);
    w.Key("rows");
    w.Uint64(k.rows);
    w.Key("bytes");
    w.Uint64(k.bytes);
    w.Key("errors");
    w.StartObject();
    for (const auto& [status, n] : k.errors) {
      const std::string name = std::to_string(status);
      w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      w.Uint64(n);
    }
    w.EndObject();
    if (k.seconds > 0) {
      w.Key("rows_per_s");
      w.Double(static_cast<double>(k.rows) / k.seconds);
      w.Key("mb_per_s");
      w.Double(static_cast<double>(k.bytes) / 1e6 / k.seconds);
    }
    w.EndObject();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

int run(const Settings& s) {
  if (!is_loopback_address(s.host)) {
    fmt::print(stderr, "--host {}: only loopback addresses (127.0.0.0/8, ::1) are allowed\n", s.host);
    return 2;
  }
  pqxx::connection db(s.dsn);
  BenchDataset d;
  std::string error;
  if (!read_bench_dataset(db, &d, &error)) {
    fmt::print(stderr, "{}\n", error);
    return 1;
  }
  if (!d.finished) fmt::print(stderr, "warning: the data set is not fully loaded ({} rows)\n", d.loaded_rows);
  Bench bench(s, d, bench_account_ids(db, d.accounts), &db);
  if (!bench.client_ok()) {
    fmt::print(stderr, "cannot create an HTTP client for {}:{}\n", s.host, s.port);
    return 1;
  }
  bench.warm_up(s.warmup);
  const auto start = Clock::now();
  std::vector<KindResult> kinds;
  kinds.push_back(bench.first_pages(s.requests));
  kinds.push_back(bench.next_pages(s.requests));
  kinds.push_back(bench.by_id(s.requests));
  kinds.push_back(bench.summaries(s.requests));
  kinds.push_back(bench.call_counts(s.requests, 100));
  kinds.push_back(bench.call_counts(s.requests, 1));
  kinds.push_back(bench.csv_exports(s.exports));
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  print_report(s, d, kinds, wall_s);
  if (bench.timed_out())
    fmt::print("TIMED OUT after --timeout-s {}: the table covers the requests made\n", s.timeout_s);
  fmt::print("{}\n", report_json(kinds, bench.timed_out()));
  return bench.timed_out() ? 1 : 0;
}

// main's work; main only catches what escapes it.
int run_main(int argc, char** argv) {
  Settings s;
  for (int i = 0; i < argc; ++i) s.command_line += (i > 0 ? " " : "") + std::string(argv[i]);
  CLI::App app{"cdrd_api_bench: latency of cdrd's read API on the cdrd_api_bench_load data set"};
  app.add_option("--host", s.host, "cdrd address; loopback only")->capture_default_str();
  app.add_option("--port", s.port, "cdrd HTTP port")->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--dsn", s.dsn, "libpq DSN of cdrd's database (reads the data set's parameters)")->required();
  app.add_option("--key", s.key, "API key (or token) allowed to read every account")->required();
  app.add_option("--prefix", s.prefix, "route prefix: /v2, /v1 or \"\"")->capture_default_str();
  app.add_option("--requests", s.requests, "requests of each timed kind (pages, next pages, by id, summary)")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--exports", s.exports, "CSV exports of a month")->check(CLI::Range(0, 100000))->capture_default_str();
  app.add_option("--page-size", s.page_size, "page_size of the list requests")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--max-next-pages", s.max_next_pages, "next pages followed per day")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--warmup", s.warmup, "untimed requests first (first pages and by id)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--seed", s.seed, "seed of the request choices")->capture_default_str();
  app.add_option("--timeout-s", s.timeout_s, "bound on the whole run")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--request-timeout-s", s.request_timeout_s, "a request idle this long fails")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cdrd_api_bench: {}\n", e.what());
    return 1;
  }
}

}  // namespace
}  // namespace cdrd

int main(int argc, char** argv) { return cdrd::bench::guarded_main("cdrd_api_bench", cdrd::run_main, argc, argv); }
