// SqliteDatabase's connections: opening the file (WAL, pragmas), the reader
// connection, migrations and transactions. The stores' methods live in files
// of their own: sqlite_users.cc, sqlite_sessions.cc, sqlite_audit.cc,
// sqlite_models.cc, sqlite_inference_logs.cc, sqlite_tokens.cc and the
// read-only sqlite_admin_queries.cc.
#include "storage/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <algorithm>

#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/migrations/sqlite_migrations.h"
#include "storage/sqlite/statement.h"

namespace cinfer {

using sqlite::Statement;

absl::StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const Options& options) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(options.path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status st = sqlite::SqliteError(raw, rc, StrCat("open ", options.path));
    sqlite3_close(raw);
    return st;
  }
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw, options.writer_busy_timeout_ms));
  sqlite3_busy_timeout(raw, options.writer_busy_timeout_ms);
  {
    MutexLock lock(&db->mu_);
    RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL"));
    RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  }
  RETURN_IF_ERROR(db->Migrate());
  RETURN_IF_ERROR(db->OpenReader(options.path, options.busy_timeout_ms));
  return db;
}

absl::Status SqliteDatabase::OpenReader(const std::string& path, int busy_timeout_ms) {
  MutexLock lock(&reader_mu_);
  int rc = sqlite3_open_v2(path.c_str(), &reader_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) return sqlite::SqliteError(reader_, rc, StrCat("open reader ", path));
  sqlite3_busy_timeout(reader_, busy_timeout_ms);
  return absl::OkStatus();
}

SqliteDatabase::~SqliteDatabase() {
  hot_.reset();  // its statements are finalized before the connection closes
  sqlite3_close(reader_);
  sqlite3_close(db_);
}

absl::Status SqliteDatabase::Exec(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    return sqlite::SqliteError(db_, rc, "sqlite");  // BUSY: UNAVAILABLE, FULL: RESOURCE_EXHAUSTED
  }
  return absl::OkStatus();
}

namespace {

// FAILED_PRECONDITION when `db` has migrations this binary does not know: a newer
// release wrote it, and running on would misread it.
absl::Status RefuseNewerSchema(sqlite3* db) {
  int known = 0;
  for (const Migration& m : SqliteMigrations()) known = std::max(known, m.version);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(
                                    db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(bool row, q.Step());
  const int64_t applied = row ? q.ColumnInt(0) : 0;
  if (applied <= known) return absl::OkStatus();
  return absl::FailedPreconditionError(StrCat(
      "the database schema is at migration ", applied, ", newer than this cinfer knows (", known,
      "): it was written by a newer release. Run that release, or restore the "
      "backup taken before the upgrade (docs/DEPLOY.md)"));
}

}  // namespace

absl::Status SqliteDatabase::Migrate() {
  MutexLock lock(&mu_);
  RETURN_IF_ERROR(Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')))"));
  RETURN_IF_ERROR(RefuseNewerSchema(db_));
  for (const Migration& m : SqliteMigrations()) {
    absl::Status st = InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      ASSIGN_OR_RETURN(
          Statement check,
          Statement::Prepare(db_, "SELECT 1 FROM schema_migrations WHERE version = ?"));
      check.Bind(1, static_cast<int64_t>(m.version));
      ASSIGN_OR_RETURN(bool applied, check.Step());
      if (applied) return absl::OkStatus();
      RETURN_IF_ERROR(Exec(m.sql));
      ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(db_,
                                                         "INSERT INTO schema_migrations(version, "
                                                         "name) VALUES (?, ?)"));
      return ins.Bind(1, static_cast<int64_t>(m.version)).Bind(2, m.name).Run();
    });
    if (!st.ok()) {
      return absl::InternalError(
          StrCat("migration ", m.version, " (", m.name, "): ", st.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SqliteDatabase::SchemaVersion() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<int>(q.ColumnInt(0)) : 0;
}

absl::Status SqliteDatabase::InTransaction(const std::function<absl::Status()>& body) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status st = body();
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

}  // namespace cinfer
