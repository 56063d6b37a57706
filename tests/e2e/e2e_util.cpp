#include "tests/e2e/e2e_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cdrd::test {

std::string random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(b >> 52), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string unique_cdr(const std::string& uuid, const std::string& account_id) {
  static const std::string base = read_sample("json_cdr_cgrates_2017.json");
  std::string doc = replace_all(base, "3da8bf84-c133-4959-9e24-e72875cb33a1", uuid);
  // The other leg the sample names (bridge_uuid, signal_bond, ...) becomes
  // one of this call's own, the uuid reversed: copies of the sample are
  // separate calls, not legs of one (call assembly links legs by such uuids).
  doc = replace_all(doc, "f52c26f1-b018-4963-bf6d-a3111d1a0320", std::string(uuid.rbegin(), uuid.rend()));
  if (!account_id.empty()) {
    doc = replace_all(doc, "\"variables\": {", "\"variables\": {\"account_id\": \"" + account_id + "\",");
  }
  return doc;
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

bool eventually(const std::function<bool()>& probe, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return probe();
}

std::set<std::string> stored_once(const std::string& dsn, const std::string& account_id) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  std::set<std::string> stored;
  for (const auto& row : tx.exec_params("SELECT call_id FROM cdrs WHERE account_id = $1", account_id)) {
    EXPECT_TRUE(stored.insert(row[0].as<std::string>()).second) << "stored twice: " << row[0].as<std::string>();
  }
  return stored;
}

long long query_count(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  return tx.exec(sql)[0][0].as<long long>();
}

}  // namespace cdrd::test
