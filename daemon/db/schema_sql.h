// The schema migrations compiled into the binary (generated at build time
// from schema/NNN_name.sql by schema/embed_schema.cmake; library cdrd_schema).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cdrd {

// (name, sql) pairs in the order they must be applied; name is the file name
// without ".sql", e.g. "001_init".
const std::vector<std::pair<std::string, std::string>>& schema_migrations();

}  // namespace cdrd
