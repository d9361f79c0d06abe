// Runtime configuration (design §4.5.4): GET and PATCH
// /api/v1/internal/system/config. Admin only (route_roles.cc).
#pragma once

#include <vector>

#include "common/clock.h"
#include "config/runtime_config.h"
#include "http/router.h"
#include "storage/database.h"

namespace cinfer::api {

void AddConfigRoutes(RuntimeConfig* runtime, AuditStore* audit, const Clock* clock,
                     std::vector<http::Route>& routes);

}  // namespace cinfer::api
