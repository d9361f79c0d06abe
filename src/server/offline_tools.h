// The command-line tools that work without a running server. Each constructs only what
// it needs: `cinfer routes` no database at all, `cinfer admin reset-password` the
// database, the password hasher and the admin auth service (no engines, no writer
// threads, no listener).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace cinfer {

struct RouteInfo {
  std::string method;
  std::string pattern;
  std::string auth;  // "public", "admin" or "api_token"
  std::string role;  // admin routes: the least role; empty otherwise
};

// Every route the server serves (console fallback routes excepted), from the same
// table the server builds, with no service behind it.
absl::StatusOr<std::vector<RouteInfo>> ListRoutes();

// Sets `username`'s password (strength rules apply) and revokes its sessions, in the
// database under `config.server.data_dir` (migrated first, as at start-up); audited as
// actor "cli".
absl::Status ResetAdminPassword(const Config& config, const std::string& username,
                                const std::string& password);

}  // namespace cinfer
