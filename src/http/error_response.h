// The one mapping from a Status to an HTTP status and the error body
// {"error": {"code", "message", "request_id"}} (plus Retry-After when the
// status carries a hint).
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "http/request.h"

namespace cinfer::http {

int HttpStatusFor(const absl::Status& status);
Response ErrorResponse(const absl::Status& status, std::string_view request_id);

}  // namespace cinfer::http
