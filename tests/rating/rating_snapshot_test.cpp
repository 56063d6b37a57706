// The snapshot: longest-prefix match within validity and length limits,
// the choice of deck by assignment (side, direction, time) and the stored
// form of what was rated or why not.
#include "daemon/rating/rating_snapshot.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/rating/deck_csv.h"

namespace cdrd {
namespace {

int64_t at(const std::string& iso) { return parse_iso_time_us(iso).value(); }

RateDeck deck(const std::string& name, const std::string& csv, DurationRounding rounding = DurationRounding::kUp) {
  RateDeck d;
  d.settings.name = name;
  d.settings.currency = "USD";
  d.settings.duration_rounding = rounding;
  std::string error;
  EXPECT_TRUE(parse_deck_csv(csv, name, &d.entries, &error)) << error;
  return d;
}

const char kRetail[] =
    "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee,valid_from,valid_till,min_length,"
    "max_length\n"
    "33,France,60,0.012,6,0.010,0.005,,,,\n"
    "331,Paris,60,0.02,6,0.02,,,2024-06-01,,\n"
    "33170,Paris old,60,0.03,6,0.03,,,,,\n"
    "44,UK,1,0.05,1,0.05,,,,12,12\n"
    "4420,London,1,0.04,1,0.04,,,,,\n";

TEST(DeckIndex, LongestPrefixWithinValidityAndLength) {
  const DeckIndex index(deck("retail", kRetail));
  const int64_t may = at("2024-05-01T00:00:00Z");
  const int64_t july = at("2024-07-01T00:00:00Z");
  ASSERT_TRUE(index.find("33170363950", may).has_value());
  EXPECT_EQ(index.find("33170363950", may)->prefix, "33170");
  EXPECT_EQ(index.find("3312345", may)->prefix, "331");
  // 331 ends on 2024-06-01: afterwards the shorter prefix applies.
  EXPECT_EQ(index.find("3312345", july)->prefix, "33");
  EXPECT_EQ(index.find("33", may)->prefix, "33");
  EXPECT_FALSE(index.find("34123", may).has_value());
  // 44 takes only 12-digit numbers.
  EXPECT_EQ(index.find("447911123456", may)->prefix, "44");
  EXPECT_FALSE(index.find("4479111234567", may).has_value());
  EXPECT_EQ(index.find("442071234567", may)->prefix, "4420");
  // Not E.164 digits.
  EXPECT_FALSE(index.find("", may).has_value());
  EXPECT_FALSE(index.find("33a", may).has_value());
  EXPECT_FALSE(index.find("+33170363950", may).has_value());
  EXPECT_FALSE(index.find("3317036395012345678x", may).has_value());
  EXPECT_EQ(index.find("33170363950123456789", may)->prefix, "33170");
}

TEST(DeckIndex, SeveralValidityWindowsOfOnePrefix) {
  const DeckIndex index(deck("d",
                             "prefix,name,initial_interval,initial_rate,next_interval,next_rate,valid_from,valid_till\n"
                             "49,new,1,0.2,1,0.2,2024-03-01,\n"
                             "49,old,1,0.1,1,0.1,,2024-03-01\n"));
  EXPECT_EQ(index.find("4930", at("2024-02-29T23:59:59.999999Z"))->name, "old");
  EXPECT_EQ(index.find("4930", at("2024-03-01T00:00:00Z"))->name, "new");
}

// Entries of one price share one set of terms; each keeps its own prefix
// (leading zeros too), name, validity and length limits.
TEST(DeckIndex, EntriesSharingTermsKeepTheirOwnPrefixNameAndLimits) {
  const DeckIndex index(
      deck("shared",
           "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee,min_length\n"
           "1,North America,60,0.010,6,0.01,0.005,\n"
           "44,UK,60,0.01,6,0.010,0.0050,11\n"
           "0044,Zero UK,60,0.01,6,0.01,0.005,\n"
           "49,Germany,60,0.02,6,0.01,0.005,\n"));
  EXPECT_EQ(index.size(), 4u);
  // 0.010 and 0.01, 0.0050 and 0.005 are the same numbers: two sets of terms.
  EXPECT_EQ(index.distinct_terms(), 2u);
  const int64_t now = at("2024-05-01T00:00:00Z");
  const auto uk = index.find("44123456789", now);
  ASSERT_TRUE(uk.has_value());
  EXPECT_EQ(uk->prefix, "44");
  EXPECT_EQ(uk->name, "UK");
  EXPECT_EQ(uk->texts->initial_rate, "0.01");
  EXPECT_EQ(uk->texts->connect_fee, "0.005");
  EXPECT_EQ(uk->terms->initial_interval, 60);
  EXPECT_EQ(uk->terms->next_interval, 6);
  // 44 takes at least 11 digits.
  EXPECT_FALSE(index.find("4412345", now).has_value());
  const auto zero = index.find("00441234", now);
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->prefix, "0044");
  EXPECT_EQ(zero->name, "Zero UK");
  EXPECT_EQ(index.find("12125550100", now)->name, "North America");
  const auto de = index.find("4930", now);
  ASSERT_TRUE(de.has_value());
  EXPECT_EQ(de->texts->initial_rate, "0.02");
  EXPECT_EQ(de->texts->next_rate, "0.01");
}

TEST(DeckIndex, RefusesABadPrefixAndARateAfterIndexing) {
  DeckIndex index(DeckSettings{});
  RateEntry e;
  e.prefix = "12a";
  EXPECT_THROW(index.add(e), std::invalid_argument);
  e.prefix = "1234567890123456";  // 16 digits
  EXPECT_THROW(index.add(e), std::invalid_argument);
  e.prefix = "12";
  index.add(e);
  index.finish();
  EXPECT_EQ(index.find("123", 0)->prefix, "12");
  EXPECT_THROW(index.add(e), std::invalid_argument);
}

LegToRate leg(const std::string& account, const std::string& direction, const std::string& callee) {
  LegToRate l;
  l.account_id = account;
  l.direction_class = direction;
  l.callee_digits = callee;
  l.start_us = at("2024-05-01T16:55:40Z");
  l.answer_us = at("2024-05-01T16:55:53.518Z");
  l.end_us = at("2024-05-01T16:57:28.918Z");
  return l;
}

RateAssignment assign(RateSide side, const std::string& subject, RateDirection direction, const std::string& deck,
                      int64_t from = kNoStartUs) {
  RateAssignment a;
  a.side = side;
  a.subject = subject;
  a.direction = direction;
  a.deck = deck;
  a.valid_from_us = from;
  return a;
}

const char kFlat[] =
    "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n1,any,60,1,60,1\n3,any,60,1,60,1\n";

TEST(RatingSnapshot, RatesTheIssueVectorAsStored) {
  std::vector<RateDeck> decks;
  decks.push_back(deck("retail", kRetail, DurationRounding::kNearest));
  const RatingSnapshot snap(7, std::move(decks),
                            {assign(RateSide::kCustomer, "acct-1", RateDirection::kAny, "retail")});
  EXPECT_EQ(snap.version(), 7u);
  const RatingOutcome out = snap.customer(leg("acct-1", "outbound", "33612345678"), "2024-05-01T17:00:00Z");
  ASSERT_TRUE(out.rated) << out.reason;
  EXPECT_EQ(out.json(),
            "{\"deck\":\"retail\",\"prefix\":\"33\",\"name\":\"France\",\"initial_interval\":60,"
            "\"initial_rate\":\"0.012\",\"next_interval\":6,\"next_rate\":\"0.01\",\"connect_fee\":\"0.005\","
            "\"billed_seconds\":96,\"charge\":\"0.023\",\"currency\":\"USD\",\"rated_at\":\"2024-05-01T17:00:00Z\"}");
  // Unanswered: no attempt fee in this deck, so 0 and 0 seconds.
  LegToRate missed = leg("acct-1", "outbound", "33612345678");
  missed.answer_us = 0;
  const RatingOutcome zero = snap.customer(missed, "t");
  EXPECT_TRUE(zero.rated);
  EXPECT_EQ(zero.charge, "0");
  EXPECT_EQ(zero.billed_seconds, 0);
}

TEST(RatingSnapshot, UnratedReasons) {
  std::vector<RateDeck> decks;
  decks.push_back(deck("D", kRetail));
  const RatingSnapshot snap(1, std::move(decks),
                            {assign(RateSide::kCustomer, "acct-1", RateDirection::kOutbound, "D")});
  RatingOutcome out = snap.customer(leg("X", "outbound", "33170363950"), "t");
  EXPECT_FALSE(out.rated);
  EXPECT_EQ(out.reason, "no customer deck assigned to account X");
  EXPECT_EQ(out.json(), "{\"status\":\"unrated\",\"reason\":\"no customer deck assigned to account X\"}");
  out = snap.customer(leg("acct-1", "outbound", "5511999"), "t");
  EXPECT_EQ(out.reason, "no prefix of 5511999 in deck D");
  out = snap.customer(leg("acct-1", "outbound", ""), "t");
  EXPECT_EQ(out.reason, "no callee number in E.164");
  out = snap.customer(leg("acct-1", "outbound", "alice"), "t");
  EXPECT_EQ(out.reason, "no callee number in E.164");
  // The account has a deck, but only for outbound calls.
  out = snap.customer(leg("acct-1", "inbound", "33170363950"), "t");
  EXPECT_EQ(out.reason, "no customer deck assigned to account acct-1 for inbound calls at 2024-05-01T16:55:40Z");
  out = snap.customer(leg("", "outbound", "33170363950"), "t");
  EXPECT_EQ(out.reason, "no account_id on the leg");
  out = snap.vendor(leg("acct-1", "outbound", "33170363950"), "t");
  EXPECT_EQ(out.reason, "no trunk on the leg");
  LegToRate trunk_leg = leg("acct-1", "outbound", "33170363950");
  trunk_leg.trunk = "carrier-a";
  EXPECT_EQ(snap.vendor(trunk_leg, "t").reason, "no vendor deck assigned to trunk carrier-a");
}

TEST(RatingSnapshot, DirectionChoosesTheAssignment) {
  std::vector<RateDeck> decks;
  decks.push_back(deck("out", kFlat));
  decks.push_back(deck("in", kFlat));
  decks.push_back(deck("all", kFlat));
  const RatingSnapshot snap(1, std::move(decks),
                            {assign(RateSide::kCustomer, "a", RateDirection::kOutbound, "out"),
                             assign(RateSide::kCustomer, "a", RateDirection::kInbound, "in"),
                             assign(RateSide::kCustomer, "a", RateDirection::kAny, "all"),
                             assign(RateSide::kCustomer, "b", RateDirection::kAny, "all")});
  EXPECT_EQ(snap.customer(leg("a", "outbound", "33"), "t").deck, "out");
  EXPECT_EQ(snap.customer(leg("a", "transit", "33"), "t").deck, "out");
  EXPECT_EQ(snap.customer(leg("a", "inbound", "33"), "t").deck, "in");
  EXPECT_EQ(snap.customer(leg("a", "internal", "33"), "t").deck, "all");
  EXPECT_EQ(snap.customer(leg("a", "", "33"), "t").deck, "all");
  EXPECT_EQ(snap.customer(leg("b", "outbound", "33"), "t").deck, "all");
  EXPECT_EQ(snap.customer(leg("b", "inbound", "33"), "t").deck, "all");
}

TEST(RatingSnapshot, LatestAssignmentThatHasStartedApplies) {
  std::vector<RateDeck> decks;
  decks.push_back(deck("2023", kFlat));
  decks.push_back(deck("2024", kFlat));
  decks.push_back(deck("2025", kFlat));
  const RatingSnapshot snap(
      1, std::move(decks),
      {assign(RateSide::kVendor, "carrier", RateDirection::kAny, "2024", at("2024-01-01T00:00:00Z")),
       assign(RateSide::kVendor, "carrier", RateDirection::kAny, "2023"),
       assign(RateSide::kVendor, "carrier", RateDirection::kAny, "2025", at("2025-01-01T00:00:00Z"))});
  LegToRate l = leg("acct", "outbound", "33");
  l.trunk = "carrier";
  EXPECT_EQ(snap.vendor(l, "t").deck, "2024");
  l.start_us = at("2023-12-31T23:59:59Z");
  EXPECT_EQ(snap.vendor(l, "t").deck, "2023");
  l.start_us = at("2025-01-01T00:00:00Z");
  EXPECT_EQ(snap.vendor(l, "t").deck, "2025");
  // Customers are another side: nothing assigned there.
  EXPECT_FALSE(snap.customer(l, "t").rated);
}

TEST(RatingSnapshot, RefusesAnAssignmentToAMissingDeck) {
  EXPECT_THROW(
      RatingSnapshot(1, std::vector<RateDeck>{}, {assign(RateSide::kCustomer, "a", RateDirection::kAny, "nope")}),
      std::invalid_argument);
  std::vector<RateDeck> decks;
  decks.push_back(deck("x", kFlat));
  decks.push_back(deck("x", kFlat));
  EXPECT_THROW(RatingSnapshot(1, std::move(decks), {}), std::invalid_argument);
}

TEST(RatingSnapshot, NamesOfSidesAndDirections) {
  for (const char* name : {"customer", "vendor"}) EXPECT_EQ(rate_side_name(*parse_rate_side(name)), name);
  for (const char* name : {"any", "outbound", "inbound"}) {
    EXPECT_EQ(rate_direction_name(*parse_rate_direction(name)), name);
  }
  EXPECT_FALSE(parse_rate_direction("transit").has_value());
}

}  // namespace
}  // namespace cdrd
