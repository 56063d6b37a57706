#include "daemon/api/call_row_source.h"

#include <pqxx/pqxx>

#include <utility>

namespace cdrd {
namespace {

// The SQL of a window's conditions on alias c (and r for the root), with
// their values appended to *params as numbered placeholders.
struct Where {
  std::string sql;
  std::vector<std::string> params;

  std::string bind(const std::string& value, const std::string& cast) {
    params.push_back(value);
    std::string p = "$" + std::to_string(params.size());
    return cast.empty() ? p : p + "::" + cast;
  }
};

const char* op_sql(RowCondition::Op op) {
  switch (op) {
    case RowCondition::Op::kGt:
      return " > ";
    case RowCondition::Op::kGte:
      return " >= ";
    case RowCondition::Op::kLt:
      return " < ";
    case RowCondition::Op::kLte:
      return " <= ";
    default:
      return " = ";
  }
}

void add_conditions(const std::vector<RowCondition>& conditions, Where* w) {
  for (const RowCondition& c : conditions) {
    switch (c.op) {
      case RowCondition::Op::kPrefix:
        w->sql += " AND starts_with(" + c.column + ", " + w->bind(c.values.at(0), "") + ")";
        break;
      case RowCondition::Op::kContains:
        w->sql += " AND strpos(" + c.column + ", " + w->bind(c.values.at(0), "") + ") > 0";
        break;
      case RowCondition::Op::kIn: {
        std::string list;
        for (const std::string& v : c.values) list += (list.empty() ? "" : ", ") + w->bind(v, c.cast);
        w->sql += " AND " + c.column + " IN (" + list + ")";
        break;
      }
      default:
        w->sql += " AND " + c.column + op_sql(c.op) + w->bind(c.values.at(0), c.cast);
    }
  }
}

Where window_where(const RowWindow& window) {
  Where w;
  w.sql = " WHERE c.account_id = " + w.bind(window.account_id, "") + " AND c.ts >= to_timestamp(" +
          w.bind(std::to_string(window.from_unix), "bigint") + ") AND c.ts <= to_timestamp(" +
          w.bind(std::to_string(window.to_unix), "bigint") + ")";
  add_conditions(window.conditions, &w);
  return w;
}

// The leg of root c's call that answered first, else its last attempt by
// start (loopback halves are internal: never chosen).
const char* const kAnsweredLeg =
    " LEFT JOIN LATERAL (SELECT l.record FROM cdrs l WHERE l.account_id = c.account_id"
    " AND l.interaction_id = c.interaction_id AND NOT l.call_root AND NOT l.is_loopback"
    " ORDER BY l.answered_at IS NULL, l.answered_at, l.started_at DESC NULLS LAST, l.id LIMIT 1) a"
    " ON c.interaction_id IS NOT NULL";

CallRow call_row_of(const pqxx::row& row) {
  CallRow out;
  out.root = row[0].as<std::string>();
  if (!row[1].is_null()) out.answered = row[1].as<std::string>();
  return out;
}

int64_t bounded_count(pqxx::work& tx, const std::string& from_where, const std::vector<std::string>& params) {
  return tx
      .exec_params1("SELECT count(*) FROM (SELECT 1" + from_where + " LIMIT " + std::to_string(kMaxCountedRows) + ") n",
                    pqxx::prepare::make_dynamic_params(params))[0]
      .as<int64_t>();
}

std::string limit_offset(const RowWindow& window) {
  return " LIMIT " + std::to_string(window.limit) + " OFFSET " + std::to_string(window.offset);
}

std::string class_list(const std::vector<std::string>& classes, Where* w) {
  std::string list;
  for (const std::string& c : classes) list += (list.empty() ? "" : ", ") + w->bind(c, "");
  return list;
}

// The attempt legs: every leg of the call but its root and loopback halves,
// or the root alone when the call has no other leg.
std::string attempt_from(const std::vector<std::string>& classes, Where* w) {
  return " FROM cdrs c LEFT JOIN cdrs r ON r.account_id = c.account_id AND r.interaction_id = c.interaction_id"
         " AND r.call_root" +
         w->sql + " AND NOT c.is_loopback AND c.direction_class IN (" + class_list(classes, w) +
         ") AND (NOT c.call_root OR c.interaction_id IS NULL OR NOT EXISTS (SELECT 1 FROM cdrs o WHERE"
         " o.account_id = c.account_id AND o.interaction_id = c.interaction_id AND NOT o.call_root AND NOT"
         " o.is_loopback))";
}

AttemptRow attempt_row_of(const pqxx::row& row) {
  AttemptRow out;
  out.seq = row[0].as<int64_t>();
  out.attempt = row[1].as<std::string>();
  out.root = row[2].is_null() ? out.attempt : row[2].as<std::string>();
  return out;
}

}  // namespace

CallPage list_calls(pqxx::connection& conn, const RowWindow& window, bool with_total) {
  Where w = window_where(window);
  const std::string from_where = " FROM cdrs c" + w.sql + " AND c.call_root";
  pqxx::work tx(conn);
  CallPage page;
  for (const auto& row :
       tx.exec_params("SELECT c.record::text, a.record::text FROM cdrs c" + std::string(kAnsweredLeg) + w.sql +
                          " AND c.call_root ORDER BY " + window.order_by + limit_offset(window),
                      pqxx::prepare::make_dynamic_params(w.params))) {
    page.rows.push_back(call_row_of(row));
  }
  if (with_total) page.total = bounded_count(tx, from_where, w.params);
  tx.commit();
  return page;
}

std::optional<CallRow> call_by_root_id(pqxx::connection& conn, const std::string& account_id, const std::string& id) {
  pqxx::work tx(conn);
  const pqxx::result r =
      tx.exec_params("SELECT c.record::text, a.record::text FROM cdrs c" + std::string(kAnsweredLeg) +
                         " WHERE c.account_id = $1 AND c.id = $2 AND c.call_root LIMIT 1",
                     account_id, id);
  tx.commit();
  if (r.empty()) return std::nullopt;
  return call_row_of(r[0]);
}

std::optional<CallRow> call_by_leg_uuid(pqxx::connection& conn, const std::string& account_id,
                                        const std::string& call_id) {
  pqxx::work tx(conn);
  const pqxx::result leg = tx.exec_params(
      "SELECT id, interaction_id FROM cdrs WHERE account_id = $1 AND call_id = $2 ORDER BY call_root DESC, ts DESC"
      " LIMIT 1",
      account_id, call_id);
  if (leg.empty()) return std::nullopt;
  const std::string select = "SELECT c.record::text, a.record::text FROM cdrs c" + std::string(kAnsweredLeg);
  pqxx::result r;
  if (!leg[0][1].is_null()) {
    r = tx.exec_params(select + " WHERE c.account_id = $1 AND c.interaction_id = $2 AND c.call_root LIMIT 1",
                       account_id, leg[0][1].as<std::string>());
  }
  // No root stored (yet): the leg stands for its call.
  if (r.empty()) {
    r = tx.exec_params(select + " WHERE c.account_id = $1 AND c.id = $2 LIMIT 1", account_id,
                       leg[0][0].as<std::string>());
  }
  tx.commit();
  if (r.empty()) return std::nullopt;
  return call_row_of(r[0]);
}

AttemptPage list_attempts(pqxx::connection& conn, const RowWindow& window,
                          const std::vector<std::string>& attempt_classes, bool with_total) {
  Where w = window_where(window);
  const std::string from_where = attempt_from(attempt_classes, &w);
  pqxx::work tx(conn);
  AttemptPage page;
  for (const auto& row : tx.exec_params("SELECT c.row_seq, c.record::text, r.record::text" + from_where + " ORDER BY " +
                                            window.order_by + limit_offset(window),
                                        pqxx::prepare::make_dynamic_params(w.params))) {
    page.rows.push_back(attempt_row_of(row));
  }
  if (with_total) page.total = bounded_count(tx, from_where, w.params);
  tx.commit();
  return page;
}

std::optional<AttemptRow> attempt_by_seq(pqxx::connection& conn, const std::string& account_id, int64_t seq,
                                         const std::vector<std::string>& attempt_classes) {
  Where w;
  w.sql =
      " WHERE c.account_id = " + w.bind(account_id, "") + " AND c.row_seq = " + w.bind(std::to_string(seq), "bigint");
  const std::string from_where = attempt_from(attempt_classes, &w);
  pqxx::work tx(conn);
  const pqxx::result r = tx.exec_params("SELECT c.row_seq, c.record::text, r.record::text" + from_where + " LIMIT 1",
                                        pqxx::prepare::make_dynamic_params(w.params));
  tx.commit();
  if (r.empty()) return std::nullopt;
  return attempt_row_of(r[0]);
}

}  // namespace cdrd
