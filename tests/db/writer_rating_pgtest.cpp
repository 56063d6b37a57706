// Rating in the BatchWriter against a real PostgreSQL: decks and
// assignments stored with rate_store.h, legs through a real spool and the
// writer thread, prices checked against values worked out by hand.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "daemon/core/metrics.h"
#include "daemon/db/batch_writer.h"
#include "daemon/db/rate_store.h"
#include "daemon/rating/deck_csv.h"
#include "tests/db/writer_test_util.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd {
namespace {

using test::append_durably;
using test::drained;
using test::eventually;
using test::fast_options;
using test::open_spool;
using test::payload;

constexpr int64_t kGregorian = 62167219200;
// 2024-05-16T16:55:50Z and 16:57:28Z in Unix seconds.
constexpr int64_t k165550 = 1715878550;
constexpr int64_t k165728 = 1715878648;

RateDeck deck(const std::string& name, const std::string& currency, DurationRounding duration, const std::string& csv) {
  RateDeck d;
  d.settings.name = name;
  d.settings.currency = currency;
  d.settings.duration_rounding = duration;
  d.settings.price_rounding = PriceRounding::kNone;
  std::string error;
  EXPECT_TRUE(parse_deck_csv(csv, name + ".csv", &d.entries, &error)) << error;
  return d;
}

void assign(pqxx::connection& conn, RateSide side, const std::string& subject, const std::string& deck_name) {
  RateAssignment a;
  a.side = side;
  a.subject = subject;
  a.deck = deck_name;
  assign_deck(conn, a);
}

// A canonical record as the normalizers write it, with what rating reads.
std::string leg_json(const std::string& call_id, const std::string& account, const std::string& extra) {
  return R"({"id":"202405-)" + call_id + R"(","call_id":")" + call_id + R"(","account_id":")" + account +
         R"(","timestamp":)" + std::to_string(k165728 + kGregorian) +
         R"(,"source":"json_cdr","channel_created_time":)" + std::to_string(k165550 * 1000000) +
         R"(,"ended_at":"2024-05-16T16:57:28.918000Z","callee_id_number":"33170363950","callee_e164":"+33170363950",)"
         R"("destination":{"name":"France","country":"FR","type":"fixed_line"})" +
         extra + "}";
}

class WriterRatingPg : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = test::create_migrated_database("writer_rating");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    // The customer deck of the issue's first test vector; the carrier's by the second.
    replace_deck(*conn_,
                 deck("retail", "USD", DurationRounding::kNearest,
                      "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee\n"
                      "33,France,60,0.012,6,0.010,0.005\n"
                      "1,USA,60,0.5,60,0.5,0\n"),
                 "test");
    replace_deck(*conn_,
                 deck("carrier", "EUR", DurationRounding::kUp,
                      "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n"
                      "33,France,1,0.009,1,0.009\n"
                      "331,France Paris,1,0.006,1,0.006\n"),
                 "test");
    assign(*conn_, RateSide::kCustomer, "acct-1", "retail");
    assign(*conn_, RateSide::kVendor, "carrier1", "carrier");
    spool_ = open_spool(dir_.path() + "/spool");
    writer_ = std::make_unique<BatchWriter>(fast_options(dsn_), spool_.get(), &metrics_);
    writer_->start();
  }
  void TearDown() override { writer_->stop(); }

  void write(const std::vector<std::string>& records) {
    std::vector<std::string> payloads;
    payloads.reserve(records.size());
    for (const auto& r : records) payloads.push_back(payload(r));
    append_durably(spool_.get(), payloads);
    ASSERT_TRUE(eventually([&] { return drained(*spool_); }));
  }
  std::string value(const std::string& sql) {
    pqxx::nontransaction tx(*conn_);
    const pqxx::row row = tx.exec1(sql);
    return row[0].is_null() ? "NULL" : row[0].as<std::string>();
  }

  test::TempDir dir_;
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
  Metrics metrics_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<BatchWriter> writer_;
};

