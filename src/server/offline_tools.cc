#include "server/offline_tools.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "api/routes.h"
#include "auth/admin_auth_service.h"
#include "auth/password_hasher.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/sqlite/sqlite_backup.h"
#include "storage/sqlite/sqlite_database.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;

constexpr char kDatabaseFile[] = "cinfer.db";
// Copied when present. Not setup-code: a server without an administrator writes a
// new one at start.
constexpr const char* kDataFiles[] = {"jwt-secret", "config-override.yaml"};
constexpr fs::perms kOwnerFile = fs::perms::owner_read | fs::perms::owner_write;

fs::path ModelsDir(const Config& config) {
  return config.models.storage_path.empty() ? fs::path(config.server.data_dir) / "models"
                                            : fs::path(config.models.storage_path);
}

bool IsWithin(const fs::path& path, const fs::path& dir) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec);
  fs::path d = fs::weakly_canonical(dir, ec);
  if (d.filename().empty()) d = d.parent_path();  // a trailing '/'
  return std::mismatch(d.begin(), d.end(), p.begin(), p.end()).first == d.end();
}

absl::Status Sync(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(StrCat("cannot open ", path.string()));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(StrCat("cannot sync ", path.string()));
  return absl::OkStatus();
}

absl::Status MakeDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec) fs::permissions(dir, fs::perms::owner_all, ec);
  if (ec) return absl::InternalError(StrCat("cannot create ", dir.string(), ": ", ec.message()));
  return absl::OkStatus();
}

// The output directory, created with its missing parents when missing: the
// topmost directory this call created, or an empty path when `out` existed.
absl::StatusOr<fs::path> PrepareOutput(const fs::path& out) {
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);
  if (!fs::exists(st)) {
    fs::path top = out;
    while (top.has_parent_path() && top.parent_path() != top &&
           !fs::exists(top.parent_path(), ec)) {
      top = top.parent_path();
    }
    RETURN_IF_ERROR(MakeDir(out));
    return top;
  }
  if (!fs::is_directory(st)) {
    return absl::FailedPreconditionError(StrCat(out.string(), " exists and is not a directory"));
  }
  if (!fs::is_empty(out, ec) || ec) {
    return absl::FailedPreconditionError(
        StrCat(out.string(), " is not empty; give a new or an empty directory"));
  }
  return fs::path();
}

// Removes what a failed backup wrote: the directories it created, or what it
// wrote into the empty `out` it was given.
void RemoveOutput(const fs::path& out, const fs::path& created) {
  std::error_code ec;
  if (!created.empty()) {
    fs::remove_all(created, ec);
    return;
  }
  for (const auto& e : fs::directory_iterator(out, ec)) fs::remove_all(e.path(), ec);
}

// Copies `from` to `to` under a temporary name, syncs it and renames it into
// place, mode 0600. NotFound when `from` vanished.
absl::Status CopyFile(const fs::path& from, const fs::path& to, DataDirBackup* summary) {
  const fs::path tmp = to.string() + ".partial";
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::permissions(tmp, kOwnerFile, ec);
  absl::Status st =
      ec ? absl::InternalError(StrCat("cannot copy ", from.string(), ": ", ec.message()))
         : Sync(tmp);
  if (st.ok()) fs::rename(tmp, to, ec);
  if (st.ok() && ec) st = absl::InternalError(StrCat("cannot rename ", tmp.string()));
  if (!st.ok()) {
    fs::remove(tmp, ec);
    if (!fs::exists(from, ec)) return absl::NotFoundError(StrCat(from.string(), " vanished"));
    return st;
  }
  summary->files += 1;
  summary->bytes += static_cast<int64_t>(fs::file_size(to, ec));
  return absl::OkStatus();
}

// Copies the files under `models_dir` that `out` does not hold yet (model files
// are written once, by a rename, and removed with their model). A file deleted
// meanwhile is skipped; symlinks and special files are not copied.
absl::Status CopyModelFiles(const fs::path& models_dir, const fs::path& out,
                            DataDirBackup* summary) {
  std::error_code ec;
  if (!fs::is_directory(models_dir, ec)) return absl::OkStatus();  // nothing stored yet
  RETURN_IF_ERROR(MakeDir(out));
  for (fs::recursive_directory_iterator it(models_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const fs::path target = out / it->path().lexically_relative(models_dir);
    std::error_code type_ec;
    const fs::file_status st = it->symlink_status(type_ec);
    if (fs::is_directory(st)) {
      RETURN_IF_ERROR(MakeDir(target));
    } else if (fs::is_regular_file(st) && !fs::exists(target, type_ec)) {
      absl::Status copied = CopyFile(it->path(), target, summary);
      if (!copied.ok() && !absl::IsNotFound(copied)) return copied;
    }
  }
  if (ec) {
    return absl::UnavailableError(StrCat("cannot list ", models_dir.string(), " (", ec.message(),
                                         "); a model deleted meanwhile? run the backup again"));
  }
  return absl::OkStatus();
}

absl::Status SyncDirectories(const fs::path& out) {
  RETURN_IF_ERROR(Sync(out));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) RETURN_IF_ERROR(Sync(it->path()));
  }
  return ec ? absl::InternalError(StrCat("cannot list ", out.string())) : absl::OkStatus();
}

// The model files go before and after the database: a file is stored before its
// row and removed after it, so every version the snapshot names has its file from
// one of the two passes (unless it was also deleted during the backup).
absl::Status WriteBackup(const fs::path& data_dir, const fs::path& models_dir, const fs::path& out,
                         DataDirBackup* summary) {
  RETURN_IF_ERROR(CopyModelFiles(models_dir, out / "models", summary));
  ASSIGN_OR_RETURN(SqliteBackupResult db, BackupSqliteFile((data_dir / kDatabaseFile).string(),
                                                           (out / kDatabaseFile).string()));
  summary->files += 1;
  summary->bytes += db.bytes;
  summary->db_pages = db.pages;
  RETURN_IF_ERROR(CopyModelFiles(models_dir, out / "models", summary));
  for (const char* name : kDataFiles) {
    std::error_code ec;
    if (!fs::is_regular_file(data_dir / name, ec)) continue;
    RETURN_IF_ERROR(CopyFile(data_dir / name, out / name, summary));
  }
  return SyncDirectories(out);
}

}  // namespace

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

absl::StatusOr<DataDirBackup> BackupDataDir(const Config& config, const std::string& output_dir) {
  const auto start = std::chrono::steady_clock::now();
  const fs::path data_dir = config.server.data_dir;
  const fs::path models_dir = ModelsDir(config);
  const fs::path out = output_dir;
  for (const fs::path& inside : {models_dir, data_dir / "tmp"}) {
    if (IsWithin(out, inside)) {
      return absl::FailedPreconditionError(
          StrCat("the backup cannot go inside ", inside.string(), ": give another directory"));
    }
  }
  std::error_code ec;
  if (!fs::is_regular_file(data_dir / kDatabaseFile, ec)) {
    return absl::FailedPreconditionError(
        StrCat("no database at ", (data_dir / kDatabaseFile).string(), " (server.data_dir)"));
  }
  ASSIGN_OR_RETURN(fs::path created, PrepareOutput(out));
  DataDirBackup summary{.output = out.string()};
  if (absl::Status st = WriteBackup(data_dir, models_dir, out, &summary); !st.ok()) {
    RemoveOutput(out, created);
    return st;
  }
  summary.ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count();
  return summary;
}

}  // namespace cinfer
