// AdminAuthenticator: the routing stage for AuthScope::kAdmin. Accepts
// "Authorization: Bearer <session JWT>", stores the Principal in
// request.identity, and checks the route's role. Thread-safe.
#pragma once

#include "auth/admin_auth_service.h"
#include "common/actor.h"
#include "http/router.h"

namespace cinfer::api {

class AdminAuthenticator final : public http::Authenticator {
 public:
  explicit AdminAuthenticator(AdminAuthService* auth) : auth_(auth) {}
  absl::Status Authenticate(http::Request& request) override;
  // The route's permission names the least role (api/route_roles.h): 403
  // FORBIDDEN below it; 403 PASSWORD_CHANGE_REQUIRED on every route but
  // auth/me, auth/password and auth/logout while a reset password is unchanged.
  absl::Status Authorize(const http::Request& request, const http::Route& route) override;

 private:
  AdminAuthService* auth_;
};

// The "Bearer" credential of the Authorization header, if any.
std::optional<std::string_view> BearerToken(const http::Request& request);
// The admin Principal set by AdminAuthenticator.
const Principal& AdminOf(const http::Request& request);
// The admin who made the request, for the audit log.
Actor ActorOf(const http::Request& request);

}  // namespace cinfer::api
