// BackupSqliteFile: sqlite3_backup_* from a read-only connection on the source
// into a temporary file beside the destination, PRAGMA integrity_check on the
// copy, then a rename.
#include "storage/sqlite/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/sqlite/statement.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;
using sqlite::SqliteError;
using sqlite::Statement;

// How long the source connection waits for a lock (e.g. while a WAL is recovered).
constexpr int kSourceBusyTimeoutMs = 5000;
constexpr int kMaxReportedProblems = 5;

struct CloseConnection {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, CloseConnection>;

absl::StatusOr<Connection> Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection db(raw);
  if (rc != SQLITE_OK) return SqliteError(raw, rc, StrCat("open ", path));
  return db;
}

absl::Status Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db, rc, sql);
}

// An empty file with mode 0600 (SQLite gives its journals the same mode), so the
// copy is never readable by others, not even while it is written.
absl::Status CreateEmptyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(StrCat("cannot create ", path, ": ", strerror(errno)));
  ::close(fd);
  return absl::OkStatus();
}

void RemoveWithSidecars(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path + suffix, ec);
}

// True when `db` is in WAL mode; a read transaction is then opened and left
// open, so that every step of the backup reads the same snapshot.
absl::StatusOr<bool> HoldWalSnapshot(sqlite3* db) {
  {
    ASSIGN_OR_RETURN(Statement mode, Statement::Prepare(db, "PRAGMA journal_mode"));
    ASSIGN_OR_RETURN(bool row, mode.Step());
    if (!row || mode.ColumnText(0) != "wal") return false;
  }
  RETURN_IF_ERROR(Exec(db, "BEGIN"));
  RETURN_IF_ERROR(Exec(db, "SELECT count(*) FROM sqlite_master"));  // the read starts here
  return true;
}

absl::Status StepToEnd(sqlite3_backup* backup, const SqliteBackupOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  for (;;) {
    const int rc = sqlite3_backup_step(backup, std::max(1, options.pages_per_step));
    if (rc == SQLITE_OK || rc == SQLITE_DONE) {
      if (options.on_step) {
        options.on_step(sqlite3_backup_remaining(backup), sqlite3_backup_pagecount(backup));
      }
      if (rc == SQLITE_DONE) return absl::OkStatus();
    } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
      return SqliteError(nullptr, rc, "backup step");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          StrCat("the database backup did not finish within ", options.timeout.count(), " ms"));
    }
    if (rc != SQLITE_OK) std::this_thread::sleep_for(options.busy_pause);
  }
}

absl::Status CheckIntegrity(sqlite3* db) {
  ASSIGN_OR_RETURN(Statement check, Statement::Prepare(db, "PRAGMA integrity_check"));
  std::vector<std::string> problems;
  while (problems.size() < kMaxReportedProblems) {
    ASSIGN_OR_RETURN(bool row, check.Step());
    if (!row) break;
    std::string line = check.ColumnText(0);
    if (line != "ok") problems.push_back(std::move(line));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::DataLossError(
      StrCat("the copy fails PRAGMA integrity_check: ", Join(problems, "; ")));
}

// The backup into the new empty file `tmp`; the pages copied.
absl::StatusOr<int64_t> CopyInto(const std::string& src, const std::string& tmp,
                                 const SqliteBackupOptions& options) {
  ASSIGN_OR_RETURN(Connection from, Open(src, SQLITE_OPEN_READONLY));
  sqlite3_busy_timeout(from.get(), kSourceBusyTimeoutMs);
  ASSIGN_OR_RETURN(Connection to, Open(tmp, SQLITE_OPEN_READWRITE));
  ASSIGN_OR_RETURN(bool snapshot, HoldWalSnapshot(from.get()));
  sqlite3_backup* backup = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (backup == nullptr) return SqliteError(to.get(), sqlite3_errcode(to.get()), "backup");
  absl::Status st = StepToEnd(backup, options);
  const int64_t pages = sqlite3_backup_pagecount(backup);
  const int rc = sqlite3_backup_finish(backup);
  if (st.ok() && rc != SQLITE_OK) st = SqliteError(to.get(), rc, "backup");
  if (snapshot) (void)Exec(from.get(), "COMMIT");  // ends the read transaction
  RETURN_IF_ERROR(st);
  RETURN_IF_ERROR(CheckIntegrity(to.get()));
  return pages;
}

}  // namespace

absl::StatusOr<SqliteBackupResult> BackupSqliteFile(const std::string& src, const std::string& dst,
                                                    const SqliteBackupOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(src, ec)) return absl::NotFoundError(StrCat("no database at ", src));
  if (fs::exists(fs::symlink_status(dst, ec))) {
    return absl::AlreadyExistsError(StrCat(dst, " exists; the backup writes a new file"));
  }
  const std::string tmp = StrCat(dst, ".partial-", RandomHex(6));
  RETURN_IF_ERROR(CreateEmptyFile(tmp));
  absl::StatusOr<int64_t> pages = CopyInto(src, tmp, options);  // its connections are closed
  if (pages.ok()) {
    fs::rename(tmp, dst, ec);
    if (ec) pages = absl::InternalError(StrCat("cannot rename the copy: ", ec.message()));
  }
  if (!pages.ok()) {
    RemoveWithSidecars(tmp);
    return pages.status();
  }
  const auto bytes = fs::file_size(dst, ec);
  return SqliteBackupResult{.pages = *pages, .bytes = ec ? 0 : static_cast<int64_t>(bytes)};
}

}  // namespace cinfer
