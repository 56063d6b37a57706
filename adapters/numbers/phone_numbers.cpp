#include "adapters/numbers/phone_numbers.h"

#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <set>
#include <unordered_map>

namespace cdrd {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// The memo below stops growing here and starts over: about 1 MB per thread at most.
constexpr size_t kMemoEntries = 4096;
// Longer text is no phone number (E.164 has at most 15 digits).
constexpr size_t kMaxNumberText = 64;
// The shortest digit string tried again as an international number.
constexpr size_t kMinBareInternational = 8;

const PhoneNumberUtil& util() { return *PhoneNumberUtil::GetInstance(); }

// Every region libphonenumber knows -> its English name from ICU, made once
// ("FR" -> "France"). ICU's display names need no lock, but the table keeps
// them off the per-record path.
const std::unordered_map<std::string, std::string>& country_names() {
  static const std::unordered_map<std::string, std::string> names = [] {
    std::set<std::string> regions;
    util().GetSupportedRegions(&regions);
    std::unordered_map<std::string, std::string> out;
    for (const std::string& region : regions) {
      icu::UnicodeString name;
      icu::Locale("", region.c_str()).getDisplayCountry(icu::Locale::getEnglish(), name);
      std::string utf8;
      name.toUTF8String(utf8);
      out.emplace(region, utf8);
    }
    return out;
  }();
  return names;
}

const char* type_name(PhoneNumberUtil::PhoneNumberType type) {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE:
      return "fixed_line";
    case PhoneNumberUtil::MOBILE:
      return "mobile";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
      return "fixed_line_or_mobile";
    case PhoneNumberUtil::TOLL_FREE:
      return "toll_free";
    case PhoneNumberUtil::PREMIUM_RATE:
      return "premium_rate";
    case PhoneNumberUtil::SHARED_COST:
      return "shared_cost";
    case PhoneNumberUtil::VOIP:
      return "voip";
    case PhoneNumberUtil::PERSONAL_NUMBER:
      return "personal_number";
    case PhoneNumberUtil::PAGER:
      return "pager";
    case PhoneNumberUtil::UAN:
      return "uan";
    case PhoneNumberUtil::VOICEMAIL:
      return "voicemail";
    case PhoneNumberUtil::UNKNOWN:
      break;
  }
  return "unknown";
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

bool parse_possible(std::string_view number, std::string_view region, PhoneNumber* out) {
  if (number.empty() || number.size() > kMaxNumberText) return false;
  const std::string text(number);
  const std::string default_region(region);
  if (util().Parse(text, default_region, out) == PhoneNumberUtil::NO_PARSING_ERROR && util().IsPossibleNumber(*out)) {
    return true;
  }
  // 33170363950 from a carrier that drops the '+': only a valid number (not
  // merely one of a possible length) is taken, so that a national number of
  // another length does not turn into some other country's.
  if (number.size() >= kMinBareInternational && number.front() != '0' && all_digits(number)) {
    PhoneNumber international;
    if (util().Parse("+" + text, default_region, &international) == PhoneNumberUtil::NO_PARSING_ERROR &&
        util().IsValidNumber(international)) {
      *out = international;
      return true;
    }
  }
  return false;
}

// libphonenumber parses with ICU regular expressions: some 15 µs a number,
// and 5 to 20 µs more for its country and type (a +1 number is matched
// against every NANP region). Records repeat their numbers (an account's
// callers, its usual destinations), so each thread keeps what it worked out.
struct Memo {
  bool possible = false;
  bool described = false;
  PhoneNumber parsed;
  NumberInfo info;
};

Memo& memo_of(std::string_view number, std::string_view region) {
  thread_local std::unordered_map<std::string, Memo> memo;
  std::string key;
  key.reserve(region.size() + 1 + number.size());
  key.append(region).append(1, '\0').append(number);
  const auto found = memo.find(key);
  if (found != memo.end()) return found->second;
  if (memo.size() >= kMemoEntries) memo.clear();
  Memo& m = memo[key];
  m.possible = parse_possible(number, region, &m.parsed);
  if (m.possible) util().Format(m.parsed, PhoneNumberUtil::E164, &m.info.e164);
  return m;
}

void describe(Memo* m) {
  std::string region;
  util().GetRegionCodeForNumber(m->parsed, &region);
  const auto& names = country_names();
  const auto name = names.find(region);
  // "ZZ": no region's patterns match; "001": a non-geographic number (+800).
  if (name != names.end()) {
    m->info.country = region;
    m->info.country_name = name->second;
  }
  m->info.type = type_name(util().GetNumberType(m->parsed));
  m->described = true;
}

}  // namespace

const std::string& NumberRules::region_for(const std::string& account_id) const {
  const auto it = account_regions.find(account_id);
  return it != account_regions.end() ? it->second : default_region;
}

std::string e164_number(std::string_view number, std::string_view region) {
  const Memo& m = memo_of(number, region);
  return m.possible ? m.info.e164 : std::string();
}

bool describe_number(std::string_view number, std::string_view region, NumberInfo* out) {
  Memo& m = memo_of(number, region);
  if (!m.possible) return false;
  if (!m.described) describe(&m);
  *out = m.info;
  return true;
}

bool is_supported_region(std::string_view region) { return country_names().count(std::string(region)) > 0; }

std::string check_region(std::string_view region) {
  if (is_supported_region(region)) return {};
  return "expected a region code libphonenumber knows (ISO 3166 alpha-2 in capitals: US, FR, GB, DE...), got '" +
         std::string(region) + "'";
}

}  // namespace cdrd
