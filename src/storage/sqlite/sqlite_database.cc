#include "storage/sqlite/sqlite_database.h"

#include <sqlite3.h>

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
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw));
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  RETURN_IF_ERROR(db->Migrate());
  return db;
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close(db_); }

absl::Status SqliteDatabase::Exec(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return absl::InternalError(StrCat("sqlite: ", msg));
  }
  return absl::OkStatus();
}

absl::Status SqliteDatabase::Migrate() {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')))"));
  for (const Migration& m : SqliteMigrations()) {
    RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    ASSIGN_OR_RETURN(Statement check,
                     Statement::Prepare(db_, "SELECT 1 FROM schema_migrations WHERE version = ?"));
    check.Bind(1, static_cast<int64_t>(m.version));
    auto applied = check.Step();
    absl::Status st = applied.status();
    if (st.ok() && !*applied) {
      st = Exec(m.sql);
      if (st.ok()) {
        auto ins =
            Statement::Prepare(db_, "INSERT INTO schema_migrations(version, name) VALUES (?, ?)");
        st = ins.ok() ? ins->Bind(1, static_cast<int64_t>(m.version)).Bind(2, m.name).Run()
                      : ins.status();
      }
    }
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return absl::InternalError(
          StrCat("migration ", m.version, " (", m.name, "): ", st.message()));
    }
    RETURN_IF_ERROR(Exec("COMMIT"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SqliteDatabase::SchemaVersion() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<int>(q.ColumnInt(0)) : 0;
}

absl::StatusOr<bool> SqliteDatabase::HasAdmin() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, "SELECT 1 FROM users WHERE is_admin = 1 LIMIT 1"));
  return q.Step();
}

absl::Status SqliteDatabase::CreateFirstAdmin(const UserRecord& admin) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto insert = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement q,
                     Statement::Prepare(db_, "SELECT 1 FROM users WHERE is_admin = 1 LIMIT 1"));
    ASSIGN_OR_RETURN(bool exists, q.Step());
    if (exists) return absl::AlreadyExistsError("an administrator already exists");
    ASSIGN_OR_RETURN(Statement ins,
                     Statement::Prepare(
                         db_,
                         "INSERT INTO users (id, username, password_hash, is_admin, "
                         "token_version, created_at, status) VALUES (?, ?, ?, 1, 0, ?, 'active')"));
    return ins.Bind(1, admin.id)
        .Bind(2, admin.username)
        .Bind(3, admin.password_hash)
        .Bind(4, admin.created_at)
        .Run();
  };
  absl::Status st = insert();
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

absl::StatusOr<std::optional<UserRecord>> SqliteDatabase::FindUser(std::string_view column,
                                                                   std::string_view value) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, StrCat("SELECT id, username, password_hash, is_admin, "
                                                  "token_version, created_at, last_login, status "
                                                  "FROM users WHERE ",
                                                  column, " = ?")));
  q.Bind(1, value);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<UserRecord>();
  UserRecord u;
  u.id = q.ColumnText(0);
  u.username = q.ColumnText(1);
  u.password_hash = q.ColumnText(2);
  u.is_admin = q.ColumnInt(3) != 0;
  u.token_version = q.ColumnInt(4);
  u.created_at = q.ColumnText(5);
  u.last_login = q.ColumnOptionalText(6);
  u.status = q.ColumnText(7);
  return std::optional<UserRecord>(std::move(u));
}

absl::StatusOr<std::optional<UserRecord>> SqliteDatabase::FindUserByUsername(
    std::string_view name) {
  return FindUser("username", name);
}

absl::StatusOr<std::optional<UserRecord>> SqliteDatabase::FindUserById(std::string_view id) {
  return FindUser("id", id);
}

absl::Status SqliteDatabase::UpdatePassword(std::string_view user_id, std::string_view hash) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_,
                                      "UPDATE users SET password_hash = ?, token_version = "
                                      "token_version + 1 WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, hash).Bind(2, user_id).Run());
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such user");
  return absl::OkStatus();
}

absl::Status SqliteDatabase::RecordLogin(std::string_view user_id, std::string_view at) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, "UPDATE users SET last_login = ? WHERE id = ?"));
  return q.Bind(1, at).Bind(2, user_id).Run();
}

absl::Status SqliteDatabase::RevokeSession(std::string_view jti, int64_t expires_at_unix) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_,
                                                   "INSERT OR IGNORE INTO revoked_sessions "
                                                   "(jti, expires_at) VALUES (?, ?)"));
  return q.Bind(1, jti).Bind(2, expires_at_unix).Run();
}

absl::StatusOr<bool> SqliteDatabase::IsSessionRevoked(std::string_view jti) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, "SELECT 1 FROM revoked_sessions WHERE jti = ?"));
  q.Bind(1, jti);
  return q.Step();
}

absl::Status SqliteDatabase::PurgeExpiredRevocations(int64_t now_unix) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, "DELETE FROM revoked_sessions WHERE expires_at < ?"));
  return q.Bind(1, now_unix).Run();
}

absl::Status SqliteDatabase::AppendAudit(const AuditEntry& e) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_,
                                      "INSERT INTO audit_log (created_at, actor, action, "
                                      "object_type, object_id, client_ip, detail) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  return q.Bind(1, e.created_at)
      .Bind(2, e.actor)
      .Bind(3, e.action)
      .Bind(4, e.object_type)
      .Bind(5, e.object_id)
      .Bind(6, e.client_ip)
      .Bind(7, e.detail.empty() ? std::string_view("{}") : std::string_view(e.detail))
      .Run();
}

absl::StatusOr<std::vector<AuditEntry>> SqliteDatabase::RecentAudit(int limit) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_,
                                      "SELECT created_at, actor, action, object_type, object_id, "
                                      "client_ip, detail FROM audit_log ORDER BY id DESC LIMIT ?"));
  q.Bind(1, static_cast<int64_t>(limit));
  std::vector<AuditEntry> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.ColumnText(0), q.ColumnText(1), q.ColumnText(2), q.ColumnText(3),
                   q.ColumnText(4), q.ColumnText(5), q.ColumnText(6)});
  }
  return out;
}

}  // namespace cinfer
