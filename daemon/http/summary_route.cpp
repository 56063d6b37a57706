// GET .../cdrs/summary (issue 4, item 3): not built yet.
#include "daemon/http/api_request.h"

namespace cdrd {

bool plan_summary(const ApiParams& /*params*/, const std::string& /*account_id*/, const std::string& /*request_id*/,
                  ApiQuery* /*query*/, ApiError* err) {
  *err = {501, "not_implemented", "cdrs/summary is not built yet"};
  return false;
}

}  // namespace cdrd
