// Phone numbers -> E.164, country and type (adapters/numbers), with values
// worked out by hand from the numbering plans: +33 1 is a Paris fixed line,
// UK 07 numbers are mobiles, +1 800 is toll free, and so on.
#include "adapters/numbers/phone_numbers.h"

#include <gtest/gtest.h>

#include <string>

namespace cdrd {
namespace {

struct Described {
  bool ok = false;
  NumberInfo info;
};

Described describe(const std::string& number, const std::string& region) {
  Described d;
  d.ok = describe_number(number, region, &d.info);
  return d;
}

void expect_number(const std::string& number, const std::string& region, const std::string& e164,
                   const std::string& country, const std::string& name, const std::string& type) {
  SCOPED_TRACE(number + " in " + region);
  EXPECT_EQ(e164_number(number, region), e164);
  const Described d = describe(number, region);
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.info.e164, e164);
  EXPECT_EQ(d.info.country, country);
  EXPECT_EQ(d.info.country_name, name);
  EXPECT_EQ(d.info.type, type);
}

TEST(PhoneNumbers, CountriesAndTypes) {
  // France, Paris fixed line: international form, whatever the default region.
  expect_number("+33170363950", "US", "+33170363950", "FR", "France", "fixed_line");
  expect_number("+33 1 70 36 39 50", "DE", "+33170363950", "FR", "France", "fixed_line");
  // United States, national form in US: NANP numbers are fixed line or mobile.
  expect_number("2025550123", "US", "+12025550123", "US", "United States", "fixed_line_or_mobile");
  expect_number("(202) 555-0123", "US", "+12025550123", "US", "United States", "fixed_line_or_mobile");
  // United Kingdom mobile (07...) in national form.
  expect_number("07400123456", "GB", "+447400123456", "GB", "United Kingdom", "mobile");
  // Germany, Berlin fixed line.
  expect_number("+4930123456", "US", "+4930123456", "DE", "Germany", "fixed_line");
  // Toll free: +1 800 (US) and the international freephone +800, which has no country.
  expect_number("+18002530000", "FR", "+18002530000", "US", "United States", "toll_free");
  expect_number("+80012345678", "US", "+80012345678", "", "", "toll_free");
}

TEST(PhoneNumbers, NationalFormAndInternationalPrefixOfTheRegion) {
  // The same Paris number written as a French caller dials it, and with the international prefixes.
  EXPECT_EQ(e164_number("0170363950", "FR"), "+33170363950");
  EXPECT_EQ(e164_number("0033170363950", "FR"), "+33170363950");
  EXPECT_EQ(e164_number("01133170363950", "US"), "+33170363950");
  // Read in US, 0170363950 has the length of a US number, so it is a possible one (libphonenumber's
  // "possible" is the length), though no NANP area code starts with 0: no country, type unknown.
  const Described us = describe("0170363950", "US");
  ASSERT_TRUE(us.ok);
  EXPECT_EQ(us.info.e164, "+10170363950");
  EXPECT_EQ(us.info.country, "");
  EXPECT_EQ(us.info.country_name, "");
  EXPECT_EQ(us.info.type, "unknown");
  // Without a '+', a digit string that is no number of the region but a valid
  // international one (carriers drop the '+'): France, Vietnam (mobile).
  EXPECT_EQ(e164_number("33170363950", "US"), "+33170363950");
  const Described vn = describe("84987654321", "US");
  ASSERT_TRUE(vn.ok);
  EXPECT_EQ(vn.info.e164, "+84987654321");
  EXPECT_EQ(vn.info.country, "VN");
  EXPECT_EQ(vn.info.type, "mobile");
  // ... but not when that would be no valid number either (+65 has 8-digit numbers).
  EXPECT_EQ(e164_number("6533123456789", "US"), "");
}

TEST(PhoneNumbers, PerAccountRegion) {
  NumberRules rules;
  EXPECT_EQ(rules.default_region, "US");
  rules.account_regions = {{"acct-paris", "FR"}};
  EXPECT_EQ(rules.region_for("acct-paris"), "FR");
  EXPECT_EQ(rules.region_for("acct-other"), "US");
  EXPECT_EQ(e164_number("0170363950", rules.region_for("acct-paris")), "+33170363950");
  EXPECT_EQ(e164_number("2025550123", rules.region_for("acct-other")), "+12025550123");
}

TEST(PhoneNumbers, GarbageIsNoNumber) {
  for (const char* text : {"", "1001", "dan", "anonymous", "sipp", "+", "12", "+999123", "003468888646444",
                           "0000000000000000000000000000000000000000000000000000000000000000000000001"}) {
    EXPECT_EQ(e164_number(text, "US"), "") << text;
    NumberInfo info;
    info.e164 = "unchanged";
    EXPECT_FALSE(describe_number(text, "US", &info)) << text;
    EXPECT_EQ(info.e164, "unchanged") << text;
  }
  // An unknown region reads only international numbers.
  EXPECT_EQ(e164_number("0170363950", "XX"), "");
  EXPECT_EQ(e164_number("+33170363950", "XX"), "+33170363950");
}

TEST(PhoneNumbers, Regions) {
  EXPECT_TRUE(is_supported_region("US"));
  EXPECT_TRUE(is_supported_region("FR"));
  EXPECT_FALSE(is_supported_region("fr"));
  EXPECT_FALSE(is_supported_region("UK"));
  EXPECT_FALSE(is_supported_region(""));
  EXPECT_EQ(check_region("GB"), "");
  EXPECT_EQ(check_region("EU"),
            "expected a region code libphonenumber knows (ISO 3166 alpha-2 in capitals: US, FR, GB, DE...), got 'EU'");
}

TEST(PhoneNumbers, RepeatedLookupsGiveTheSameAnswer) {
  // The second lookup comes from the thread's memo; the first asked for the E.164 form only.
  EXPECT_EQ(e164_number("07400123456", "GB"), "+447400123456");
  const Described d = describe("07400123456", "GB");
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.info.type, "mobile");
  EXPECT_EQ(describe("07400123456", "GB").info.country, "GB");
  // The same text in another region is another lookup.
  EXPECT_EQ(e164_number("07400123456", "US"), "");
}

}  // namespace
}  // namespace cdrd