// The A-leg from a user, answered 16:55:53.518, ended 16:57:28.918: 95.4 s,
// 95 by the deck's nearest rounding: 0.005 + 60*0.012/60 + ceil(35/6)*6*0.010/60
// = 0.005 + 0.012 + 0.006 = 0.023, billed 60 + 36 = 96.
// The B-leg to carrier1, answered 16:55:53.600: 95.318 s, up -> 96 s on
// 331 (France Paris): 96*0.006/60 = 0.0096 EUR, billed 96.
TEST_F(WriterRatingPg, CustomerChargeOnTheALegAndVendorChargeOnTheTrunkLeg) {
  write({leg_json("a-1", "acct-1",
                  R"(,"call_direction":"inbound","leg":"A","answered_at":"2024-05-16T16:55:53.518000Z")"),
         leg_json("b-1", "acct-1",
                  R"(,"call_direction":"outbound","leg":"B","trunk":"carrier1","interaction_id":"a-1",)"
                  R"("related_call_ids":["a-1"],"answered_at":"2024-05-16T16:55:53.600000Z")")});
  EXPECT_EQ(value("SELECT customer_charge::text FROM cdrs WHERE call_id = 'a-1'"), "0.023");
  EXPECT_EQ(value("SELECT customer_currency FROM cdrs WHERE call_id = 'a-1'"), "USD");
  EXPECT_EQ(value("SELECT record->'rating'->'customer'->>'charge' FROM cdrs WHERE call_id = 'a-1'"), "0.023");
  EXPECT_EQ(value("SELECT record->'rating'->'customer'->>'billed_seconds' FROM cdrs WHERE call_id = 'a-1'"), "96");
  EXPECT_EQ(value("SELECT record->'rating'->'customer'->>'prefix' FROM cdrs WHERE call_id = 'a-1'"), "33");
  EXPECT_EQ(value("SELECT record->'rating'->'customer'->>'deck' FROM cdrs WHERE call_id = 'a-1'"), "retail");
  EXPECT_EQ(value("SELECT record->'rating' ? 'vendor' FROM cdrs WHERE call_id = 'a-1'"), "f");
  EXPECT_EQ(value("SELECT vendor_charge::text FROM cdrs WHERE call_id = 'b-1'"), "0.0096");
  EXPECT_EQ(value("SELECT vendor_currency FROM cdrs WHERE call_id = 'b-1'"), "EUR");
  EXPECT_EQ(value("SELECT record->'rating'->'vendor'->>'name' FROM cdrs WHERE call_id = 'b-1'"), "France Paris");
  EXPECT_EQ(value("SELECT record->'rating'->'vendor'->>'billed_seconds' FROM cdrs WHERE call_id = 'b-1'"), "96");
  EXPECT_EQ(value("SELECT customer_charge IS NULL FROM cdrs WHERE call_id = 'b-1'"), "t");
  // destination.name: the matched rate's name.
  EXPECT_EQ(value("SELECT record->'destination'->>'name' FROM cdrs WHERE call_id = 'b-1'"), "France Paris");
  EXPECT_EQ(value("SELECT record->'destination'->>'country' FROM cdrs WHERE call_id = 'b-1'"), "FR");
  // One call, going out to a trunk.
  EXPECT_EQ(value("SELECT string_agg(DISTINCT direction_class || '/' || interaction_id, ',') FROM cdrs"),
            "outbound/a-1");
  EXPECT_EQ(metrics_.customer_rated.load(), 1U);
  EXPECT_EQ(metrics_.vendor_rated.load(), 1U);
}

