// Phone numbers -> E.164 and where they go, through libphonenumber (and ICU
// for country names). Pure functions: no I/O, safe on any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace cdrd {

// How a number written without its country code is read: the region of its
// account (numbers.account_regions), else numbers.default_region.
struct NumberRules {
  std::string default_region = "US";                   // ISO 3166 alpha-2
  std::map<std::string, std::string> account_regions;  // account id -> region
  const std::string& region_for(const std::string& account_id) const;
};

// One number as E.164, and (for describe_number) its country and type.
struct NumberInfo {
  std::string e164;          // "+33170363950"
  std::string country;       // ISO 3166 alpha-2 "FR"; "" for non-geographic numbers (+800, +882...)
  std::string country_name;  // English, through ICU: "France"; "" with country
  std::string type;          // fixed_line, mobile, fixed_line_or_mobile, toll_free, premium_rate, shared_cost,
                             // voip, personal_number, pager, uan, voicemail, unknown
};

// `number` as E.164 when it is a possible number: international ("+33 1 70
// 36 39 50", or with the region's international prefix "0033..."), or
// national in `region` ("01 70 36 39 50" in FR). A string of 8 or more digits
// that is no possible number of `region` is also tried with a '+' in front
// (carriers often send E.164 without it, as Kazoo's converters assume) and
// kept only when that gives a valid number. "" otherwise (extensions such as
// 1001, names, garbage).
std::string e164_number(std::string_view number, std::string_view region);

// The same, plus the number's country and type. False (and *out unchanged)
// when e164_number() would give "".
bool describe_number(std::string_view number, std::string_view region, NumberInfo* out);

// Whether libphonenumber has metadata for `region` ("US", "FR"; upper case).
bool is_supported_region(std::string_view region);

// For configuration checks: "" when `region` is supported, else why not.
std::string check_region(std::string_view region);

}  // namespace cdrd
