// classify_db_error() on the exception objects libpqxx 6.4 throws. Which
// object libpqxx makes of which SQLSTATE is checked against a real server in
// writer_faults_pgtest (ServerErrorsAreClassifiedBySqlstate).
#include <gtest/gtest.h>
#include <pqxx/except>

#include <new>
#include <stdexcept>
#include <string>

#include "daemon/db/batch_sql.h"

namespace cdrd {
namespace {

std::string cls(const std::exception& e) { return db_error_class_name(classify_db_error(e)); }

TEST(DbErrorClass, RowErrorsAreBadRows) {
  EXPECT_EQ(cls(pqxx::data_exception("invalid input syntax for type integer", "COPY", "22P02")), "bad_row");
  EXPECT_EQ(cls(pqxx::data_exception("value out of range", "COPY", "22003")), "bad_row");
  EXPECT_EQ(cls(pqxx::check_violation("violates check constraint", "INSERT", "23514")), "bad_row");
  EXPECT_EQ(cls(pqxx::not_null_violation("null value in column", "INSERT", "23502")), "bad_row");
  EXPECT_EQ(cls(pqxx::unique_violation("duplicate key", "INSERT", "23505")), "bad_row");
  EXPECT_EQ(cls(pqxx::integrity_constraint_violation("exclusion", "INSERT", "23P01")), "bad_row");
  EXPECT_EQ(cls(pqxx::sql_error("index row size 10016 exceeds btree version 4 maximum 2704", "INSERT", "54000")),
            "bad_row");
  EXPECT_TRUE(is_data_error(pqxx::check_violation("x", "q", "23514")));
}

TEST(DbErrorClass, LostConnectionsAndUnknownCommitsAreRetried) {
  EXPECT_EQ(cls(pqxx::broken_connection("server closed the connection unexpectedly")), "connection");
  EXPECT_EQ(cls(pqxx::too_many_connections("sorry, too many clients already")), "connection");
  EXPECT_EQ(cls(pqxx::sql_error("protocol violation", "", "08P01")), "connection");
  EXPECT_EQ(cls(pqxx::in_doubt_error("Connection lost while committing transaction")), "in_doubt");
  EXPECT_EQ(cls(pqxx::statement_completion_unknown("statement completion unknown")), "in_doubt");
  EXPECT_EQ(cls(pqxx::sql_error("statement completion unknown", "", "40003")), "in_doubt");
  EXPECT_FALSE(is_data_error(pqxx::in_doubt_error("x")));
}

TEST(DbErrorClass, ConflictsResourcesAndInterruptionsAreRetried) {
  EXPECT_EQ(cls(pqxx::serialization_failure("could not serialize access")), "conflict");
  EXPECT_EQ(cls(pqxx::deadlock_detected("deadlock detected")), "conflict");
  EXPECT_EQ(cls(pqxx::transaction_rollback("transaction rollback")), "conflict");
  EXPECT_EQ(cls(pqxx::sql_error("transaction integrity constraint violation", "", "40002")), "conflict");
  EXPECT_EQ(cls(pqxx::disk_full("could not extend file: No space left on device", "INSERT", "53100")), "resources");
  EXPECT_EQ(cls(pqxx::out_of_memory("out of memory", "INSERT", "53200")), "resources");
  EXPECT_EQ(cls(pqxx::insufficient_resources("configuration limit exceeded", "INSERT", "53400")), "resources");
  EXPECT_EQ(cls(pqxx::sql_error("canceling statement due to statement timeout", "INSERT", "57014")), "interrupted");
  EXPECT_EQ(cls(pqxx::sql_error("terminating connection due to administrator command", "", "57P01")), "interrupted");
  EXPECT_EQ(cls(pqxx::sql_error("the database system is starting up", "", "57P03")), "interrupted");
}

// Nothing unclassified may turn into a quarantine.
TEST(DbErrorClass, EverythingElseIsRetriedAsOther) {
  EXPECT_EQ(cls(pqxx::undefined_table("relation \"cdrs\" does not exist", "INSERT", "42P01")), "other");
  EXPECT_EQ(cls(pqxx::insufficient_privilege("permission denied for table cdrs", "INSERT")), "other");
  EXPECT_EQ(cls(pqxx::plpgsql_raise("raised by a trigger", "INSERT", "P0001")), "other");
  EXPECT_EQ(cls(pqxx::feature_not_supported("not supported", "INSERT", "0A000")), "other");
  EXPECT_EQ(cls(pqxx::sql_error("program limit: too many arguments", "INSERT", "54023")), "other");
  EXPECT_EQ(cls(pqxx::sql_error("internal error", "INSERT", "XX000")), "other");
  EXPECT_EQ(cls(pqxx::sql_error("no SQLSTATE")), "other");
  EXPECT_EQ(cls(pqxx::usage_error("libpqxx usage")), "other");
  EXPECT_EQ(cls(pqxx::conversion_error("conversion")), "other");
  EXPECT_EQ(cls(std::runtime_error("migration 004: failed")), "other");
  EXPECT_EQ(cls(std::bad_alloc()), "other");
  EXPECT_FALSE(is_data_error(std::runtime_error("x")));
}

}  // namespace
}  // namespace cdrd
