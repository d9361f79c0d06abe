// BackupSqliteFile: a consistent copy of a live SQLite database through SQLite's
// online backup API, for `cinfer admin backup` while the server serves.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace cinfer {

struct SqliteBackupOptions {
  int pages_per_step = 256;
  // Slept before stepping again after SQLITE_BUSY or SQLITE_LOCKED.
  std::chrono::milliseconds busy_pause{20};
  // DeadlineExceeded when the copy has not finished by then.
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  // Called after each step with the pages left and the pages in all.
  std::function<void(int remaining, int total)> on_step;
};

struct SqliteBackupResult {
  int64_t pages = 0;  // pages in the copy
  int64_t bytes = 0;  // size of the copy
};

// Copies the database `src` (opened read-only, never written) into the new file
// `dst` (AlreadyExists when it exists), `pages_per_step` pages at a time. The
// copy is written beside `dst` under a temporary name, must pass PRAGMA
// integrity_check (DataLoss otherwise), gets mode 0600 and is renamed to `dst`;
// on any failure nothing is left at `dst` or beside it. Only the main file is
// written: the copy needs no -wal or -shm file.
//
// A WAL source is read in one read transaction from the first step to the last:
// the copy is the database as it was when the backup started, and writers (they
// append to the WAL) never wait for it. Any other source is locked only during
// a step; a write by another connection between steps restarts the copy, which
// then shows a later state, still a consistent one.
absl::StatusOr<SqliteBackupResult> BackupSqliteFile(const std::string& src, const std::string& dst,
                                                    const SqliteBackupOptions& options = {});

}  // namespace cinfer
