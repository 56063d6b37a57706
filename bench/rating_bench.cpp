// Rating costs on one thread (Google Benchmark), on a generated deck of
// 100,000 prefixes (2 to 8 digits, fixed seed):
//   deck/parse_csv        the CSV text to rates (parse_deck_csv)
//   deck/build_index      the rates to a DeckIndex (sort + hash table)
//   deck/parse_and_index  both: what loading a deck file costs
//   lookup                DeckIndex::find of an 11-12 digit number
//   rate/customer         RatingSnapshot::customer: assignment, lookup,
//                         charge (GMP rationals), the price rounding
//   rate/customer_json    the same plus the stored JSON object
// With --dsn DSN (a database with cdrd's schema; its rating tables are
// replaced) also:
//   db/replace_deck       replace_deck(): the deck into PostgreSQL with COPY
//   db/load_snapshot      load_rating_snapshot(): the deck back and indexed
// Nothing here asserts a time; the README's rating section has figures.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "bench/guarded_main.h"
#include "daemon/db/rate_store.h"
#include "daemon/rating/deck_csv.h"
#include "daemon/rating/rate_index.h"
#include "daemon/rating/rating_snapshot.h"

namespace cdrd {
namespace {

constexpr size_t kPrefixes = 100000;
constexpr size_t kNumbers = 1 << 16;

std::string g_dsn;

struct Data {
  std::string csv;
  std::vector<std::string> prefixes;
  std::vector<std::string> numbers;  // callee digits: 90% under a prefix of the deck, 10% anything
};

const Data& data() {
  static const Data d = [] {
    Data out;
    std::mt19937_64 rng(12);
    std::uniform_int_distribution<int> digit(0, 9);
    std::uniform_int_distribution<int> first(1, 9);
    std::uniform_int_distribution<int> length(2, 8);
    std::uniform_int_distribution<int> cents(1, 9999);
    std::unordered_set<std::string> seen;
    out.csv = "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee\n";
    while (out.prefixes.size() < kPrefixes) {
      std::string p(1, static_cast<char>('0' + first(rng)));
      const int n = length(rng);
      while (static_cast<int>(p.size()) < n) p.push_back(static_cast<char>('0' + digit(rng)));
      if (!seen.insert(p).second) continue;
      char rate[16];
      std::snprintf(rate, sizeof(rate), "0.%04d", cents(rng));
      const bool per_second = out.prefixes.size() % 2 == 0;
      out.csv += p + ",Destination " + std::to_string(out.prefixes.size()) + (per_second ? ",1," : ",60,") + rate +
                 (per_second ? ",1," : ",6,") + rate + ",0.005\n";
      out.prefixes.push_back(p);
    }
    std::uniform_int_distribution<size_t> pick(0, kPrefixes - 1);
    std::uniform_int_distribution<int> number_length(11, 12);
    for (size_t i = 0; i < kNumbers; ++i) {
      std::string number = i % 10 == 9 ? std::string(1, static_cast<char>('0' + first(rng))) : out.prefixes[pick(rng)];
      const int n = number_length(rng);
      while (static_cast<int>(number.size()) < n) number.push_back(static_cast<char>('0' + digit(rng)));
      out.numbers.push_back(number);
    }
    return out;
  }();
  return d;
}

RateDeck parsed_deck() {
  RateDeck deck;
  deck.settings.name = "bench";
  deck.settings.currency = "USD";
  deck.settings.price_rounding = PriceRounding::kHalfUp;
  deck.settings.decimals = 4;
  std::string error;
  if (!parse_deck_csv(data().csv, "bench.csv", &deck.entries, &error)) throw std::runtime_error(error);
  return deck;
}

void parse_csv(benchmark::State& state) {
  const std::string& csv = data().csv;
  for (auto _ : state) {
    std::vector<RateEntry> entries;
    std::string error;
    if (!parse_deck_csv(csv, "bench.csv", &entries, &error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    benchmark::DoNotOptimize(entries.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPrefixes));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(csv.size()));
}

void build_index(benchmark::State& state) {
  const RateDeck deck = parsed_deck();
  for (auto _ : state) {
    state.PauseTiming();
    RateDeck copy = deck;
    state.ResumeTiming();
    DeckIndex index(std::move(copy));
    benchmark::DoNotOptimize(&index);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPrefixes));
}

void parse_and_index(benchmark::State& state) {
  for (auto _ : state) {
    DeckIndex index(parsed_deck());
    benchmark::DoNotOptimize(&index);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPrefixes));
}

void lookup(benchmark::State& state) {
  const DeckIndex index(parsed_deck());
  const std::vector<std::string>& numbers = data().numbers;
  const int64_t now = 1714521600LL * 1000000;
  size_t i = 0;
  size_t found = 0;
  for (auto _ : state) {
    const std::optional<RateMatch> m = index.find(numbers[i], now);
    found += m.has_value() ? 1 : 0;
    benchmark::DoNotOptimize(m);
    i = (i + 1) & (kNumbers - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["found_%"] = 100.0 * static_cast<double>(found) / static_cast<double>(state.iterations());
}

std::shared_ptr<const RatingSnapshot> bench_snapshot() {
  std::vector<RateDeck> decks;
  decks.push_back(parsed_deck());
  RateAssignment a;
  a.subject = "acct-1";
  a.deck = "bench";
  return std::make_shared<const RatingSnapshot>(1, std::move(decks), std::vector<RateAssignment>{a});
}

template <bool kJson>
void rate_customer(benchmark::State& state) {
  const std::shared_ptr<const RatingSnapshot> snap = bench_snapshot();
  const std::vector<std::string>& numbers = data().numbers;
  std::vector<LegToRate> legs(kNumbers);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> duration_us(0, 600LL * 1000000);
  for (size_t i = 0; i < kNumbers; ++i) {
    legs[i].account_id = "acct-1";
    legs[i].direction_class = "outbound";
    legs[i].callee_digits = numbers[i];
    legs[i].start_us = 1714521600LL * 1000000;
    legs[i].answer_us = legs[i].start_us + 5000000;
    legs[i].end_us = legs[i].answer_us + duration_us(rng);
  }
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const RatingOutcome out = snap->customer(legs[i], "2024-05-01T17:00:00Z");
    if (kJson) {
      const std::string json = out.json();
      bytes += json.size();
      benchmark::DoNotOptimize(json.data());
    } else {
      benchmark::DoNotOptimize(out.charge.data());
    }
    i = (i + 1) & (kNumbers - 1);
  }
  state.SetItemsProcessed(state.iterations());
  if (kJson) state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void db_replace_deck(benchmark::State& state) {
  pqxx::connection conn(g_dsn);
  const RateDeck deck = parsed_deck();
  for (auto _ : state) replace_deck(conn, deck, "bench.csv");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPrefixes));
}

void db_load_snapshot(benchmark::State& state) {
  pqxx::connection conn(g_dsn);
  replace_deck(conn, parsed_deck(), "bench.csv");
  for (auto _ : state) {
    const std::shared_ptr<const RatingSnapshot> snap = load_rating_snapshot(conn);
    benchmark::DoNotOptimize(snap.get());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPrefixes));
}

int run_main(int argc, char** argv) {
  // --dsn DSN is ours; the rest is Google Benchmark's.
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dsn") == 0 && i + 1 < argc) {
      g_dsn = argv[++i];
      continue;
    }
    args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  data();  // generated once, outside every measurement
  benchmark::RegisterBenchmark("deck/parse_csv", parse_csv)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("deck/build_index", build_index)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("deck/parse_and_index", parse_and_index)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("lookup", lookup);
  benchmark::RegisterBenchmark("rate/customer", rate_customer<false>);
  benchmark::RegisterBenchmark("rate/customer_json", rate_customer<true>);
  if (!g_dsn.empty()) {
    benchmark::RegisterBenchmark("db/replace_deck", db_replace_deck)->Unit(benchmark::kMillisecond)->Iterations(3);
    benchmark::RegisterBenchmark("db/load_snapshot", db_load_snapshot)->Unit(benchmark::kMillisecond)->Iterations(3);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace cdrd

int main(int argc, char** argv) { return cdrd::bench::guarded_main("cdrd_rating_bench", cdrd::run_main, argc, argv); }
