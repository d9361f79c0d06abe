// The one writer of an error response: the HTTP status from the code table
// (cinfer::HttpStatusFor, common/errors.h) and the body
// {"error": {"code", "message", "request_id"}} (plus Retry-After when the
// status carries a hint).
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "http/request.h"

namespace cinfer::http {

Response ErrorResponse(const absl::Status& status, std::string_view request_id);

}  // namespace cinfer::http
