// SqliteDatabase's users: setup's first administrator, the users of the admin
// API, credentials and login bookkeeping. The "at least one active admin"
// rule is checked inside the transaction that would break it.
#include <sqlite3.h>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/sqlite/statement.h"

namespace cinfer {
namespace {

using sqlite::Statement;

constexpr std::string_view kUserColumns =
    "id, username, password_hash, is_admin, token_version, created_at, last_login, status, "
    "role, must_change_password, failed_logins, last_failed_login, updated_at";

UserRecord ReadUser(const Statement& q) {
  UserRecord u;
  u.id = q.ColumnText(0);
  u.username = q.ColumnText(1);
  u.password_hash = q.ColumnText(2);
  u.is_admin = q.ColumnInt(3) != 0;
  u.token_version = q.ColumnInt(4);
  u.created_at = q.ColumnText(5);
  u.last_login = q.ColumnOptionalText(6);
  u.status = q.ColumnText(7);
  u.role = q.ColumnText(8);
  u.must_change_password = q.ColumnInt(9) != 0;
  u.failed_logins = q.ColumnInt(10);
  u.last_failed_login = q.ColumnOptionalText(11);
  u.updated_at = q.ColumnText(12);
  return u;
}

absl::Status LastAdminError() {
  return MakeError(ErrorCode::kLastAdmin,
                   "the last active administrator cannot be disabled, demoted or deleted");
}

absl::Status InsertUser(sqlite3* db, const UserRecord& u) {
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(
                                    db,
                                    "INSERT INTO users (id, username, password_hash, is_admin, "
                                    "role, token_version, created_at, updated_at, status, "
                                    "must_change_password) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)"));
  return q.Bind(1, u.id)
      .Bind(2, u.username)
      .Bind(3, u.password_hash)
      .Bind(4, int64_t{u.role == "admin"})
      .Bind(5, u.role)
      .Bind(6, u.created_at)
      .Bind(7, u.created_at)
      .Bind(8, u.status)
      .Bind(9, int64_t{u.must_change_password})
      .Run();
}

}  // namespace

absl::StatusOr<bool> SqliteDatabase::HasAdmin() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, "SELECT 1 FROM users WHERE is_admin = 1 LIMIT 1"));
  return q.Step();
}

absl::Status SqliteDatabase::CreateFirstAdmin(const UserRecord& admin) {
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(Statement q,
                     Statement::Prepare(db_, "SELECT 1 FROM users WHERE is_admin = 1 LIMIT 1"));
    ASSIGN_OR_RETURN(bool exists, q.Step());
    if (exists) return absl::AlreadyExistsError("an administrator already exists");
    UserRecord first = admin;
    first.role = "admin";
    first.status = "active";
    first.must_change_password = false;
    return InsertUser(db_, first);
  });
}

absl::StatusOr<std::optional<UserRecord>> SqliteDatabase::FindUser(std::string_view column,
                                                                   std::string_view value) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(
                       db_, StrCat("SELECT ", kUserColumns, " FROM users WHERE ", column, " = ?")));
  q.Bind(1, value);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<UserRecord>();
  return std::optional<UserRecord>(ReadUser(q));
}

absl::StatusOr<std::optional<UserRecord>> SqliteDatabase::FindUserByUsername(
    std::string_view name) {
  return FindUser("username", name);
}

absl::StatusOr<std::optional<UserRecord>> SqliteDatabase::FindUserById(std::string_view id) {
  return FindUser("id", id);
}

absl::StatusOr<std::vector<UserRecord>> SqliteDatabase::ListUsers() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, StrCat("SELECT ", kUserColumns,
                                                               " FROM users ORDER BY username")));
  std::vector<UserRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadUser(q));
  }
  return out;
}

absl::Status SqliteDatabase::CreateUser(const UserRecord& u) {
  MutexLock lock(&mu_);
  absl::Status st = InsertUser(db_, u);
  if (!st.ok() && sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE) {
    return absl::AlreadyExistsError(StrCat("a user named '", u.username, "' exists"));
  }
  return st;
}

absl::Status SqliteDatabase::RequireActiveAdmin() {
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_,
                                                   "SELECT 1 FROM users WHERE role = 'admin' AND "
                                                   "status = 'active' LIMIT 1"));
  ASSIGN_OR_RETURN(bool any, q.Step());
  return any ? absl::OkStatus() : LastAdminError();
}

absl::Status SqliteDatabase::UpdateUser(const UserRecord& u) {
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(Statement q,
                     Statement::Prepare(db_,
                                        "UPDATE users SET token_version = token_version + "
                                        "(role != ?1 OR status != ?2), role = ?1, is_admin = ?3, "
                                        "status = ?2, must_change_password = ?4, updated_at = ?5 "
                                        "WHERE id = ?6"));
    RETURN_IF_ERROR(q.Bind(1, u.role)
                        .Bind(2, u.status)
                        .Bind(3, int64_t{u.role == "admin"})
                        .Bind(4, int64_t{u.must_change_password})
                        .Bind(5, u.updated_at)
                        .Bind(6, u.id)
                        .Run());
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such user");
    return RequireActiveAdmin();
  });
}

absl::Status SqliteDatabase::DeleteUser(std::string_view id) {
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    // Models and tokens keep their created_by history without the user.
    for (const char* sql : {"UPDATE models SET created_by = NULL WHERE created_by = ?",
                            "UPDATE model_versions SET created_by = NULL WHERE created_by = ?",
                            "UPDATE tokens SET created_by = NULL WHERE created_by = ?"}) {
      ASSIGN_OR_RETURN(Statement clear, Statement::Prepare(db_, sql));
      RETURN_IF_ERROR(clear.Bind(1, id).Run());
    }
    ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, "DELETE FROM users WHERE id = ?"));
    RETURN_IF_ERROR(q.Bind(1, id).Run());
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such user");
    return RequireActiveAdmin();
  });
}

absl::Status SqliteDatabase::UpdatePassword(std::string_view user_id, std::string_view hash,
                                            bool must_change) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_,
                                      "UPDATE users SET password_hash = ?, must_change_password = "
                                      "?, token_version = token_version + 1 WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, hash).Bind(2, int64_t{must_change}).Bind(3, user_id).Run());
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such user");
  return absl::OkStatus();
}

absl::Status SqliteDatabase::RecordLogin(std::string_view user_id, std::string_view at) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_,
                                                   "UPDATE users SET last_login = ?, "
                                                   "failed_logins = 0 WHERE id = ?"));
  return q.Bind(1, at).Bind(2, user_id).Run();
}

absl::Status SqliteDatabase::RecordFailedLogin(std::string_view user_id, std::string_view at) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_,
                                                   "UPDATE users SET failed_logins = "
                                                   "failed_logins + 1, last_failed_login = ? "
                                                   "WHERE id = ?"));
  return q.Bind(1, at).Bind(2, user_id).Run();
}

}  // namespace cinfer
