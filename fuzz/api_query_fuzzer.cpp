// The read API's query string (daemon/api/api_query.h): libevent's query
// parsing, then the list routes' checks (window, page_size, start_key,
// filters) and the summary's. The first byte picks JSON or CSV; the rest is
// the query string. Invariants: an accepted query keeps the contract's
// limits; a refused one is a 400 naming what is wrong; a start_key that
// decodes re-encodes to a key that decodes to the same cursor.
#include <string>

#include "daemon/api/api_query.h"
#include "daemon/api/api_request.h"
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
  // A URI's query cannot hold a NUL byte: the string ends at the first one, as in a request.
  const std::string query(reinterpret_cast<const char*>(data) + 1, size - 1);

  cdrd::ApiParams params;
  if (!cdrd::parse_api_query_string(query.c_str(), &params)) return 0;

  cdrd::CdrListQuery list;
  bool stream = false;
  cdrd::ApiError err;
  if (cdrd::parse_list_query(params, "acct", csv, kNowGregorian, &list, &stream, &err)) {
    check(list.account_id == "acct", "the account is the route's");
    check(list.from_gregorian <= list.to_gregorian, "the window is ordered");
    check(list.to_gregorian - list.from_gregorian <= cdrd::kMaxWindowSeconds, "the window is at most 31 days");
    check(list.page_size >= 1 && list.page_size <= 1000, "page_size is 1..1000");
    check(!csv || stream, "a CSV export streams");
    size_t filters = 0;
    for (const auto& [name, value] : params) filters += name.rfind("filter_", 0) == 0 ? 1 : 0;
    check(list.filters.size() == filters, "one filter per filter_ parameter");
    for (const cdrd::CdrFilter& filter : list.filters) {
      check(!filter.value.empty() && !filter.what.empty(), "a filter has a field and a value");
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
