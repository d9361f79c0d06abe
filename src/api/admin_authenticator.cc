#include "api/admin_authenticator.h"

#include "api/route_roles.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer::api {

std::optional<std::string_view> BearerToken(const http::Request& request) {
  auto header = request.Header("authorization");
  if (!header.has_value()) return std::nullopt;
  std::string_view value = Trim(*header);
  if (value.size() < 7 || !EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
    return std::nullopt;
  }
  return Trim(value.substr(7));
}

absl::Status AdminAuthenticator::Authenticate(http::Request& request) {
  auto token = BearerToken(request);
  if (!token.has_value() || token->empty()) {
    return UnauthenticatedError("missing bearer token");
  }
  ASSIGN_OR_RETURN(Principal who, auth_->Authenticate(*token));
  request.identity = std::move(who);
  return absl::OkStatus();
}

absl::Status AdminAuthenticator::Authorize(const http::Request& request, const http::Route& route) {
  const Principal& who = AdminOf(request);
  if (who.must_change_password && !OpenBeforePasswordChange(route)) {
    return MakeError(ErrorCode::kPasswordChangeRequired,
                     "an administrator reset this password: change it first "
                     "(POST /api/v1/internal/auth/password)");
  }
  const std::optional<Role> need = ParseRole(route.permission);
  if (!need.has_value()) return absl::InternalError("admin route without a role");
  if (!RoleAllows(who.role, *need)) {
    return MakeError(ErrorCode::kForbidden, StrCat("this needs the ", route.permission,
                                                   " role; yours is ", RoleName(who.role)));
  }
  return absl::OkStatus();
}

const Principal& AdminOf(const http::Request& request) {
  return *std::any_cast<Principal>(&request.identity);
}

Actor ActorOf(const http::Request& request) {
  const Principal& who = AdminOf(request);
  return {who.username, who.user_id, request.client_ip};
}

}  // namespace cinfer::api
