// Shared helpers of the end-to-end tests.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>

#include "tests/support/test_files.h"

namespace cdrd::test {

std::string random_uuid();
// The 2017 sample with a new uuid and, if given, variables.account_id set.
std::string unique_cdr(const std::string& uuid, const std::string& account_id = "");

rapidjson::Document parse_json(const std::string& text);
// Polls `probe` every 50 ms until it returns true or `timeout` passes.
bool eventually(const std::function<bool()>& probe, std::chrono::seconds timeout = std::chrono::seconds(30));
// The call_ids stored in `dsn`'s cdrs for `account_id`; one stored twice
// fails the calling test.
std::set<std::string> stored_once(const std::string& dsn, const std::string& account_id);
// SELECT count(*) ... as an integer.
long long query_count(const std::string& dsn, const std::string& sql);

}  // namespace cdrd::test
