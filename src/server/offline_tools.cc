#include "server/offline_tools.h"

#include "api/routes.h"
#include "auth/admin_auth_service.h"
#include "auth/password_hasher.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "storage/sqlite/sqlite_database.h"

namespace cinfer {

absl::StatusOr<std::vector<RouteInfo>> ListRoutes() {
  // The handlers capture null services; they are listed, never called.
  ASSIGN_OR_RETURN(
      std::vector<http::Route> routes,
      api::BuildRoutes(api::SystemDeps{}, nullptr, api::ModelRoutesOptions{}, api::AppDeps{}));
  std::vector<RouteInfo> out;
  for (const auto& r : routes) {
    if (r.fallback) continue;
    const char* auth = r.scope == http::AuthScope::kAdmin      ? "admin"
                       : r.scope == http::AuthScope::kApiToken ? "api_token"
                                                               : "public";
    out.push_back({r.method, r.pattern, auth, r.permission});
  }
  return out;
}

absl::Status ResetAdminPassword(const Config& config, const std::string& username,
                                const std::string& password) {
  const std::string& data_dir = config.server.data_dir;
  RETURN_IF_ERROR(EnsureDirectory(data_dir, 0700));
  ASSIGN_OR_RETURN(auto db, SqliteDatabase::Open({.path = data_dir + "/cinfer.db"}));
  ASSIGN_OR_RETURN(auto hasher, PasswordHasher::Create(
                                    {.max_concurrent = config.auth.password_hash_concurrency}));
  SystemClock clock;
  // Sessions and login throttling play no part in a reset: no JWT codec, no throttle.
  ASSIGN_OR_RETURN(auto auth, AdminAuthService::Create({.users = db.get(),
                                                        .sessions = db.get(),
                                                        .audit = db.get(),
                                                        .hasher = hasher.get(),
                                                        .jwt = nullptr,
                                                        .throttle = nullptr,
                                                        .clock = &clock},
                                                       data_dir + "/setup-code",
                                                       /*issue_setup_code=*/false));
  return auth->ResetPassword(username, password);
}

}  // namespace cinfer
