// Every public error code, with the absl::StatusCode a status carrying it has and the
// HTTP status it is answered with, declared side by side in one table. MakeError takes the
// StatusCode from it, HttpStatusFor (common/errors.h) the HTTP status, and a unit test checks
// api/openapi.yaml's list of codes against it.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "absl/status/status.h"

namespace cinfer {

// X(enumerator, wire name, absl::StatusCode, HTTP status)
#define CINFER_ERROR_CODES(X)                                                      \
  X(kBadRequest, "BAD_REQUEST", kInvalidArgument, 400)                             \
  X(kInvalidJson, "INVALID_JSON", kInvalidArgument, 400)                           \
  X(kUnauthenticated, "UNAUTHENTICATED", kUnauthenticated, 401)                    \
  X(kForbidden, "FORBIDDEN", kPermissionDenied, 403)                               \
  X(kInvalidSetupCode, "INVALID_SETUP_CODE", kPermissionDenied, 403)               \
  X(kPasswordChangeRequired, "PASSWORD_CHANGE_REQUIRED", kPermissionDenied, 403)   \
  X(kTokenExpired, "TOKEN_EXPIRED", kPermissionDenied, 403)                        \
  X(kTokenPaused, "TOKEN_PAUSED", kPermissionDenied, 403)                          \
  X(kIpNotAllowed, "IP_NOT_ALLOWED", kPermissionDenied, 403)                       \
  X(kModelNotAllowed, "MODEL_NOT_ALLOWED", kPermissionDenied, 403)                 \
  X(kNotFound, "NOT_FOUND", kNotFound, 404)                                        \
  X(kModelNotFound, "MODEL_NOT_FOUND", kNotFound, 404)                             \
  X(kVersionNotFound, "VERSION_NOT_FOUND", kNotFound, 404)                         \
  X(kTokenNotFound, "TOKEN_NOT_FOUND", kNotFound, 404)                             \
  X(kUserNotFound, "USER_NOT_FOUND", kNotFound, 404)                               \
  X(kRequestNotFound, "REQUEST_NOT_FOUND", kNotFound, 404)                         \
  X(kMethodNotAllowed, "METHOD_NOT_ALLOWED", kFailedPrecondition, 405)             \
  X(kAlreadyExists, "ALREADY_EXISTS", kAlreadyExists, 409)                         \
  X(kAlreadyInitialized, "ALREADY_INITIALIZED", kAlreadyExists, 409)               \
  X(kModelNameTaken, "MODEL_NAME_TAKEN", kAlreadyExists, 409)                      \
  X(kTokenNameTaken, "TOKEN_NAME_TAKEN", kAlreadyExists, 409)                      \
  X(kUsernameTaken, "USERNAME_TAKEN", kAlreadyExists, 409)                         \
  X(kConflict, "CONFLICT", kFailedPrecondition, 409)                               \
  X(kModelStateConflict, "MODEL_STATE_CONFLICT", kFailedPrecondition, 409)         \
  X(kIncompatibleVersion, "INCOMPATIBLE_VERSION", kFailedPrecondition, 409)        \
  X(kLastAdmin, "LAST_ADMIN", kFailedPrecondition, 409)                            \
  X(kFixedByEnvironment, "FIXED_BY_ENVIRONMENT", kFailedPrecondition, 409)         \
  X(kNotRuntimeConfigurable, "NOT_RUNTIME_CONFIGURABLE", kFailedPrecondition, 409) \
  X(kPayloadTooLarge, "PAYLOAD_TOO_LARGE", kResourceExhausted, 413)                \
  X(kUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", kInvalidArgument, 415)        \
  X(kValidationFailed, "VALIDATION_FAILED", kInvalidArgument, 422)                 \
  X(kModelRejected, "MODEL_REJECTED", kInvalidArgument, 422)                       \
  X(kModelLoadFailed, "MODEL_LOAD_FAILED", kFailedPrecondition, 422)               \
  X(kInvalidImage, "INVALID_IMAGE", kInvalidArgument, 422)                         \
  X(kImageTooLarge, "IMAGE_TOO_LARGE", kInvalidArgument, 422)                      \
  X(kImageTooComplex, "IMAGE_TOO_COMPLEX", kInvalidArgument, 422)                  \
  X(kResourceExhausted, "RESOURCE_EXHAUSTED", kResourceExhausted, 429)             \
  X(kTooManyAttempts, "TOO_MANY_ATTEMPTS", kResourceExhausted, 429)                \
  X(kRateLimited, "RATE_LIMITED", kResourceExhausted, 429)                         \
  X(kQuotaExceeded, "QUOTA_EXCEEDED", kResourceExhausted, 429)                     \
  X(kHeadersTooLarge, "HEADERS_TOO_LARGE", kInvalidArgument, 431)                  \
  X(kInternal, "INTERNAL", kInternal, 500)                                         \
  X(kNotImplemented, "NOT_IMPLEMENTED", kUnimplemented, 501)                       \
  X(kUnavailable, "UNAVAILABLE", kUnavailable, 503)                                \
  X(kModelNotReady, "MODEL_NOT_READY", kUnavailable, 503)                          \
  X(kQueueFull, "QUEUE_FULL", kUnavailable, 503)                                   \
  X(kOverloaded, "OVERLOADED", kUnavailable, 503)                                  \
  X(kUsageNotRecorded, "USAGE_NOT_RECORDED", kUnavailable, 503)                    \
  X(kShuttingDown, "SHUTTING_DOWN", kUnavailable, 503)                             \
  X(kTimeout, "TIMEOUT", kDeadlineExceeded, 504)

enum class ErrorCode {
#define CINFER_ERROR_ENUMERATOR(id, name, status_code, http) id,
  CINFER_ERROR_CODES(CINFER_ERROR_ENUMERATOR)
#undef CINFER_ERROR_ENUMERATOR
};

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view name;  // on the wire: {"error": {"code": name}}
  absl::StatusCode status_code;
  int http_status;
};

// The whole table, in declaration order.
std::span<const ErrorCodeInfo> AllErrorCodes();
const ErrorCodeInfo& InfoOf(ErrorCode code);
std::optional<ErrorCode> ErrorCodeNamed(std::string_view name);
// The code a status with no code of its own is answered with (NOT_FOUND for kNotFound, ...).
ErrorCode DefaultErrorCode(absl::StatusCode status_code);

}  // namespace cinfer
