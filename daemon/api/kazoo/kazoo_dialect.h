// Kazoo's CDR API (seeds 000 and 003; Kazoo 4.3's cb_cdrs, crossbar_view,
// crossbar_filter, api_util are the reference):
//
//   PUT  /v{1,2}/api_auth                                   key -> auth token
//   GET  /v{1,2}/accounts/{account}/cdrs                    list (keyset pages)
//   GET  /v{1,2}/accounts/{account}/cdrs/interaction        one row per call
//   GET  /v{1,2}/accounts/{account}/cdrs/summary            counts and charges
//   GET  /v{1,2}/accounts/{account}/cdrs/legs/{interaction} the legs of a call
//   GET  /v{1,2}/accounts/{account}/cdrs/{cdr_id}           one whole record
//
// Parameters and their checks are in api_query.h and kazoo_export.h; the
// rows come from the core's CdrStore.
#pragma once

#include <memory>
#include <string>

#include "daemon/api/api_dialect.h"

namespace cdrd {

class ApiGrant;
struct ExportPlan;

class KazooDialect : public ApiDialect {
 public:
  std::string_view name() const override { return "kazoo"; }
  bool handle(ApiService& service, const ApiCall& call) override;
  RouteReply error_reply(const ApiError& error, const std::string& request_id) const override;

 private:
  void handle_api_auth(ApiService& service, const ApiCall& call) const;  // kazoo_auth_route.cpp
  void handle_cdrs(ApiService& service, const ApiCall& call, const std::vector<std::string>& seg) const;
};

std::unique_ptr<ApiDialect> make_kazoo_dialect();

}  // namespace cdrd
