// AdminAuthenticator: the routing stage for AuthScope::kAdmin. Accepts
// "Authorization: Bearer <admin JWT>" and stores the Principal in
// request.identity. Thread-safe.
#pragma once

#include "auth/admin_auth_service.h"
#include "common/actor.h"
#include "http/router.h"

namespace cinfer::api {

class AdminAuthenticator final : public http::Authenticator {
 public:
  explicit AdminAuthenticator(AdminAuthService* auth) : auth_(auth) {}
  absl::Status Authenticate(http::Request& request) override;

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
