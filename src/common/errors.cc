#include "common/errors.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/strings.h"
#include "nlohmann/json.hpp"

namespace cinfer {
namespace {

constexpr absl::string_view kCodeUrl = "cinfer/error_code";
constexpr absl::string_view kRetryUrl = "cinfer/retry_after";
constexpr absl::string_view kDetailsUrl = "cinfer/details";
constexpr absl::string_view kHiddenUrl = "cinfer/hidden_detail";

bool IsIpLiteral(std::string_view token) {
  for (char c : token) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.' && c != '/' &&
        c != '%') {
      return false;
    }
  }
  return true;
}

// True for tokens that name the inside of a library rather than the input.
bool IsInternalToken(std::string_view token) {
  std::string_view core = token;
  while (!core.empty() &&
         std::string_view("'\"([{<`").find(core.front()) != std::string_view::npos) {
    core.remove_prefix(1);
  }
  if (core.starts_with("Name:'") || core.starts_with("name:'")) return true;
  for (std::string_view ext : {".cc:", ".h:", ".cpp:", ".hpp:", ".cxx:", ".c:"}) {
    if (core.find(ext) != std::string_view::npos) return true;
  }
  // std:: exception names (std::bad_alloc) say what happened, not where.
  if (core.find("std::") != std::string_view::npos && core.find('(') == std::string_view::npos) {
    return false;
  }
  return core.find("::") != std::string_view::npos && !IsIpLiteral(core);
}

bool IsPathToken(std::string_view token) {
  const size_t slash = token.find('/');
  if (slash == std::string_view::npos || slash + 1 >= token.size()) return false;
  // "/x..." or a path after an opening quote or bracket, or "file:/x".
  for (size_t i = 0; i < slash; ++i) {
    if (std::string_view("'\"([{<`=:").find(token[i]) == std::string_view::npos) return false;
  }
  const char next = token[slash + 1];
  if (!std::isalnum(static_cast<unsigned char>(next)) && next != '.' && next != '_' &&
      next != '-' && next != '/') {
    return false;
  }
  // "/128" or "/8" (a CIDR prefix) is no path: a path names something.
  return std::any_of(token.begin() + static_cast<std::ptrdiff_t>(slash), token.end(),
                     [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

}  // namespace

absl::Status WithHiddenDetail(const absl::Status& status, std::string_view public_message) {
  absl::Status out(status.code(), ToAbsl(public_message));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  if (!out.GetPayload(kHiddenUrl).has_value()) {
    out.SetPayload(kHiddenUrl, absl::Cord(status.message()));
  }
  return out;
}

std::optional<std::string> HiddenDetailOf(const absl::Status& status) {
  if (auto payload = status.GetPayload(kHiddenUrl); payload.has_value()) {
    return std::string(*payload);
  }
  return std::nullopt;
}

std::string ScrubInternals(std::string_view message) {
  std::string out;
  int open_parens = 0;  // inside a dropped signature's parameter list
  size_t pos = 0;
  while (pos < message.size()) {
    while (pos < message.size() && std::isspace(static_cast<unsigned char>(message[pos]))) ++pos;
    size_t end = pos;
    while (end < message.size() && !std::isspace(static_cast<unsigned char>(message[end]))) ++end;
    if (end == pos) break;
    std::string_view token = message.substr(pos, end - pos);
    pos = end;
    const int balance = static_cast<int>(std::count(token.begin(), token.end(), '(')) -
                        static_cast<int>(std::count(token.begin(), token.end(), ')'));
    if (open_parens > 0) {
      open_parens = std::max(0, open_parens + balance);
      continue;
    }
    std::string kept;
    if (IsInternalToken(token)) {
      open_parens = std::max(0, balance);
      continue;
    }
    kept = IsPathToken(token) ? "<path>" : std::string(token);
    if (!out.empty()) out += ' ';
    out += kept;
  }
  return out;
}

absl::Status MakeError(ErrorCode code, std::string_view message) {
  const ErrorCodeInfo& info = InfoOf(code);
  absl::Status status(info.status_code, ToAbsl(message));
  status.SetPayload(kCodeUrl, absl::Cord(ToAbsl(info.name)));
  return status;
}

ErrorCode ErrorCodeEnumOf(const absl::Status& status) {
  if (auto payload = status.GetPayload(kCodeUrl); payload.has_value()) {
    if (auto code = ErrorCodeNamed(std::string(*payload)); code.has_value()) return *code;
  }
  return DefaultErrorCode(status.code());
}

std::string ErrorCodeOf(const absl::Status& status) {
  return std::string(InfoOf(ErrorCodeEnumOf(status)).name);
}

bool HasErrorCode(const absl::Status& status, ErrorCode code) {
  return !status.ok() && ErrorCodeEnumOf(status) == code;
}

int HttpStatusFor(const absl::Status& status) {
  return status.ok() ? 200 : InfoOf(ErrorCodeEnumOf(status)).http_status;
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
  return MakeError(ErrorCode::kInvalidJson, message);
}
absl::Status ValidationError(std::string_view message) {
  return MakeError(ErrorCode::kValidationFailed, message);
}
absl::Status FieldValidationError(std::string_view field, std::string_view message) {
  return WithField(ValidationError(message), field);
}
absl::Status WithField(absl::Status status, std::string_view field) {
  return WithDetails(std::move(status), nlohmann::json{{"field", field}}.dump());
}
absl::Status UnauthenticatedError(std::string_view message) {
  return MakeError(ErrorCode::kUnauthenticated, message);
}
absl::Status ForbiddenError(std::string_view message) {
  return MakeError(ErrorCode::kForbidden, message);
}
absl::Status NotFoundError(std::string_view message) {
  return MakeError(ErrorCode::kNotFound, message);
}
absl::Status PayloadTooLargeError(std::string_view message) {
  return MakeError(ErrorCode::kPayloadTooLarge, message);
}

}  // namespace cinfer
