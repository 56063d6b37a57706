#include "bench/row_visibility.h"

#include <pqxx/pqxx>
#include <thread>

namespace cdrd {

RunRowCounter::RunRowCounter(std::string dsn, std::string account_id)
    : dsn_(std::move(dsn)), account_id_(std::move(account_id)) {}

RunRowCounter::~RunRowCounter() = default;

bool RunRowCounter::count(uint64_t* rows, std::string* error) {
  try {
    if (!connection_) connection_ = std::make_unique<pqxx::connection>(dsn_);
    pqxx::nontransaction tx(*connection_);
    const pqxx::result r = tx.exec_params("SELECT count(*) FROM cdrs WHERE account_id = $1", account_id_);
    *rows = r[0][0].as<uint64_t>();
    return true;
  } catch (const std::exception& e) {
    connection_.reset();
    *error = e.what();
    return false;
  }
}

Visibility wait_until_visible(RunRowCounter* counter, uint64_t expected, BenchClock::time_point deadline, int poll_ms) {
  Visibility v;
  while (true) {
    const auto query_start = BenchClock::now();
    uint64_t rows = 0;
    std::string error;
    if (counter->count(&rows, &error)) {
      v.rows = rows;
      if (rows >= expected) {
        v.reached = true;
        v.visible_at = query_start;
        return v;
      }
    } else {
      v.last_error = error;
    }
    if (BenchClock::now() >= deadline) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

}  // namespace cdrd
