// The one table of which role each admin route needs (docs/SECURITY.md lists
// it; api/openapi.yaml repeats it per operation as x-required-role).
//   viewer: every read; operator: models, tokens and logs changes;
//   admin: users and configuration.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "http/router.h"

namespace cinfer::api {

// Sets `permission` on every AuthScope::kAdmin route from the table; an admin
// route the table does not name is an error (a new route must choose a role).
absl::Status AssignRouteRoles(std::vector<http::Route>& routes);

// Whether the table opens `route` to a user who must change their password
// first (auth/me, auth/password, auth/logout); every other route answers 403
// PASSWORD_CHANGE_REQUIRED to them.
bool OpenBeforePasswordChange(const http::Route& route);

}  // namespace cinfer::api
