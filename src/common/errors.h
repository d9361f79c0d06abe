// Errors carry an absl::StatusCode plus a stable machine-readable code (an ErrorCode of
// common/error_codes.h, e.g. INVALID_JSON) and optionally a Retry-After hint, as Status
// payloads. HttpStatusFor reads the HTTP status from the code table;
// http/error_response.h is the one place that writes them as HTTP responses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/error_codes.h"

namespace cinfer {

// Builds a status whose public error code is `code` (its StatusCode from the table).
absl::Status MakeError(ErrorCode code, std::string_view message);

// The error code: the one the status was made with, otherwise derived from the
// status code (NOT_FOUND, UNAUTHENTICATED, ...; DefaultErrorCode).
ErrorCode ErrorCodeEnumOf(const absl::Status& status);
// Its wire name, e.g. "QUEUE_FULL".
std::string ErrorCodeOf(const absl::Status& status);
// False for an OK status.
bool HasErrorCode(const absl::Status& status, ErrorCode code);
// The HTTP status a status is answered with: 200 when OK, else its code's (the table).
int HttpStatusFor(const absl::Status& status);

// Attaches / reads a Retry-After hint in whole seconds.
absl::Status WithRetryAfter(absl::Status status, int seconds);
std::optional<int> RetryAfterOf(const absl::Status& status);

// Attaches / reads structured details (a JSON object as text), returned to
// clients as `error.details`, e.g. {"state": "published"}.
absl::Status WithDetails(absl::Status status, std::string_view json_object);
std::optional<std::string> DetailsOf(const absl::Status& status);
// `status` with details {"field": field}: the input field (or config key) at fault,
// so a client can show the message beside it.
absl::Status WithField(absl::Status status, std::string_view field);

// Third-party messages (engines, decoders, the validator child) can hold host
// paths, source locations, C++ signatures and graph node names. A status made
// with WithHiddenDetail answers `public_message` to the client and keeps the
// original text as a payload, which http::ErrorResponse logs under the
// request id (and never sends).
absl::Status WithHiddenDetail(const absl::Status& status, std::string_view public_message);
std::optional<std::string> HiddenDetailOf(const absl::Status& status);

// `message` without what only helps an attacker: absolute paths become
// "<path>", and source locations (file.cc:84), C++ qualified names and
// signatures (ns::Class::Fn(const T&, ...)) and node names (Name:'x') are
// dropped. Whitespace is collapsed.
std::string ScrubInternals(std::string_view message);

// Shorthands for the codes used across layers.
absl::Status InvalidJsonError(std::string_view message);
absl::Status ValidationError(std::string_view message);
// ValidationError naming `field` in its details (WithField).
absl::Status FieldValidationError(std::string_view field, std::string_view message);
absl::Status UnauthenticatedError(std::string_view message);
absl::Status ForbiddenError(std::string_view message);
absl::Status NotFoundError(std::string_view message);
absl::Status PayloadTooLargeError(std::string_view message);

}  // namespace cinfer
