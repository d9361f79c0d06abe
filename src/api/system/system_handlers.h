// System routes: health, first-run setup, system info, the OpenAPI contract,
// the API reference page, and the web console (its files, and index.html for
// every client-side route).
#pragma once

#include <string>
#include <vector>

#include "api/system/console_assets.h"
#include "auth/admin_auth_service.h"
#include "common/clock.h"
#include "common/readiness.h"
#include "config/runtime_config.h"
#include "engines/engine_registry.h"
#include "http/router.h"
#include "logs/inference_log_writer.h"
#include "storage/database.h"

namespace cinfer::api {

// Static files served from memory, loaded once at start.
struct StaticAssets {
  std::string openapi_yaml;
  std::string docs_html;
  std::string redoc_js;
  std::string index_html;  // the placeholder shown when the console is not installed
  ConsoleAssets console;
};

struct SystemDeps {
  AdminAuthService* auth;
  const Readiness* readiness;
  const Clock* clock;
  Clock::TimePoint started_at;
  std::string data_dir;
  const EngineRegistry* engines = nullptr;  // every engine and its plugin state
  const StaticAssets* assets;
  RuntimeConfig* runtime;  // /system/config; pending restart keys in /system/info
  AuditStore* audit;
  const InferenceLogWriter* log_writer;  // written/dropped counts in /system/info
  bool metrics_enabled = true;           // GET /metrics (metrics.enabled)
  const Metrics* metrics = nullptr;      // what it renders
  std::string metrics_token;             // its optional scrape token
};

void AddSystemRoutes(const SystemDeps& deps, std::vector<http::Route>& routes);

}  // namespace cinfer::api
