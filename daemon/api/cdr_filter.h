// filter_<field>=value of the read API's list routes: which fields may be
// filtered, how each value is checked, and the SQL condition it becomes.
//
// The SQL text of a condition comes only from the fixed field table below
// (a typed column of `cdrs`, or a member of the canonical record); the value,
// and the key of a filter_custom_channel_vars.<name>, are bind parameters.
// A value ending in '*' is a prefix match (starts_with); integer and boolean
// fields match exactly.
#pragma once

#include <string>
#include <vector>

namespace cdrd {

struct CdrFilter {
  enum class Kind {
    kColumn,        // a typed column of cdrs: `what` is the column
    kRecordMember,  // a top-level string member of the record: `what` is the member
    kObjectKey,     // a key of an object member (custom_channel_vars): `what` is the member, `key` the key
  };
  enum class Type { kText, kInteger, kBoolean };

  std::string parameter;  // the query parameter, for messages: "filter_callee_id_number"
  Kind kind = Kind::kColumn;
  Type type = Type::kText;
  std::string what;
  std::string key;
  bool prefix = false;  // value is the prefix (the '*' removed)
  std::string value;
};

// One query parameter whose name starts with "filter_". False with *error,
// which names the parameter, for an unknown field, an empty value, a '*'
// alone, a '*' on an integer or boolean field, or a value of the wrong type.
bool parse_cdr_filter(const std::string& parameter, const std::string& value, CdrFilter* out, std::string* error);

// Appends " AND <condition>" per filter to *sql, on table alias `alias`; the
// placeholders are numbered after the params->size() parameters already
// there, and the filters' values (and keys) are appended to *params.
void append_filter_sql(const std::vector<CdrFilter>& filters, const std::string& alias, std::string* sql,
                       std::vector<std::string>* params);

}  // namespace cdrd
