// The rate deck CSV: what is accepted, that a bad file is refused naming its
// line and column, and that the export imports again to the same rates.
#include "daemon/rating/deck_csv.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cdrd {
namespace {

const char kHeader[] = "prefix,name,initial_interval,initial_rate,next_interval,next_rate\n";

std::string parse_error(const std::string& text) {
  std::vector<RateEntry> entries;
  std::string error;
  EXPECT_FALSE(parse_deck_csv(text, "deck.csv", &entries, &error)) << text;
  return error;
}

TEST(DeckCsv, ParsesRequiredAndOptionalColumns) {
  const std::string text =
      "\xEF\xBB\xBF"
      "name,prefix,initial_interval,initial_rate,next_interval,next_rate,connect_fee,attempt_fee,grace_seconds,"
      "min_length,max_length,valid_from,valid_till\r\n"
      "\"France, mobile\",336,60,0.012,6,0.010,0.005,0.001,3,11,11,2024-01-01,2025-01-01T00:00:00Z\r\n"
      "\r\n"
      "\"Say \"\"hi\"\"\",44,1,0.5,1,0.5,,,,,,,\r\n";
  std::vector<RateEntry> entries;
  std::string error;
  ASSERT_TRUE(parse_deck_csv(text, "deck.csv", &entries, &error)) << error;
  ASSERT_EQ(entries.size(), 2u);
  const RateEntry& fr = entries[0];
  EXPECT_EQ(fr.prefix, "336");
  EXPECT_EQ(fr.name, "France, mobile");
  EXPECT_EQ(fr.initial_interval, 60);
  EXPECT_EQ(fr.initial_rate.to_string(), "0.012");
  EXPECT_EQ(fr.next_interval, 6);
  EXPECT_EQ(fr.next_rate.to_string(), "0.01");
  EXPECT_EQ(fr.connect_fee.to_string(), "0.005");
  EXPECT_EQ(fr.attempt_fee.to_string(), "0.001");
  EXPECT_EQ(fr.grace_seconds, 3);
  EXPECT_EQ(fr.min_length, 11);
  EXPECT_EQ(fr.max_length, 11);
  EXPECT_EQ(fr.valid_from_us, 1704067200LL * 1000000);  // 2024-01-01T00:00:00Z
  EXPECT_EQ(fr.valid_till_us, 1735689600LL * 1000000);  // 2025-01-01T00:00:00Z
  const RateEntry& uk = entries[1];
  EXPECT_EQ(uk.name, "Say \"hi\"");
  EXPECT_EQ(uk.connect_fee.to_string(), "0");
  EXPECT_EQ(uk.valid_from_us, kNoStartUs);
  EXPECT_EQ(uk.valid_till_us, kNoEndUs);
  EXPECT_EQ(uk.max_length, 0);
}

TEST(DeckCsv, TieredRows) {
  const std::string text =
      std::string("prefix,name,initial_interval,initial_rate,next_interval,next_rate,tiers,connect_fee\n") +
      "44,UK,,,,,0:0.1:60;60:0.05:1,0.2\n";
  std::vector<RateEntry> entries;
  std::string error;
  ASSERT_TRUE(parse_deck_csv(text, "deck.csv", &entries, &error)) << error;
  ASSERT_EQ(entries.size(), 1u);
  ASSERT_EQ(entries[0].tiers.size(), 2u);
  EXPECT_EQ(entries[0].tiers[1].start_seconds, 60);
  EXPECT_EQ(entries[0].tiers[1].rate.to_string(), "0.05");
  EXPECT_EQ(entries[0].tiers[1].increment, 1);
  EXPECT_EQ(parse_error("prefix,name,initial_interval,initial_rate,next_interval,next_rate,tiers\n"
                        "44,UK,60,,,,0:0.1:60\n"),
            "deck.csv line 2, column initial_interval: must be empty when tiers is set (the tiers are the rate)");
  EXPECT_EQ(parse_error("prefix,name,initial_interval,initial_rate,next_interval,next_rate,tiers\n"
                        "44,UK,,,,,0:0.1:60;30:x:1\n"),
            "deck.csv line 2, column tiers: '0:0.1:60;30:x:1': tier 2: rate 'x' is not a decimal number of 0 or more");
}

TEST(DeckCsv, MissingColumnIsNamed) {
  EXPECT_EQ(parse_error("prefix,name,initial_interval,initial_rate,next_interval\n33,France,60,0.012,6\n"),
            "deck.csv line 1, column next_rate: missing from the header (required: prefix, name, initial_interval, "
            "initial_rate, next_interval, next_rate)");
  EXPECT_EQ(parse_error(std::string(kHeader).replace(0, 6, "prefx") + "33,France,60,0.012,6,0.01\n").substr(0, 48),
            "deck.csv line 1, column prefx: not a rate deck c");
  EXPECT_EQ(parse_error("prefix,name,initial_interval,initial_rate,next_interval,next_rate,name\n"),
            "deck.csv line 1, column name: named twice");
}

TEST(DeckCsv, BadNumberNamesLineAndColumn) {
  const std::string text = std::string(kHeader) + "33,France,60,0.012,6,0.010\n" + "34,Spain,60,\"0,5\",6,0.01\n";
  EXPECT_EQ(parse_error(text), "deck.csv line 3, column initial_rate: '0,5' is not a decimal number");
  EXPECT_EQ(parse_error(std::string(kHeader) + "33,France,60,-1.5,6,0.01\n"),
            "deck.csv line 2, column initial_rate: '-1.5' is negative; rates and fees are 0 or more");
  EXPECT_EQ(parse_error(std::string(kHeader) + "33,France,60,0.0000000000001,6,0.01\n"),
            "deck.csv line 2, column initial_rate: '0.0000000000001' has more than 12 decimal places");
  EXPECT_EQ(parse_error(std::string(kHeader) + "33,France,6o,0.012,6,0.01\n"),
            "deck.csv line 2, column initial_interval: '6o' is not a whole number");
  EXPECT_EQ(parse_error(std::string(kHeader) + "33,France,60,0.012,0,0.01\n"),
            "deck.csv line 2, column next_interval: '0' is out of range (1 to 86400)");
  EXPECT_EQ(parse_error(std::string(kHeader) + "33,France,60,,6,0.01\n"),
            "deck.csv line 2, column initial_rate: a value is required");
  EXPECT_EQ(parse_error(std::string(kHeader) + "+33,France,60,0.012,6,0.01\n"),
            "deck.csv line 2, column prefix: '+33' is not a prefix of digits (E.164 without '+')");
  EXPECT_EQ(parse_error(std::string(kHeader) + "1234567890123456,Long,60,0.012,6,0.01\n"),
            "deck.csv line 2, column prefix: '1234567890123456' has more than 15 digits");
  EXPECT_EQ(parse_error(std::string(kHeader) + "33,France,60,0.012,6\n"),
            "deck.csv line 2: 5 fields, the header has 6");
  EXPECT_EQ(parse_error("prefix,name,initial_interval,initial_rate,next_interval,next_rate,valid_from\n"
                        "33,France,60,0.012,6,0.01,2024-02-30\n"),
            "deck.csv line 2, column valid_from: '2024-02-30' is not an ISO-8601 date or time (e.g. 2024-01-31 or "
            "2024-01-31T00:00:00Z)");
  EXPECT_EQ(parse_error("prefix,name,initial_interval,initial_rate,next_interval,next_rate,min_length,max_length\n"
                        "33,France,60,0.012,6,0.01,11,9\n"),
            "deck.csv line 2, column max_length: '9' is less than min_length 11");
}

TEST(DeckCsv, LineNumbersCountQuotedLineBreaksAndBlankLines) {
  const std::string text = std::string(kHeader) + "33,\"France\nmetro\",60,0.012,6,0.01\n\n\n34,Spain,60,x,6,0.01\n";
  EXPECT_EQ(parse_error(text), "deck.csv line 6, column initial_rate: 'x' is not a decimal number");
  EXPECT_EQ(parse_error(std::string(kHeader) + "33,\"France,60,0.012,6,0.01\n"),
            "deck.csv line 2: a quoted field is not closed");
}

TEST(DeckCsv, DuplicatePrefixWithOverlappingValidityIsRefused) {
  const std::string header =
      "prefix,name,initial_interval,initial_rate,next_interval,next_rate,valid_from,valid_till\n";
  EXPECT_EQ(
      parse_error(header + "33,France,60,0.012,6,0.01,,\n34,Spain,1,0.1,1,0.1,,\n33,France,60,0.02,6,0.01,,\n"),
      "deck.csv line 4, column prefix: 33 is also on line 2 with an overlapping validity (valid_from/valid_till)");
  EXPECT_EQ(
      parse_error(header + "33,a,60,0.012,6,0.01,2024-01-01,2024-07-01\n33,b,60,0.02,6,0.01,2024-06-30,\n"),
      "deck.csv line 3, column prefix: 33 is also on line 2 with an overlapping validity (valid_from/valid_till)");
  // Back to back (valid_till is exclusive) is fine.
  std::vector<RateEntry> entries;
  std::string error;
  EXPECT_TRUE(parse_deck_csv(header + "33,a,60,0.012,6,0.01,,2024-07-01\n33,b,60,0.02,6,0.01,2024-07-01,\n", "deck.csv",
                             &entries, &error))
      << error;
  EXPECT_EQ(parse_error(header + "33,a,60,0.012,6,0.01,2024-07-01,2024-07-01\n"),
            "deck.csv line 2, column valid_till: '2024-07-01' is not after valid_from '2024-07-01'");
}

TEST(DeckCsv, NamesAreUtf8) {
  std::vector<RateEntry> entries;
  std::string error;
  ASSERT_TRUE(parse_deck_csv(std::string(kHeader) + "262,R\xC3\xA9union,60,0.1,60,0.1\n", "deck.csv", &entries, &error))
      << error;
  EXPECT_EQ(entries[0].name, "R\xC3\xA9union");
  // The same name in Latin-1.
  EXPECT_EQ(parse_error(std::string(kHeader) + "262,R\xE9union,60,0.1,60,0.1\n"),
            "deck.csv line 2, column name: is not UTF-8 text (save the file as UTF-8)");
  // An overlong '/', a UTF-16 surrogate, a sequence cut short at the end of the name.
  for (const char* bad : {"x\xC0\xAF", "x\xED\xA0\x80", "x\xC3"}) {
    EXPECT_EQ(parse_error(std::string(kHeader) + "262," + bad + ",60,0.1,60,0.1\n"),
              "deck.csv line 2, column name: is not UTF-8 text (save the file as UTF-8)")
        << bad;
  }
}

TEST(DeckCsv, EmptyFiles) {
  EXPECT_EQ(parse_error(""), "deck.csv: empty file; the first line names the columns");
  EXPECT_EQ(parse_error(kHeader), "deck.csv: no rates after the header line");
}

TEST(DeckCsv, ExportImportsAgainToTheSameRates) {
  const std::string text =
      "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee,attempt_fee,grace_seconds,"
      "min_length,max_length,valid_from,valid_till,tiers\n"
      "33,\"France, all\",60,0.0120,6,0.010,0.005,0.001,3,11,12,2024-01-01,2025-01-01T12:30:00.5Z,\n"
      "44,UK,,,,,0.2,,,,,,,0:0.1:60;60:0.05:1\n"
      "1,\" padded \",0,0,1,0.6,,,,,,,,\n";
  std::vector<RateEntry> first;
  std::string error;
  ASSERT_TRUE(parse_deck_csv(text, "deck.csv", &first, &error)) << error;
  const std::string exported = deck_csv(first);
  EXPECT_EQ(exported,
            "prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee,attempt_fee,grace_seconds,"
            "min_length,max_length,valid_from,valid_till,tiers\n"
            "33,\"France, all\",60,0.012,6,0.01,0.005,0.001,3,11,12,2024-01-01T00:00:00Z,2025-01-01T12:30:00.500000Z,\n"
            "44,UK,,,,,0.2,0,0,,,,,0:0.1:60;60:0.05:1\n"
            "1,\" padded \",0,0,1,0.6,0,0,0,,,,,\n");
  std::vector<RateEntry> second;
  ASSERT_TRUE(parse_deck_csv(exported, "export.csv", &second, &error)) << error;
  EXPECT_EQ(deck_csv(second), exported);
}

// The README's example deck (section "Rate decks") is a deck that imports:
// the first ```csv block, read from the README itself.
TEST(DeckCsv, TheReadmeExampleParses) {
  std::ifstream in(std::string(CDRD_SOURCE_DIR) + "/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  const std::string text = readme.str();
  const size_t start = text.find("```csv\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = text.find("```", start + 7);
  ASSERT_NE(end, std::string::npos);
  std::vector<RateEntry> entries;
  std::string error;
  ASSERT_TRUE(parse_deck_csv(text.substr(start + 7, end - start - 7), "README.md", &entries, &error)) << error;
  ASSERT_EQ(entries.size(), 5U);
  EXPECT_EQ(entries[1].prefix, "336");
  EXPECT_EQ(entries[1].attempt_fee.to_string(), "0.001");
  EXPECT_EQ(entries[2].prefix, "1800");
  EXPECT_TRUE(entries[2].tiered());
  EXPECT_EQ(entries[3].prefix, "44");
  EXPECT_EQ(entries[4].prefix, "44");
}

}  // namespace
}  // namespace cdrd
