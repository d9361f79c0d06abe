// System routes: health, first-run setup, system info, the OpenAPI contract,
// the API reference page, and the console's landing page.
#pragma once

#include <string>
#include <vector>

#include "auth/admin_auth_service.h"
#include "common/clock.h"
#include "common/readiness.h"
#include "http/router.h"

namespace cinfer::api {

// Static files served from memory, loaded once at start.
struct StaticAssets {
  std::string openapi_yaml;
  std::string docs_html;
  std::string redoc_js;
  std::string index_html;
};

struct SystemDeps {
  AdminAuthService* auth;
  const Readiness* readiness;
  const Clock* clock;
  Clock::TimePoint started_at;
  std::string data_dir;
  std::vector<std::string> engines;  // compiled in
  const StaticAssets* assets;
};

void AddSystemRoutes(const SystemDeps& deps, std::vector<http::Route>& routes);

}  // namespace cinfer::api
