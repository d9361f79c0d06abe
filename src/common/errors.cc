#include "common/errors.h"

#include <charconv>

#include "common/strings.h"

namespace cinfer {
namespace {

constexpr absl::string_view kCodeUrl = "cinfer/error_code";
constexpr absl::string_view kRetryUrl = "cinfer/retry_after";
constexpr absl::string_view kDetailsUrl = "cinfer/details";

std::string DefaultCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "BAD_REQUEST";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case absl::StatusCode::kPermissionDenied:
      return "FORBIDDEN";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kFailedPrecondition:
      return "CONFLICT";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDeadlineExceeded:
      return "TIMEOUT";
    case absl::StatusCode::kUnimplemented:
      return "NOT_IMPLEMENTED";
    default:
      return "INTERNAL";
  }
}

}  // namespace

absl::Status MakeError(absl::StatusCode code, std::string_view error_code,
                       std::string_view message) {
  absl::Status status(code, ToAbsl(message));
  status.SetPayload(kCodeUrl, absl::Cord(ToAbsl(error_code)));
  return status;
}

std::string ErrorCodeOf(const absl::Status& status) {
  if (auto payload = status.GetPayload(kCodeUrl); payload.has_value()) {
    return std::string(*payload);
  }
  return DefaultCode(status.code());
}

absl::Status WithDetails(absl::Status status, std::string_view json_object) {
  status.SetPayload(kDetailsUrl, absl::Cord(ToAbsl(json_object)));
  return status;
}

std::optional<std::string> DetailsOf(const absl::Status& status) {
  if (auto payload = status.GetPayload(kDetailsUrl); payload.has_value()) {
    return std::string(*payload);
  }
  return std::nullopt;
}

absl::Status WithRetryAfter(absl::Status status, int seconds) {
  status.SetPayload(kRetryUrl, absl::Cord(std::to_string(seconds)));
  return status;
}

std::optional<int> RetryAfterOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryUrl);
  if (!payload.has_value()) return std::nullopt;
  std::string text(*payload);
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

absl::Status InvalidJsonError(std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, "INVALID_JSON", message);
}
absl::Status ValidationError(std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, "VALIDATION_FAILED", message);
}
absl::Status UnauthenticatedError(std::string_view message) {
  return MakeError(absl::StatusCode::kUnauthenticated, "UNAUTHENTICATED", message);
}
absl::Status ForbiddenError(std::string_view message) {
  return MakeError(absl::StatusCode::kPermissionDenied, "FORBIDDEN", message);
}
absl::Status NotFoundError(std::string_view message) {
  return MakeError(absl::StatusCode::kNotFound, "NOT_FOUND", message);
}
absl::Status PayloadTooLargeError(std::string_view message) {
  return MakeError(absl::StatusCode::kResourceExhausted, "PAYLOAD_TOO_LARGE", message);
}

}  // namespace cinfer
