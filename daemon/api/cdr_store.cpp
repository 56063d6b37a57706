#include "daemon/api/cdr_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "daemon/auth/base64url.h"

namespace cdrd {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200;
// 9999-12-31T23:59:59Z: keeps a cursor's timestamp inside what to_timestamp()
// accepts, so a bad key is a 400 and not a database error.
constexpr int64_t kMaxGregorian = 253402300799 + kGregorianUnixOffset;
constexpr size_t kMaxKeyLength = 2048;

// The four keyset variants are separate statements so each gets a plan that
// uses the (account_id, ts, id) index in the right direction. `filter_sql`:
// " AND ..." conditions on alias c (cdr_filter.h), placeholders from $5 or $7.
std::string list_sql(bool ascending, bool after, const std::string& filter_sql) {
  std::string sql =
      "SELECT c.record::text, c.gregorian_ts, c.id FROM cdrs c WHERE c.account_id = $1 "
      "AND c.ts >= to_timestamp($2) AND c.ts <= to_timestamp($3)";
  if (after)
    sql += ascending ? " AND (c.ts, c.id) > (to_timestamp($5), $6)" : " AND (c.ts, c.id) < (to_timestamp($5), $6)";
  sql += filter_sql;
  sql += ascending ? " ORDER BY c.ts ASC, c.id ASC LIMIT $4" : " ORDER BY c.ts DESC, c.id DESC LIMIT $4";
  return sql;
}
const char* const kListName[2][2] = {{"list_desc", "list_desc_after"}, {"list_asc", "list_asc_after"}};

// A record's id starts with the UTC month of its start; its end (the
// partition key) cannot be earlier, so older partitions are pruned.
const char* const kGetSql = "SELECT record::text FROM cdrs WHERE id = $1 AND account_id = $2 AND ts >= $3::timestamptz";

// Through the (interaction_id) index; the partitions cannot be pruned: the
// legs of a call may end in different months.
const char* const kLegsSql =
    "SELECT record::text FROM cdrs WHERE interaction_id = $1 AND account_id = $2 ORDER BY started_at, id, ts";

// Loopback halves are the internal legs of a call through loopback/: billing
// counts the call by its outside legs only.
std::string not_loopback(const std::string& row) { return "NOT " + row + ".is_loopback"; }

// The leg that stands for its interaction has the smallest key: an A-leg
// first, then the earliest start; id and ts make the order total.
std::string representative_key(const std::string& row) {
  return "(" + row + ".leg IS DISTINCT FROM 'A', COALESCE(" + row + ".started_at, 'infinity'), " + row + ".id, " + row +
         ".ts)";
}

// Walks the (account_id, ts, id) index in keyset order like the list and
// keeps a row only if no other leg of its interaction comes before it, so a
// page stops after page_size + 1 representatives instead of grouping the
// whole window. A row without an interaction_id is an interaction alone.
std::string interactions_sql(bool ascending, bool after, const std::string& filter_sql) {
  std::string sql =
      "SELECT (c.record || jsonb_build_object('legs', CASE WHEN c.interaction_id IS NULL THEN ARRAY[c.id] ELSE "
      "ARRAY(SELECT l.id FROM cdrs l WHERE l.interaction_id = c.interaction_id AND l.account_id = c.account_id AND " +
      not_loopback("l") +
      " ORDER BY l.started_at, l.id, l.ts) END))::text, c.gregorian_ts, c.id FROM cdrs c "
      "WHERE c.account_id = $1 AND c.ts >= to_timestamp($2) AND c.ts <= to_timestamp($3) AND " +
      not_loopback("c");
  if (after)
    sql += ascending ? " AND (c.ts, c.id) > (to_timestamp($5), $6)" : " AND (c.ts, c.id) < (to_timestamp($5), $6)";
  sql += filter_sql;
  sql +=
      " AND NOT EXISTS (SELECT 1 FROM cdrs o WHERE o.interaction_id = c.interaction_id AND o.account_id = "
      "c.account_id AND " +
      not_loopback("o") + " AND " + representative_key("o") + " < " + representative_key("c") + ")";
  sql += ascending ? " ORDER BY c.ts ASC, c.id ASC LIMIT $4" : " ORDER BY c.ts DESC, c.id DESC LIMIT $4";
  return sql;
}
const char* const kInteractionsName[2][2] = {{"interactions_desc", "interactions_desc_after"},
                                             {"interactions_asc", "interactions_asc_after"}};

// "YYYYMM-..." -> "YYYY-MM-01 00:00:00+00". Any other id (the API passes
// whatever the URL holds) -> -infinity, no pruning, never an invalid date.
std::string month_floor_of_id(const std::string& id) {
  const auto digits = [&id](size_t from, size_t n) {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (id[i] < '0' || id[i] > '9') return -1;
      v = v * 10 + (id[i] - '0');
    }
    return v;
  };
  if (id.size() >= 7 && id[6] == '-') {
    const int year = digits(0, 4);
    const int month = digits(4, 2);
    if (year >= 1 && month >= 1 && month <= 12) return id.substr(0, 4) + "-" + id.substr(4, 2) + "-01 00:00:00+00";
  }
  return "-infinity";
}

// The API passes URL segments through as they are; PostgreSQL refuses a
// parameter that is not UTF-8 (22021). No stored row has such an id or
// account, so that is "no rows", not a server error.
bool is_not_utf8(const pqxx::sql_error& e) { return e.sqlstate() == "22021"; }

}  // namespace

CdrStore::CdrStore(std::string dsn, int statement_timeout_ms)
    : dsn_(std::move(dsn)), statement_timeout_ms_(statement_timeout_ms) {}

