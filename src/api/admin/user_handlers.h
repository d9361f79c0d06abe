// Admin user routes (/api/v1/internal/users, admin role): list, create, get,
// change role/status, disable, enable, delete, reset another user's password.
#pragma once

#include <vector>

#include "auth/user_service.h"
#include "http/router.h"

namespace cinfer::api {

void AddUserRoutes(UserService* users, std::vector<http::Route>& routes);

}  // namespace cinfer::api
