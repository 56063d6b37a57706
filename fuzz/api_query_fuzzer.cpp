// The read API's query string (daemon/api/api_query.h): libevent's query
// parsing, then the list routes' checks (window, page_size, start_key,
// order, detail, filters) and the summary's. The first byte picks JSON or
// CSV (bit 0) and /v2 or /v1 (bit 1); the rest is the query string.
// Invariants: an accepted query keeps the contract's limits; a refused one is
// a 400 naming what is wrong; a start_key that decodes re-encodes to a key
// that decodes to the same cursor.
#include <string>

#include "daemon/api/api_query.h"
#include "daemon/api/api_request.h"
#include "daemon/api/cdr_filter.h"
#include "daemon/api/cdr_store.h"
#include "fuzz/fuzz_check.h"

namespace {

using cdrd::fuzz::check;

// 2024-01-01T00:00:00Z: the harness's "now", so runs repeat.
constexpr int64_t kNowGregorian = 1704067200 + cdrd::kGregorianUnixOffset;

void check_refusal(const cdrd::ApiError& err) {
  check(err.status == 400 && err.code == "invalid_parameter" && !err.message.empty(),
        "a refused query is a 400 invalid_parameter with a message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool csv = data[0] & 1;
  const bool v1 = data[0] & 2;
  // A URI's query cannot hold a NUL byte: the string ends at the first one, as in a request.
  const std::string query(reinterpret_cast<const char*>(data) + 1, size - 1);

  cdrd::ApiParams params;
  if (!cdrd::parse_api_query_string(query.c_str(), &params)) return 0;

  cdrd::ListOptions options;
  options.csv = csv;
  options.paginate = !v1;
  options.now_gregorian = kNowGregorian;
  cdrd::ListRequest request;
  cdrd::ApiError err;
  if (cdrd::parse_list_request(params, "acct", options, &request, &err)) {
    const cdrd::CdrListQuery& list = request.query;
    check(list.account_id == "acct", "the account is the route's");
    check(list.from_gregorian <= list.to_gregorian, "the window is ordered");
    check(list.to_gregorian - list.from_gregorian <= cdrd::kDefaultMaxWindowSeconds,
          "the window is at most 31 days and an hour");
    check(list.page_size >= 1 && list.page_size <= cdrd::kMaxPageSize, "page_size is 1..1000");
    check(!csv || request.stream, "a CSV export streams");
    check(!v1 || request.stream, "a /v1 list streams");
    size_t filters = 0;
    for (const auto& [name, value] : params) filters += cdrd::is_cdr_filter_parameter(name) ? 1 : 0;
    check(list.filters.size() == filters, "one filter per filter parameter");
    check(request.ignored.size() + filters <= params.size(), "a parameter is a filter, ignored or known");
    for (const cdrd::CdrFilter& filter : list.filters) {
      check(!filter.what.empty(), "a filter names a field");
      const bool tests_value =
          filter.test == cdrd::CdrFilter::Test::kEquals || filter.test == cdrd::CdrFilter::Test::kNotEquals;
      check(!tests_value || !filter.values.empty(), "a value filter has a value to compare");
      check(filter.values.size() <= cdrd::kMaxFilterValues, "at most kMaxFilterValues values");
      check(filter.kind == cdrd::CdrFilter::Kind::kColumn || !filter.path.empty(), "a record filter has a path");
      check(filter.path.size() <= cdrd::kMaxFilterPathSegments, "at most kMaxFilterPathSegments segments");
    }
    if (list.after) {
      cdrd::CdrCursor again;
      check(cdrd::decode_cursor(cdrd::encode_cursor(*list.after), &again), "an accepted cursor re-encodes");
      check(again.gregorian_ts == list.after->gregorian_ts && again.id == list.after->id, "cursor round trip");
    }
  } else {
    check_refusal(err);
  }

  cdrd::ApiQuery summary;
  cdrd::ApiError summary_err;
  if (!cdrd::plan_summary(params, "acct", "fuzz-request", &summary, &summary_err)) {
    check_refusal(summary_err);
  } else {
    check(static_cast<bool>(summary), "an accepted summary has a query to run");
  }
  return 0;
}