TEST_F(WriterRatingPg, TheBLegFirstIsReRatedWhenTheALegArrives) {
  // Alone, the B-leg stands for its call and pays the customer side too.
  write({leg_json("b-2", "acct-1",
                  R"(,"call_direction":"outbound","leg":"B","trunk":"carrier1","interaction_id":"a-2",)"
                  R"("related_call_ids":["a-2"],"answered_at":"2024-05-16T16:55:53.600000Z")")});
  EXPECT_EQ(value("SELECT record->'rating' ? 'customer' FROM cdrs WHERE call_id = 'b-2'"), "t");
  write({leg_json("a-2", "acct-1",
                  R"(,"call_direction":"inbound","leg":"A","answered_at":"2024-05-16T16:55:53.518000Z")")});
  EXPECT_EQ(value("SELECT record->'rating' ? 'customer' FROM cdrs WHERE call_id = 'b-2'"), "f");
  EXPECT_EQ(value("SELECT customer_charge IS NULL FROM cdrs WHERE call_id = 'b-2'"), "t");
  EXPECT_EQ(value("SELECT record->'rating'->'vendor'->>'charge' FROM cdrs WHERE call_id = 'b-2'"), "0.0096");
  EXPECT_EQ(value("SELECT customer_charge::text FROM cdrs WHERE call_id = 'a-2'"), "0.023");
}

TEST_F(WriterRatingPg, NoDeckOrNoPrefixIsUnratedWithTheReasonAndCounted) {
  write({leg_json("a-3", "acct-without-deck",
                  R"(,"call_direction":"inbound","leg":"A","answered_at":"2024-05-16T16:55:53.518000Z")")});
  EXPECT_EQ(value("SELECT record->'rating'->'customer'->>'status' FROM cdrs WHERE call_id = 'a-3'"), "unrated");
  EXPECT_NE(
      value("SELECT record->'rating'->'customer'->>'reason' FROM cdrs WHERE call_id = 'a-3'").find("acct-without-deck"),
      std::string::npos);
  EXPECT_EQ(value("SELECT customer_charge IS NULL FROM cdrs WHERE call_id = 'a-3'"), "t");
  EXPECT_EQ(metrics_.customer_unrated.load(), 1U);
}

TEST_F(WriterRatingPg, AChangedDeckIsReloadedForTheNextCdr) {
  write({leg_json("a-4", "acct-1",
                  R"(,"call_direction":"inbound","leg":"A","answered_at":"2024-05-16T16:55:53.518000Z")")});
  EXPECT_EQ(value("SELECT customer_charge::text FROM cdrs WHERE call_id = 'a-4'"), "0.023");
  // Twice the price: 0.005 + 0.024 + 0.012 = 0.041.
  replace_deck(*conn_,
               deck("retail", "USD", DurationRounding::kNearest,
                    "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee\n"
                    "33,France,60,0.024,6,0.020,0.005\n"),
               "test");
  write({leg_json("a-5", "acct-1",
                  R"(,"call_direction":"inbound","leg":"A","answered_at":"2024-05-16T16:55:53.518000Z")")});
  EXPECT_EQ(value("SELECT customer_charge::text FROM cdrs WHERE call_id = 'a-5'"), "0.041");
  EXPECT_EQ(value("SELECT customer_charge::text FROM cdrs WHERE call_id = 'a-4'"), "0.023");
  EXPECT_GE(metrics_.rating_reloads.load(), 1U);
}

// Kazoo's own cost from its channel variables: Rate 0.02 $/min = 200 units,
// increment 6, minimum 30, surcharge 0.01 $ = 100 units, 95 s:
// 100 + 30/60*200 + ceil(65/6)*(6/60*200) = 100 + 100 + 11*20 = 420.
TEST_F(WriterRatingPg, KazooCostFromItsChannelVariables) {
  write({leg_json("k-1", "acct-kazoo",
                  R"(,"call_direction":"inbound","leg":"A","billing_seconds":95,)"
                  R"("answered_at":"2024-05-16T16:55:53.518000Z","custom_channel_vars":{"rate":"0.02",)"
                  R"("rate_increment":"6","rate_minimum":"30","surcharge":"0.01"})")});
  EXPECT_EQ(value("SELECT record->'rating'->>'kazoo_cost' FROM cdrs WHERE call_id = 'k-1'"), "420");
}

}  // namespace
}  // namespace cdrd
