// Admin log routes: the inference log listing (filtered, paginated, newest
// first), per-model statistics over a time window, the dashboard's overview and
// the audit log.
#pragma once

#include <vector>

#include "common/clock.h"
#include "http/router.h"
#include "storage/database.h"

namespace cinfer::api {

// Not owned; must outlive the routes. The clock ends the default windows.
struct LogRouteDeps {
  InferenceLogStore* logs = nullptr;
  ModelStore* models = nullptr;
  AuditStore* audit = nullptr;
  const Clock* clock = nullptr;
};

// Admin-only: GET /api/v1/internal/logs, /models/{id}/stats, /stats/overview
// (the dashboard) and /audit.
void AddLogRoutes(const LogRouteDeps& deps, std::vector<http::Route>& routes);

}  // namespace cinfer::api
