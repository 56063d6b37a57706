#include "daemon/api/cdr_filter.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstring>

namespace cdrd {
namespace {

using Kind = CdrFilter::Kind;
using Type = CdrFilter::Type;
using Test = CdrFilter::Test;

struct ColumnField {
  const char* field;  // the record's top-level field
  Type type;
  const char* column;
};

// The top-level fields held as typed columns of cdrs (ARCHITECTURE.md): a
// filter on them uses the column, which the indexes hold. Each column holds
// the record's value of the same name (timestamp: gregorian_ts), except the
// booleans, which are false where the record has no member: filter_imported=
// false matches the rows that were not imported.
const ColumnField kColumns[] = {
    {"id", Type::kText, "id"},
    {"call_id", Type::kText, "call_id"},
    {"call_direction", Type::kText, "call_direction"},
    {"hangup_cause", Type::kText, "hangup_cause"},
    {"hangup_code", Type::kText, "hangup_code"},
    {"billing_status", Type::kText, "billing_status"},
    {"caller_id_number", Type::kText, "caller_id_number"},
    {"callee_id_number", Type::kText, "callee_id_number"},
    {"from_uri", Type::kText, "from_uri"},
    {"to_uri", Type::kText, "to_uri"},
    {"other_leg_call_id", Type::kText, "other_leg_call_id"},
    {"interaction_id", Type::kText, "interaction_id"},
    {"media_server", Type::kText, "media_server"},
    {"leg", Type::kText, "leg"},
    {"source", Type::kText, "source"},
    {"timestamp", Type::kInteger, "gregorian_ts"},
    {"duration_seconds", Type::kInteger, "duration_seconds"},
    {"billing_seconds", Type::kInteger, "billing_seconds"},
    {"ringing_seconds", Type::kInteger, "ringing_seconds"},
    {"imported", Type::kBoolean, "imported"},
    {"is_loopback", Type::kBoolean, "is_loopback"},
    {"sip_call_id", Type::kText, "sip_call_id"},
    {"trunk", Type::kText, "trunk"},
    {"direction_class", Type::kText, "direction_class"},
    {"caller_e164", Type::kText, "caller_e164"},
    {"callee_e164", Type::kText, "callee_e164"},
};

// What Kazoo's kz_term:is_empty/1 calls empty (has_value, value_missing):
// "", "0", "NULL", "undefined", 0, null, [] and {}, as jsonb.
constexpr const char* kEmptyJsonValues =
    "('\"\"'::jsonb, '\"0\"'::jsonb, '\"NULL\"'::jsonb, '\"undefined\"'::jsonb, '0'::jsonb, 'null'::jsonb, "
    "'[]'::jsonb, '{}'::jsonb)";

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool all_digits(const std::string& s, size_t from, size_t n) {
  if (s.size() < from + n) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from), s.begin() + static_cast<std::ptrdiff_t>(from + n),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// Kazoo's cb_cdrs:fix_qs_filter_keys/1: a CDR id is "YYYYMM-" + the call id.
std::string without_month_prefix(const std::string& value) {
  if (value.size() > 7 && all_digits(value, 0, 6) && value[6] == '-') return value.substr(7);
  return value;
}

// "a.b.c" -> {a, b, c}; false when a segment is empty or there are too many.
bool split_path(const std::string& dotted, std::vector<std::string>* out) {
  out->clear();
  size_t start = 0;
  for (;;) {
    const size_t dot = dotted.find('.', start);
    const std::string segment = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (segment.empty()) return false;
    out->push_back(segment);
    if (out->size() > kMaxFilterPathSegments) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// The values a filter value stands for: the members of a JSON list (strings,
// or numbers as written), the text of a JSON string as well as the value
// itself, else the value itself. False with *why for a list member of
// another type or a list too long.
bool values_of(const std::string& value, std::vector<std::string>* out, std::string* why) {
  out->clear();
  if (!value.empty() && (value.front() == '[' || value.front() == '"')) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(value.data(),
                                                                                             value.size());
    if (!doc.HasParseError() && doc.IsArray()) {
      // [] would compare with nothing (and IN () is no SQL): refused.
      if (doc.Empty()) {
        *why = "a list of at least one value";
        return false;
      }
      if (doc.Size() > kMaxFilterValues) {
        *why = "a list of at most " + std::to_string(kMaxFilterValues) + " values";
        return false;
      }
      for (const auto& member : doc.GetArray()) {
        if (!member.IsString()) {
          *why = "a list of strings and numbers only";
          return false;
        }
        out->emplace_back(member.GetString(), member.GetStringLength());
      }
      return true;
    }
    if (!doc.HasParseError() && doc.IsString()) {
      out->push_back(value);
      out->emplace_back(doc.GetString(), doc.GetStringLength());
      return true;
    }
  }
  out->push_back(value);
  return true;
}

bool valid_integer(const std::string& v) {
  return !v.empty() && v.size() <= 18 && v.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

bool is_cdr_filter_parameter(const std::string& parameter) {
  return parameter.rfind("filter_", 0) == 0 || parameter == "has_key" || parameter == "key_missing" ||
         parameter == "has_value" || parameter == "value_missing";
}

bool parse_cdr_filter(const std::string& parameter, const std::string& value, CdrFilter* out, std::string* error) {
  auto bad = [&](const std::string& why) {
    *error = parameter + ": " + why;
    return false;
  };
  *out = CdrFilter{};
  out->parameter = parameter;
  std::string field;
  if (parameter == "has_key" || parameter == "key_missing" || parameter == "has_value" ||
      parameter == "value_missing") {
    out->test = parameter == "has_key"       ? Test::kHasKey
                : parameter == "key_missing" ? Test::kKeyMissing
                : parameter == "has_value"   ? Test::kHasValue
                                             : Test::kValueMissing;
    if (!split_path(value, &out->path)) {
      return bad("expected a dotted path into the CDR (custom_channel_vars.owner_id), at most " +
                 std::to_string(kMaxFilterPathSegments) + " segments, none empty; got '" + value + "'");
    }
    out->what = value;
    out->value = value;
    return true;
  }
  if (parameter.rfind("filter_not_", 0) == 0) {
    out->test = Test::kNotEquals;
    field = parameter.substr(std::strlen("filter_not_"));
  } else if (parameter.rfind("filter_", 0) == 0) {
    field = parameter.substr(std::strlen("filter_"));
  } else {
    return bad("not a filter parameter");
  }
  if (!split_path(field, &out->path)) {
    return bad("the field after '" + parameter.substr(0, parameter.size() - field.size()) +
               "' must be a dotted path into the CDR, at most " + std::to_string(kMaxFilterPathSegments) +
               " segments, none empty");
  }
  out->what = field;
  for (const ColumnField& c : kColumns) {
    if (field == c.field) {
      out->kind = Kind::kColumn;
      out->type = c.type;
      out->what = c.column;
      out->path.clear();
      break;
    }
  }
  out->value = ends_with(field, "call_id") ? without_month_prefix(value) : value;
  std::string why;
  if (!values_of(out->value, &out->values, &why)) return bad(why);
  if (ends_with(field, "call_id")) {
    for (std::string& v : out->values) v = without_month_prefix(v);
  }
  if (out->values.size() == 1 && !out->values[0].empty() && out->values[0].back() == '*' &&
      out->values[0] == out->value) {
    if (out->type != Type::kText) return bad("a prefix ('*') applies only to text fields");
    out->values[0].pop_back();
    if (out->values[0].empty()) {
      return bad("'*' alone matches everything; give a prefix before it or leave the filter out");
    }
    out->prefix = true;
  }
  for (const std::string& v : out->values) {
    if (out->type == Type::kInteger && !valid_integer(v)) {
      return bad("expected a non-negative integer (or a list of them), got '" + value + "'");
    }
    if (out->type == Type::kBoolean && v != "true" && v != "false") {
      return bad("expected true or false, got '" + value + "'");
    }
  }
  return true;
}

CdrFilter owner_filter(const std::string& owner_id) {
  CdrFilter f;
  f.parameter = "owner_id";
  f.kind = Kind::kPath;
  f.what = "custom_channel_vars.owner_id";
  f.path = {"custom_channel_vars", "owner_id"};
  f.value = owner_id;
  f.values = {owner_id};
  return f;
}

void append_filter_sql(const std::vector<CdrFilter>& filters, const std::string& alias, std::string* sql,
                       std::vector<std::string>* params) {
  const auto placeholder = [params](const std::string& value) {
    params->push_back(value);
    return "$" + std::to_string(params->size());
  };
  // ARRAY[$n::text, ...]: the path as bound text parameters.
  const auto path_array = [&](const std::vector<std::string>& path) {
    std::string a = "ARRAY[";
    for (size_t i = 0; i < path.size(); ++i) a += (i ? ", " : "") + placeholder(path[i]) + "::text";
    return a + "]";
  };
  for (const CdrFilter& f : filters) {
    switch (f.test) {
      case Test::kHasKey:
      case Test::kKeyMissing:
        *sql += " AND (" + alias + ".record #> " + path_array(f.path) + ")" +
                (f.test == Test::kHasKey ? " IS NOT NULL" : " IS NULL");
        continue;
      case Test::kHasValue:
      case Test::kValueMissing:
        *sql += std::string(" AND ") + (f.test == Test::kHasValue ? "" : "NOT ") + "COALESCE((" + alias +
                ".record #> " + path_array(f.path) + ") NOT IN " + kEmptyJsonValues + ", false)";
        continue;
      case Test::kEquals:
      case Test::kNotEquals:
        break;
    }
    std::string expr =
        f.kind == Kind::kColumn ? alias + "." + f.what : "(" + alias + ".record #>> " + path_array(f.path) + ")";
    const bool negated = f.test == Test::kNotEquals;
    const char* cast = f.type == Type::kInteger ? "::bigint" : f.type == Type::kBoolean ? "::boolean" : "";
    // A missing field is "" (Kazoo's default); only text can be "".
    const bool any_empty = std::find(f.values.begin(), f.values.end(), "") != f.values.end();
    if (f.type == Type::kText && (any_empty || negated)) expr = "COALESCE(" + expr + ", '')";
    std::string test;
    if (f.prefix) {
      test = "starts_with(" + expr + ", " + placeholder(f.values[0]) + ")";
    } else if (f.values.size() == 1) {
      test = expr + " = " + placeholder(f.values[0]) + cast;
    } else {
      test = expr + " IN (";
      for (size_t i = 0; i < f.values.size(); ++i) test += (i ? ", " : "") + placeholder(f.values[i]) + cast;
      test += ")";
    }
    *sql += negated ? " AND NOT (" + test + ")" : " AND " + test;
  }
}

}  // namespace cdrd
