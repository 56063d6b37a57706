// CdrStore: the read queries of the billing API. One instance per read-pool
// thread; it owns its pqxx::connection (connected lazily, dropped on a
// broken connection and reopened by the next call).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>
#include <pqxx/except>
#include <utility>

#include "daemon/api/cdr_filter.h"

namespace cdrd {

// Keyset position: the (timestamp, id) of the last row of a page.
struct CdrCursor {
  int64_t gregorian_ts = 0;
  std::string id;
};

struct CdrListQuery {
  std::string account_id;
  int64_t from_gregorian = 0;  // inclusive, compared with the record's timestamp
  int64_t to_gregorian = 0;    // inclusive
  size_t page_size = 50;
  bool ascending = false;          // newest first unless true
  std::optional<CdrCursor> after;  // continue after this row
  // ANDed with the account and the window. Without filters the prepared
  // statements run; with them, the same query is built with the filters'
  // conditions and run with its parameters (exec_params).
  std::vector<CdrFilter> filters;
};

struct CdrPage {
  std::vector<std::string> records;  // canonical record JSON, as stored
  std::optional<CdrCursor> next;     // set when more rows follow
};

class CdrStore {
 public:
  CdrStore(std::string dsn, int statement_timeout_ms);
  ~CdrStore();

  // Throw pqxx exceptions on database errors.
  CdrPage list(const CdrListQuery& query);
  std::optional<std::string> get(const std::string& account_id, const std::string& id);
  // Every leg of the account's call `interaction_id`, loopback halves
  // included, by channel start then id; empty when there is none.
  std::vector<std::string> legs(const std::string& account_id, const std::string& interaction_id);
  // One record per interaction of the account, loopback halves left out: its
  // A-leg (else its earliest leg) with a member "legs" (the ids of its legs,
  // by channel start then id). An interaction is in the window, and in the
  // keyset order, by the (timestamp, id) of that record.
  CdrPage interactions(const CdrListQuery& query);

  // Runs fn(pqxx::connection&) on this store's connection (opened on first
  // use), for queries that live beside this class (api keys, summaries).
  // Errors are thrown as by the methods above.
  template <typename Fn>
  auto run(Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
    return with_connection([&] { return fn(conn()); });
  }

 private:
  using SqlBuilder = std::string (*)(bool ascending, bool after, const std::string& filter_sql);
  CdrPage page(const char* const (&statements)[2][2], SqlBuilder sql_of, const CdrListQuery& query);
  pqxx::connection& conn();

  // A connection that broke is dropped, so the next call opens a new one with
  // the session settings and prepared statements of conn(), rather than
  // letting libpqxx reactivate it without them.
  template <typename Fn>
  auto with_connection(Fn&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const pqxx::broken_connection&) {
      conn_.reset();
      throw;
    } catch (...) {
      if (conn_ && !conn_->is_open()) conn_.reset();
      throw;
    }
  }

  const std::string dsn_;
  const int statement_timeout_ms_;
  std::unique_ptr<pqxx::connection> conn_;
};

// Opaque, URL-safe encoding of a cursor for next_start_key / start_key.
std::string encode_cursor(const CdrCursor& cursor);
// False for anything encode_cursor() did not produce.
bool decode_cursor(const std::string& key, CdrCursor* out);

}  // namespace cdrd
