// Admin session routes: login, logout, me, password change.
#pragma once

#include <vector>

#include "auth/admin_auth_service.h"
#include "http/router.h"

namespace cinfer::api {

void AddAuthRoutes(AdminAuthService* auth, std::vector<http::Route>& routes);

}  // namespace cinfer::api
