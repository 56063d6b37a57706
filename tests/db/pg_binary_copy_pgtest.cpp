// BinaryCopyIn against a real PostgreSQL: what the encoder sends reads back
// as the values written by hand below, and a COPY the server refuses throws
// its SQLSTATE and leaves the transaction usable after its savepoint.
#include "daemon/db/pg_binary_copy.h"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "daemon/db/batch_sql.h"
#include "tests/support/pg_server.h"

namespace cdrd {
namespace {

class BinaryCopyInTest : public testing::Test {
 protected:
  void SetUp() override {
    dsn_ = test::create_migrated_database("binary_copy");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    pqxx::nontransaction tx(*conn_);
    tx.exec("SET TimeZone = 'UTC'");
    tx.exec(
        "CREATE TABLE copied (t text, i integer, b bigint, ts timestamptz, n numeric, j jsonb, f boolean,"
        " k text UNIQUE)");
  }

  const std::vector<std::string> columns_{"t", "i", "b", "ts", "n", "j", "f", "k"};
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

void row(BinaryCopyIn& copy, const std::optional<std::string>& t, int32_t i, int64_t b, int64_t ts_us,
         const char* numeric, const std::string& k) {
  BinaryRowEncoder& e = copy.encoder();
  e.begin_row(8);
  e.text(t);
  e.int32(i);
  e.int64(b);
  e.timestamptz(ts_us);
  ASSERT_TRUE(e.numeric(numeric));
  e.jsonb(R"({"a": 1)", R"(, "b": "x\ty")", "}");
  e.boolean(i % 2 == 0);
  e.text(k);
  copy.end_row();
}

TEST_F(BinaryCopyInTest, ValuesReadBackAsWritten) {
  pqxx::work tx(*conn_);
  {
    BinaryCopyIn copy(tx, "copied", columns_);
    // 1515666361.534355 s = 2018-01-11 10:26:01.534355 UTC.
    row(copy, std::string("tab\there\\N\n\xc3\xa9"), -7, int64_t{1} << 40, 1515666361534355, "-0.0123", "k1");
    row(copy, std::nullopt, 2147483647, -1, 0, "10000", "k2");
    row(copy, std::string(), 0, 0, 946684800000000, "0.00001", "k3");
    copy.complete();
  }
  const pqxx::result r = tx.exec("SELECT t, i, b, ts::text, n::text, j::text, f, k FROM copied ORDER BY k");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0][0].as<std::string>(), "tab\there\\N\n\xc3\xa9");
  EXPECT_EQ(r[0][1].as<int>(), -7);
  EXPECT_EQ(r[0][2].as<int64_t>(), 1099511627776);
  EXPECT_EQ(r[0][3].as<std::string>(), "2018-01-11 10:26:01.534355+00");
  EXPECT_EQ(r[0][4].as<std::string>(), "-0.0123");
  EXPECT_EQ(r[0][5].as<std::string>(), R"({"a": 1, "b": "x\ty"})");
  EXPECT_FALSE(r[0][6].as<bool>());
  EXPECT_TRUE(r[1][0].is_null());
  EXPECT_EQ(r[1][1].as<int>(), 2147483647);
  EXPECT_EQ(r[1][3].as<std::string>(), "1970-01-01 00:00:00+00");
  EXPECT_EQ(r[1][4].as<std::string>(), "10000");
  EXPECT_FALSE(r[1][6].as<bool>());  // 2147483647 is odd
  EXPECT_EQ(r[2][0].as<std::string>(), "");
  EXPECT_EQ(r[2][3].as<std::string>(), "2000-01-01 00:00:00+00");
  EXPECT_EQ(r[2][4].as<std::string>(), "0.00001");
  EXPECT_TRUE(r[2][6].as<bool>());
  tx.commit();
}

TEST_F(BinaryCopyInTest, ARefusedCopyThrowsItsSqlstateAndOnlyItsSavepointIsLost) {
  pqxx::work tx(*conn_);
  {
    BinaryCopyIn copy(tx, "copied", columns_);
    row(copy, std::string("kept"), 1, 1, 0, "1", "dup");
    copy.complete();
  }
  std::string state;
  try {
    pqxx::subtransaction sub(tx, "dup");
    BinaryCopyIn copy(sub, "copied", columns_);
    row(copy, std::string("fine"), 2, 2, 0, "2", "other");
    row(copy, std::string("again"), 3, 3, 0, "3", "dup");
    copy.complete();
    sub.commit();
  } catch (const pqxx::sql_error& e) {
    state = e.sqlstate();
  }
  EXPECT_EQ(state, "23505");  // unique_violation
  EXPECT_EQ(classify_db_error(pqxx::sql_error("", "", "23505")), DbErrorClass::kBadRow);

  try {
    pqxx::subtransaction sub(tx, "utf8");
    BinaryCopyIn copy(sub, "copied", columns_);
    row(copy, std::string("caf\xff"), 4, 4, 0, "4", "utf8");
    copy.complete();
    sub.commit();
  } catch (const pqxx::sql_error& e) {
    state = e.sqlstate();
  }
  EXPECT_EQ(state, "22021");  // character_not_in_repertoire: invalid UTF-8

  {
    // Abandoned half-way (an exception while encoding): cancelled, not sent.
    pqxx::subtransaction sub(tx, "abandoned");
    auto copy = std::make_unique<BinaryCopyIn>(sub, "copied", columns_);
    row(*copy, std::string("never"), 5, 5, 0, "5", "never");
    copy.reset();
  }
  EXPECT_EQ(tx.exec1("SELECT string_agg(t, ',' ORDER BY k) FROM copied")[0].as<std::string>(), "kept");
  tx.commit();
}

}  // namespace
}  // namespace cdrd
