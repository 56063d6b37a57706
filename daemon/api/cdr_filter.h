// The read API's record filters, Kazoo's crossbar_filter over SQL: which
// query parameters are filters, how each value is checked, and the SQL
// condition it becomes.
//
//   filter_<path>=v        the record's value at <path> is v
//   filter_not_<path>=v    it is not
//   has_key=<path>         <path> is in the record (any value)
//   key_missing=<path>     it is not
//   has_value=<path>       it is, with a value Kazoo does not call empty
//   value_missing=<path>   it is not, or its value is empty
//
// <path> is any depth of dotted path into the canonical record
// (custom_channel_vars.owner_id, destination.country, transfer.0.kind). As in
// Kazoo, a value is compared as text and a missing field reads as "", so
// filter_x= matches the records without x; a JSON list value means any of its
// members (filter_hangup_cause=["USER_BUSY","NO_ANSWER"]); a value of a field
// whose name ends in call_id loses a "YYYYMM-" prefix (a CDR id given as a
// call id). cdrd's own: a value ending in '*' is a prefix (starts_with).
//
// Top-level fields that are typed columns of `cdrs` are compared on the
// column (what the indexes hold); integer and boolean columns take only
// integers / true and false, refused otherwise. Everything else is the
// record's jsonb. The SQL text of a condition comes only from the fixed
// column table below; every value and every path segment is a bind parameter.
#pragma once

#include <string>
#include <vector>

namespace cdrd {

struct CdrFilter {
  enum class Kind {
    kColumn,  // a typed column of cdrs: `what` is the column
    kPath,    // a value inside the record: `path` (`what` is the dotted path)
  };
  enum class Type { kText, kInteger, kBoolean };
  enum class Test {
    kEquals,        // filter_
    kNotEquals,     // filter_not_
    kHasKey,        // has_key
    kKeyMissing,    // key_missing
    kHasValue,      // has_value
    kValueMissing,  // value_missing
  };

  std::string parameter;  // the query parameter, for messages: "filter_callee_id_number"
  Kind kind = Kind::kPath;
  Type type = Type::kText;
  Test test = Test::kEquals;
  std::string what;
  std::vector<std::string> path;
  bool prefix = false;              // values[0] is a prefix (the '*' removed)
  std::string value;                // the value as given ("YYYYMM-" removed where it applies)
  std::vector<std::string> values;  // kEquals / kNotEquals: any of these
};

// The most members a list value may have, and the most segments of a path.
inline constexpr size_t kMaxFilterValues = 100;
inline constexpr size_t kMaxFilterPathSegments = 16;

// True for the parameters parse_cdr_filter() reads: filter_*, has_key,
// key_missing, has_value, value_missing.
bool is_cdr_filter_parameter(const std::string& parameter);

// One filter parameter. False with *error, which starts with the parameter's
// name, for a name that is no filter, a path with an empty segment or too
// many, a '*' alone or on an integer or boolean column, a value of the wrong
// type for an integer or boolean column, or a list with a member that is no
// string or number (or more than kMaxFilterValues).
bool parse_cdr_filter(const std::string& parameter, const std::string& value, CdrFilter* out, std::string* error);

// custom_channel_vars.owner_id = owner_id: the rows a user token with an
// owner may read, and the rows of /users/{owner_id}/cdrs.
CdrFilter owner_filter(const std::string& owner_id);

// Appends " AND <condition>" per filter to *sql, on table alias `alias`; the
// placeholders are numbered after the params->size() parameters already
// there, and the filters' values (and path segments) are appended to *params.
void append_filter_sql(const std::vector<CdrFilter>& filters, const std::string& alias, std::string* sql,
                       std::vector<std::string>* params);

}  // namespace cdrd
