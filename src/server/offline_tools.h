// The command-line tools that work without a running server. Each constructs only what
// it needs: `cinfer routes` no database at all, `cinfer admin reset-password` the
// database, the password hasher and the admin auth service (no engines, no writer
// threads, no listener), `cinfer admin backup` files and a read-only connection.
#pragma once

#include <cstdint>
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

struct DataDirBackup {
  std::string output;    // the backup directory
  int64_t files = 0;     // files written, the database included
  int64_t bytes = 0;     // their size together
  int64_t db_pages = 0;  // pages of the database copy
  int64_t ms = 0;        // how long it took
};

// A copy of what a restore needs from `config.server.data_dir`, taken while a server
// may be serving from it, into `output_dir`: cinfer.db through SQLite's online backup
// API (a consistent snapshot that needs no -wal or -shm file), the model files
// (<data_dir>/models, or models.storage_path) into <output_dir>/models, and jwt-secret
// and config-override.yaml when present. Left out: setup-code, tmp/ (the upload
// spool), the -wal and -shm files and anything else. `output_dir` must not exist or be
// empty, nor lie inside the models directory or the spool (FailedPrecondition, and
// nothing is touched); on any later failure everything written is removed.
absl::StatusOr<DataDirBackup> BackupDataDir(const Config& config, const std::string& output_dir);

}  // namespace cinfer
