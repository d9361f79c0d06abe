// SqliteDatabase's sessions: revoked admin sessions (logout), kept until they
// would have expired anyway.
#include "common/status_macros.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/sqlite/statement.h"

namespace cinfer {

using sqlite::Statement;

absl::Status SqliteDatabase::RevokeSession(std::string_view jti, int64_t expires_at_unix) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_,
                                                   "INSERT OR IGNORE INTO revoked_sessions "
                                                   "(jti, expires_at) VALUES (?, ?)"));
  return q.Bind(1, jti).Bind(2, expires_at_unix).Run();
}

absl::StatusOr<bool> SqliteDatabase::IsSessionRevoked(std::string_view jti) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, "SELECT 1 FROM revoked_sessions WHERE jti = ?"));
  q.Bind(1, jti);
  return q.Step();
}

absl::Status SqliteDatabase::PurgeExpiredRevocations(int64_t now_unix) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, "DELETE FROM revoked_sessions WHERE expires_at < ?"));
  return q.Bind(1, now_unix).Run();
}

}  // namespace cinfer
