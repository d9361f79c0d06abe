#include "common/error_codes.h"

#include <array>

namespace cinfer {
namespace {

constexpr std::array kTable = {
#define CINFER_ERROR_INFO(id, name, status_code, http) \
  ErrorCodeInfo{ErrorCode::id, name, absl::StatusCode::status_code, http},
    CINFER_ERROR_CODES(CINFER_ERROR_INFO)
#undef CINFER_ERROR_INFO
};

// The table is indexed by the enumerator: declaration order and enum order agree.
constexpr bool InOrder() {
  for (size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<size_t>(kTable[i].code) != i) return false;
  }
  return true;
}
static_assert(InOrder());

}  // namespace

std::span<const ErrorCodeInfo> AllErrorCodes() { return kTable; }

const ErrorCodeInfo& InfoOf(ErrorCode code) { return kTable[static_cast<size_t>(code)]; }

std::optional<ErrorCode> ErrorCodeNamed(std::string_view name) {
  for (const ErrorCodeInfo& info : kTable) {
    if (info.name == name) return info.code;
  }
  return std::nullopt;
}

ErrorCode DefaultErrorCode(absl::StatusCode status_code) {
  switch (status_code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return ErrorCode::kBadRequest;
    case absl::StatusCode::kUnauthenticated:
      return ErrorCode::kUnauthenticated;
    case absl::StatusCode::kPermissionDenied:
      return ErrorCode::kForbidden;
    case absl::StatusCode::kNotFound:
      return ErrorCode::kNotFound;
    case absl::StatusCode::kAlreadyExists:
      return ErrorCode::kAlreadyExists;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return ErrorCode::kConflict;
    case absl::StatusCode::kResourceExhausted:
      return ErrorCode::kResourceExhausted;
    case absl::StatusCode::kUnavailable:
      return ErrorCode::kUnavailable;
    case absl::StatusCode::kDeadlineExceeded:
      return ErrorCode::kTimeout;
    case absl::StatusCode::kUnimplemented:
      return ErrorCode::kNotImplemented;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace cinfer
