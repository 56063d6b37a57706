// The PostgreSQL side of the benchmark: how many of a run's rows are
// committed in `cdrs`, and when the last of them became visible.
#pragma once

#include <cstdint>
#include <memory>
#include <pqxx/connection>
#include <string>

#include "bench/http_load.h"

namespace cdrd {

class RunRowCounter {
 public:
  RunRowCounter(std::string dsn, std::string account_id);
  ~RunRowCounter();

  // SELECT count(*) FROM cdrs WHERE account_id = <account>. False with *error
  // when the database cannot be reached; the next call reconnects.
  bool count(uint64_t* rows, std::string* error);

 private:
  std::string dsn_;
  std::string account_id_;
  std::unique_ptr<pqxx::connection> connection_;
};

struct Visibility {
  bool reached = false;
  uint64_t rows = 0;                    // the last count seen
  BenchClock::time_point visible_at{};  // start of the first query that saw every row
  std::string last_error;
};

// Polls every `poll_ms` until `expected` rows are visible or `deadline`
// passes. A row is visible from the moment of the snapshot of the query that
// first counted it, so visible_at is that query's start time.
Visibility wait_until_visible(RunRowCounter* counter, uint64_t expected, BenchClock::time_point deadline, int poll_ms);

}  // namespace cdrd