CdrStore::~CdrStore() = default;

pqxx::connection& CdrStore::conn() {
  if (!conn_) {
    auto c = std::make_unique<pqxx::connection>(dsn_);
    {
      pqxx::nontransaction tx(*c);
      tx.exec("SET application_name = 'cdrd-reader'");
      tx.exec("SET statement_timeout = " + std::to_string(statement_timeout_ms_));
    }
    for (int dir = 0; dir < 2; ++dir) {
      for (int after = 0; after < 2; ++after) {
        c->prepare(kListName[dir][after], list_sql(dir == 1, after == 1, ""));
        c->prepare(kInteractionsName[dir][after], interactions_sql(dir == 1, after == 1, ""));
      }
    }
    c->prepare("get", kGetSql);
    c->prepare("legs", kLegsSql);
    conn_ = std::move(c);
  }
  return *conn_;
}

// One keyset page of `statements` (the list or the interactions variants),
// or with filters of the same query built by `sql_of`: each row is (record
// text, gregorian_ts, id).
CdrPage CdrStore::page(const char* const (&statements)[2][2], SqlBuilder sql_of, const CdrListQuery& q) {
  return with_connection([&] {
    pqxx::read_transaction tx(conn());
    const int dir = q.ascending ? 1 : 0;
    const int64_t from = q.from_gregorian - kGregorianUnixOffset;
    const int64_t to = q.to_gregorian - kGregorianUnixOffset;
    const auto limit = static_cast<int64_t>(q.page_size + 1);
    CdrPage page;
    pqxx::result rows;
    try {
      if (!q.filters.empty()) {
        std::vector<std::string> params = {q.account_id, std::to_string(from), std::to_string(to),
                                           std::to_string(limit)};
        if (q.after) {
          params.push_back(std::to_string(q.after->gregorian_ts - kGregorianUnixOffset));
          params.push_back(q.after->id);
        }
        std::string filter_sql;
        append_filter_sql(q.filters, "c", &filter_sql, &params);
        rows = tx.exec_params(sql_of(q.ascending, q.after.has_value(), filter_sql),
                              pqxx::prepare::make_dynamic_params(params));
      } else if (q.after) {
        rows = tx.exec_prepared(statements[dir][1], q.account_id, from, to, limit,
                                q.after->gregorian_ts - kGregorianUnixOffset, q.after->id);
      } else {
        rows = tx.exec_prepared(statements[dir][0], q.account_id, from, to, limit);
      }
    } catch (const pqxx::sql_error& e) {
      if (is_not_utf8(e)) return page;
      throw;
    }
    const size_t n = std::min(rows.size(), q.page_size);
    page.records.reserve(n);
    for (size_t i = 0; i < n; ++i) page.records.push_back(rows[static_cast<int>(i)][0].as<std::string>());
    if (rows.size() > q.page_size && n > 0) {
      const auto& last = rows[static_cast<int>(n - 1)];
      page.next = CdrCursor{last[1].as<int64_t>(), last[2].as<std::string>()};
    }
    return page;
  });
}

CdrPage CdrStore::list(const CdrListQuery& q) { return page(kListName, list_sql, q); }

CdrPage CdrStore::interactions(const CdrListQuery& q) { return page(kInteractionsName, interactions_sql, q); }

std::vector<std::string> CdrStore::legs(const std::string& account_id, const std::string& interaction_id) {
  return with_connection([&] {
    pqxx::read_transaction tx(conn());
    std::vector<std::string> records;
    pqxx::result rows;
    try {
      rows = tx.exec_prepared("legs", interaction_id, account_id);
    } catch (const pqxx::sql_error& e) {
      if (is_not_utf8(e)) return records;
      throw;
    }
    records.reserve(rows.size());
    for (const auto& row : rows) records.push_back(row[0].as<std::string>());
    return records;
  });
}

std::optional<std::string> CdrStore::get(const std::string& account_id, const std::string& id) {
  return with_connection([&]() -> std::optional<std::string> {
    pqxx::read_transaction tx(conn());
    pqxx::result rows;
    try {
      rows = tx.exec_prepared("get", id, account_id, month_floor_of_id(id));
    } catch (const pqxx::sql_error& e) {
      if (is_not_utf8(e)) return std::nullopt;
      throw;
    }
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

// The key is base64url of the JSON array [gregorian_ts, "id"]: parsing it
// back checks the structure, the types and the id's UTF-8 (PostgreSQL
// refuses invalid UTF-8), so a damaged or made-up key is refused here.
std::string encode_cursor(const CdrCursor& cursor) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  w.Int64(cursor.gregorian_ts);
  w.String(cursor.id);
  w.EndArray();
  return base64url_encode(std::string(sb.GetString(), sb.GetSize()));
}

bool decode_cursor(const std::string& key, CdrCursor* out) {
  std::string plain;
  if (key.empty() || key.size() > kMaxKeyLength || !base64url_decode(key, &plain)) return false;
  // RapidJSON reads a NUL byte as the end of the text, so "<key JSON>\0..."
  // would pass; JSON text never holds one.
  if (plain.find('\0') != std::string::npos) return false;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(plain.data(), plain.size());
  if (doc.HasParseError() || !doc.IsArray() || doc.Size() != 2 || !doc[0].IsInt64() || !doc[1].IsString()) {
    return false;
  }
  const int64_t ts = doc[0].GetInt64();
  const std::string id(doc[1].GetString(), doc[1].GetStringLength());
  if (ts < 0 || ts > kMaxGregorian || id.empty() || id.find('\0') != std::string::npos) return false;
  out->gregorian_ts = ts;
  out->id = id;
  return true;
}

}  // namespace cdrd
