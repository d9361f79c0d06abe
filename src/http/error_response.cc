#include "http/error_response.h"

#include "common/errors.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace cinfer::http {

int HttpStatusFor(const absl::Status& status) {
  // Error codes whose HTTP status differs from their StatusCode's default.
  const std::string code = ErrorCodeOf(status);
  if (code == "VALIDATION_FAILED" || code == "MODEL_REJECTED" || code == "MODEL_LOAD_FAILED" ||
      code == "INVALID_IMAGE" || code == "IMAGE_TOO_LARGE" || code == "IMAGE_TOO_COMPLEX")
    return 422;
  if (code == "PAYLOAD_TOO_LARGE") return 413;
  if (code == "UNSUPPORTED_MEDIA_TYPE") return 415;
  if (code == "METHOD_NOT_ALLOWED") return 405;
  if (code == "HEADERS_TOO_LARGE") return 431;
  if (code == "QUEUE_FULL" || code == "OVERLOADED") return 503;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

Response ErrorResponse(const absl::Status& status, std::string_view request_id) {
  const int http_status = HttpStatusFor(status);
  // Internal details stay in the log; clients get a generic or scrubbed message.
  const std::string message = http_status >= 500 && http_status != 503 && http_status != 504
                                  ? "internal server error"
                                  : ScrubInternals(ToStd(status.message()));
  auto hidden = HiddenDetailOf(status);
  if (!hidden.has_value() && message != ToStd(status.message()) && http_status < 500) {
    hidden = std::string(status.message());
  }
  if (hidden.has_value()) {
    spdlog::warn("request {}: {} {}: detail not sent to the client: {}", request_id, http_status,
                 ErrorCodeOf(status), EscapeForLog(*hidden));
  }
  nlohmann::json body = {{"error",
                          {{"code", ErrorCodeOf(status)},
                           {"message", message},
                           {"request_id", std::string(request_id)}}}};
  if (auto details = DetailsOf(status); details.has_value()) {
    auto parsed = nlohmann::json::parse(*details, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) body["error"]["details"] = std::move(parsed);
  }
  Response r = Response::Json(http_status,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (auto retry = RetryAfterOf(status))
    r.headers.emplace_back("Retry-After", std::to_string(*retry));
  return r;
}

}  // namespace cinfer::http
