// SqliteDatabase's audit log: appends on the writer connection. The paged
// query (QueryAudit) runs on the reader connection, in sqlite_admin_queries.cc.
#include "common/status_macros.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/sqlite/statement.h"

namespace cinfer {

using sqlite::Statement;

absl::Status SqliteDatabase::AppendAudit(const AuditEntry& e) {
  MutexLock lock(&mu_);
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
  AuditFilter f;
  f.limit = limit;
  int64_t total = 0;
  return QueryAudit(f, &total);
}

}  // namespace cinfer
