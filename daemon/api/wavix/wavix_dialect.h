// Wavix's CDR API (seed 002; the carrier's view: one object per call) over
// the read core:
//
//   GET /v1/cdr/{uuid}   the call that has a leg with FreeSWITCH uuid
//                        {uuid}: the bare CDR object (wavix_cdr.h)
//   GET /v1/cdr          a page of calls: {"items": [...], "pagination":
//                        {"current_page", "per_page", "total", "total_pages"}}
//                        (parameters: wavix_query.h)
//   GET /v1/cdr/all      every call of the same filters, streamed: NDJSON
//                        (one CDR object a line, oldest first), or CSV with
//                        the object's keys as columns when Accept names
//                        text/csv
//
// Rows come from call_row_source.h (one per call, its root leg and the leg
// that answered). Only /v1/cdr and /v1/cdr/... are claimed: Kazoo's
// /v1/accounts/... and /v1/api_auth never collide.
//
// Credentials: Authorization: Bearer <key> (Wavix's), ?appid=<key> (Wavix's
// appid is the same credential), and the core's X-Auth-Token and
// ?auth_token=; a configured API key, a stored one (cdrd_<id>_<secret>) or
// an auth token. The paths carry no account, so the credential decides it:
// one that may read exactly one account reads it; one that may read several
// (or "*"), and a stored API key (its accounts are in the database, which
// the loop thread never waits on), must name it with ?account_id=.
//
// Errors are Wavix's body, {"success": false, "message": "..."}, the
// message naming the bad parameter; 400 bad parameter, 401 no or bad
// credentials, 403 another account, 404 unknown uuid or path, 405 not GET,
// 429 too many exports, 503/504/500 from the core.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/api/api_dialect.h"

namespace cdrd {

struct ApiSettings;

// Wavix's error document {"success": false, "message": ...}.
std::string wavix_error_body(const std::string& message);

class WavixDialect : public ApiDialect {
 public:
  std::string_view name() const override { return "wavix"; }
  bool handle(ApiService& service, const ApiCall& call) override;
  RouteReply error_reply(const ApiError& error, const std::string& request_id) const override;
};

std::unique_ptr<ApiDialect> make_wavix_dialect();

}  // namespace cdrd
