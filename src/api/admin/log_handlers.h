// Admin inference-log routes: the log listing (filtered, paginated, newest
// first) and per-model statistics over a time window.
#pragma once

#include <vector>

#include "common/clock.h"
#include "http/router.h"
#include "storage/database.h"

namespace cinfer::api {

// GET /api/v1/internal/logs and GET /api/v1/internal/models/{id}/stats, both
// admin-only. The stores and the clock (the stats' default window ends now)
// are not owned and must outlive the routes.
void AddLogRoutes(InferenceLogStore* logs, ModelStore* models, const Clock* clock,
                  std::vector<http::Route>& routes);

}  // namespace cinfer::api
