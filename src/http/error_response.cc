#include "http/error_response.h"

#include "common/errors.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace cinfer::http {

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
