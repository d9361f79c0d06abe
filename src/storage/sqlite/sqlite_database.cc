#include "storage/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>

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
  sqlite3_busy_timeout(raw, options.writer_busy_timeout_ms);
  RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  RETURN_IF_ERROR(db->Migrate());
  RETURN_IF_ERROR(db->OpenReader(options.path, options.busy_timeout_ms));
  return db;
}

absl::Status SqliteDatabase::OpenReader(const std::string& path, int busy_timeout_ms) {
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
    absl::Status st = InTransaction([&]() -> absl::Status {
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
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<int>(q.ColumnInt(0)) : 0;
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
  AuditFilter f;
  f.limit = limit;
  int64_t total = 0;
  return QueryAudit(f, &total);
}

}  // namespace cinfer

namespace cinfer {
namespace {

constexpr std::string_view kModelColumns =
    "id, name, description, engine_type, config, COALESCE(io_schema, '{}'), status, "
    "status_reason, current_version, served_version, COALESCE(created_by, ''), created_at, "
    "updated_at";

ModelRecord ReadModel(const sqlite::Statement& q) {
  ModelRecord m;
  m.id = q.ColumnText(0);
  m.name = q.ColumnText(1);
  m.description = q.ColumnText(2);
  m.engine = q.ColumnText(3);
  m.config = q.ColumnText(4);
  m.io_schema = q.ColumnText(5);
  m.status = q.ColumnText(6);
  m.status_reason = q.ColumnOptionalText(7);
  m.current_version = q.ColumnInt(8);
  if (auto served = q.ColumnOptionalText(9)) m.served_version = std::stoll(*served);
  m.created_by = q.ColumnText(10);
  m.created_at = q.ColumnText(11);
  m.updated_at = q.ColumnText(12);
  return m;
}

// One model_versions row (the caller holds the lock and the transaction).
absl::Status InsertVersion(sqlite3* db, const ModelVersionRecord& v) {
  ASSIGN_OR_RETURN(
      Statement ver,
      Statement::Prepare(db,
                         "INSERT INTO model_versions (id, model_id, version, file_path, "
                         "original_filename, size_bytes, sha256, config, io_schema, created_by, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  return ver.Bind(1, v.id)
      .Bind(2, v.model_id)
      .Bind(3, v.version)
      .Bind(4, v.file_path)
      .Bind(5, v.original_filename)
      .Bind(6, v.size_bytes)
      .Bind(7, v.sha256)
      .Bind(8, v.config)
      .Bind(9, v.io_schema)
      .Bind(10, v.created_by)
      .Bind(11, v.created_at)
      .Run();
}

}  // namespace

absl::Status SqliteDatabase::InTransaction(const std::function<absl::Status()>& body) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status st = body();
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

absl::Status SqliteDatabase::CreateModel(const ModelRecord& m, const ModelVersionRecord& v) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement taken,
                     Statement::Prepare(db_, "SELECT 1 FROM models WHERE name = ?"));
    taken.Bind(1, m.name);
    ASSIGN_OR_RETURN(bool exists, taken.Step());
    if (exists) return absl::AlreadyExistsError(StrCat("a model named '", m.name, "' exists"));
    ASSIGN_OR_RETURN(
        Statement ins,
        Statement::Prepare(
            db_,
            "INSERT INTO models (id, name, description, engine_type, config, io_schema, "
            "status, status_reason, current_version, served_version, created_by, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)"));
    RETURN_IF_ERROR(ins.Bind(1, m.id)
                        .Bind(2, m.name)
                        .Bind(3, m.description)
                        .Bind(4, m.engine)
                        .Bind(5, m.config)
                        .Bind(6, m.io_schema)
                        .Bind(7, m.status)
                        .Bind(8, m.status_reason)
                        .Bind(9, m.current_version)
                        .Bind(10, m.created_by)
                        .Bind(11, m.created_at)
                        .Bind(12, m.updated_at)
                        .Run());
    return InsertVersion(db_, v);
  });
}

absl::StatusOr<std::optional<ModelRecord>> SqliteDatabase::FindModel(std::string_view id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, StrCat("SELECT ", kModelColumns,
                                                               " FROM models WHERE id = ?")));
  q.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ModelRecord>();
  return std::optional<ModelRecord>(ReadModel(q));
}

absl::StatusOr<std::vector<ModelRecord>> SqliteDatabase::ListModels(const ModelFilter& f,
                                                                    int64_t* total) {
  std::lock_guard lock(mu_);
  const std::string where =
      "WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR engine_type = ?2) AND "
      "(?3 = '' OR instr(name, ?3) > 0)";
  ASSIGN_OR_RETURN(Statement count,
                   Statement::Prepare(db_, StrCat("SELECT COUNT(*) FROM models ", where)));
  count.Bind(1, f.status).Bind(2, f.engine).Bind(3, f.name);
  ASSIGN_OR_RETURN(bool has_count, count.Step());
  *total = has_count ? count.ColumnInt(0) : 0;
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, StrCat("SELECT ", kModelColumns, " FROM models ", where,
                                                  " ORDER BY created_at DESC, rowid DESC "
                                                  "LIMIT ?4 OFFSET ?5")));
  q.Bind(1, f.status).Bind(2, f.engine).Bind(3, f.name).Bind(4, f.limit).Bind(5, f.offset);
  std::vector<ModelRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadModel(q));
  }
  return out;
}

absl::StatusOr<std::vector<ModelVersionRecord>> SqliteDatabase::ListVersions(
    std::string_view model_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_,
                                      "SELECT id, model_id, version, file_path, "
                                      "COALESCE(original_filename, ''), size_bytes, sha256, "
                                      "COALESCE(config, '{}'), COALESCE(io_schema, '{}'), "
                                      "COALESCE(created_by, ''), created_at FROM model_versions "
                                      "WHERE model_id = ? ORDER BY version"));
  q.Bind(1, model_id);
  std::vector<ModelVersionRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.ColumnText(0), q.ColumnText(1), q.ColumnInt(2), q.ColumnText(3),
                   q.ColumnText(4), q.ColumnInt(5), q.ColumnText(6), q.ColumnText(7),
                   q.ColumnText(8), q.ColumnText(9), q.ColumnText(10)});
  }
  return out;
}

absl::Status SqliteDatabase::DeleteModel(std::string_view id) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement logs,
                     Statement::Prepare(db_, "DELETE FROM inference_logs WHERE model_id = ?"));
    RETURN_IF_ERROR(logs.Bind(1, id).Run());
    ASSIGN_OR_RETURN(Statement vers,
                     Statement::Prepare(db_, "DELETE FROM model_versions WHERE model_id = ?"));
    RETURN_IF_ERROR(vers.Bind(1, id).Run());
    ASSIGN_OR_RETURN(Statement del, Statement::Prepare(db_, "DELETE FROM models WHERE id = ?"));
    RETURN_IF_ERROR(del.Bind(1, id).Run());
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such model");
    return absl::OkStatus();
  });
}

absl::Status SqliteDatabase::UpdateModel(const ModelRecord& m) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement taken,
                     Statement::Prepare(db_, "SELECT 1 FROM models WHERE name = ? AND id <> ?"));
    taken.Bind(1, m.name).Bind(2, m.id);
    ASSIGN_OR_RETURN(bool exists, taken.Step());
    if (exists) return absl::AlreadyExistsError(StrCat("a model named '", m.name, "' exists"));
    ASSIGN_OR_RETURN(
        Statement up,
        Statement::Prepare(db_,
                           "UPDATE models SET name = ?, description = ?, engine_type = ?, "
                           "config = ?, io_schema = ?, status = ?, status_reason = ?, "
                           "current_version = ?, served_version = ?, updated_at = ? WHERE id = ?"));
    up.Bind(1, m.name)
        .Bind(2, m.description)
        .Bind(3, m.engine)
        .Bind(4, m.config)
        .Bind(5, m.io_schema)
        .Bind(6, m.status)
        .Bind(7, m.status_reason)
        .Bind(8, m.current_version);
    if (m.served_version.has_value()) {
      up.Bind(9, *m.served_version);
    } else {
      up.BindNull(9);
    }
    RETURN_IF_ERROR(up.Bind(10, m.updated_at).Bind(11, m.id).Run());
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such model");
    return absl::OkStatus();
  });
}

absl::Status SqliteDatabase::AddVersion(const ModelVersionRecord& v) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement model, Statement::Prepare(db_, "SELECT 1 FROM models WHERE id = ?"));
    model.Bind(1, v.model_id);
    ASSIGN_OR_RETURN(bool found, model.Step());
    if (!found) return absl::NotFoundError("no such model");
    ASSIGN_OR_RETURN(
        Statement taken,
        Statement::Prepare(db_, "SELECT 1 FROM model_versions WHERE model_id = ? AND version = ?"));
    taken.Bind(1, v.model_id).Bind(2, v.version);
    ASSIGN_OR_RETURN(bool exists, taken.Step());
    if (exists) return absl::AlreadyExistsError(StrCat("version ", v.version, " exists"));
    return InsertVersion(db_, v);
  });
}

absl::Status SqliteDatabase::UpdateVersionConfig(std::string_view model_id, int64_t version,
                                                 std::string_view config) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      Statement up,
      Statement::Prepare(
          db_, "UPDATE model_versions SET config = ? WHERE model_id = ? AND version = ?"));
  RETURN_IF_ERROR(up.Bind(1, config).Bind(2, model_id).Bind(3, version).Run());
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such model version");
  return absl::OkStatus();
}

}  // namespace cinfer

// --- inference logs ----------------------------------------------------------

namespace cinfer {
namespace {

// Statement binds text and integers only, so reals travel as text in their
// shortest round-trip form and are CAST in SQL; reading goes through SQLite's
// text form (15 significant digits).
std::string RealText(double v) { return fmt::format("{}", v); }

double ColumnReal(const sqlite::Statement& q, int col) {
  const std::string text = q.ColumnText(col);
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// Appends insert several rows per statement: Statement cannot be reset, and
// preparing costs more than running. 40 rows of 20 parameters stay under
// SQLite's historical limit of 999 parameters.
constexpr size_t kLogParams = 20;
constexpr size_t kRowsPerInsert = 40;

// INSERT of `rows` rows, skipping those of missing models (and existing ids),
// with a token id that no longer exists stored as NULL.
std::string AppendLogsSql(size_t rows) {
  std::string values;
  for (size_t i = 0; i < rows; ++i) {
    values += i == 0 ? "(?" : ", (?";
    for (size_t c = 1; c < kLogParams; ++c) values += ", ?";
    values += ")";
  }
  return StrCat(
      "INSERT OR IGNORE INTO inference_logs (id, model_id, model_version, token_id, request_id, "
      "client_ip, route, status, http_status, error_code, error_message, queue_ms, "
      "preprocess_ms, infer_ms, postprocess_ms, latency_ms, batch_size, request_data, "
      "response_data, created_at) "
      "SELECT column1, column2, column3, (SELECT id FROM tokens WHERE id = column4), column5, "
      "column6, column7, column8, column9, column10, column11, CAST(column12 AS REAL), "
      "CAST(column13 AS REAL), CAST(column14 AS REAL), CAST(column15 AS REAL), "
      "CAST(column16 AS REAL), column17, column18, column19, column20 FROM (VALUES ",
      values, ") WHERE EXISTS (SELECT 1 FROM models WHERE id = column2)");
}

// Binds `r` to parameters base + 1 .. base + kLogParams, in AppendLogsSql's order.
void BindLog(sqlite::Statement& q, int base, const InferenceLogRecord& r) {
  q.Bind(base + 1, r.id).Bind(base + 2, r.model_id).Bind(base + 4, r.token_id);
  if (r.model_version.has_value()) {
    q.Bind(base + 3, *r.model_version);
  } else {
    q.BindNull(base + 3);
  }
  q.Bind(base + 5, r.request_id)
      .Bind(base + 6, r.client_ip)
      .Bind(base + 7, r.route)
      .Bind(base + 8, r.status)
      .Bind(base + 9, static_cast<int64_t>(r.http_status))
      .Bind(base + 10, r.error_code)
      .Bind(base + 11, r.error_message)
      .Bind(base + 12, RealText(r.queue_ms))
      .Bind(base + 13, RealText(r.preprocess_ms))
      .Bind(base + 14, RealText(r.infer_ms))
      .Bind(base + 15, RealText(r.postprocess_ms))
      .Bind(base + 16, RealText(r.total_ms))
      .Bind(base + 17, r.batch_size)
      .Bind(base + 18, r.request_data)
      .Bind(base + 19, r.response_data)
      .Bind(base + 20, r.created_at);
}

constexpr int64_t kPurgeChunkRows = 10'000;
constexpr int64_t kMaxStatsRows = 1'000'000;

constexpr std::string_view kLogColumns =
    "id, model_id, model_version, token_id, COALESCE(request_id, ''), COALESCE(client_ip, ''), "
    "COALESCE(route, ''), status, COALESCE(http_status, 0), COALESCE(error_code, ''), "
    "COALESCE(error_message, ''), COALESCE(queue_ms, 0), COALESCE(preprocess_ms, 0), "
    "COALESCE(infer_ms, 0), COALESCE(postprocess_ms, 0), COALESCE(latency_ms, 0), "
    "COALESCE(batch_size, 0), request_data, response_data, created_at";

InferenceLogRecord ReadLog(const sqlite::Statement& q) {
  InferenceLogRecord r;
  r.id = q.ColumnText(0);
  r.model_id = q.ColumnText(1);
  if (auto v = q.ColumnOptionalText(2)) r.model_version = std::stoll(*v);
  r.token_id = q.ColumnOptionalText(3);
  r.request_id = q.ColumnText(4);
  r.client_ip = q.ColumnText(5);
  r.route = q.ColumnText(6);
  r.status = q.ColumnText(7);
  r.http_status = static_cast<int>(q.ColumnInt(8));
  r.error_code = q.ColumnText(9);
  r.error_message = q.ColumnText(10);
  r.queue_ms = ColumnReal(q, 11);
  r.preprocess_ms = ColumnReal(q, 12);
  r.infer_ms = ColumnReal(q, 13);
  r.postprocess_ms = ColumnReal(q, 14);
  r.total_ms = ColumnReal(q, 15);
  r.batch_size = q.ColumnInt(16);
  r.request_data = q.ColumnOptionalText(17);
  r.response_data = q.ColumnOptionalText(18);
  r.created_at = q.ColumnText(19);
  return r;
}

// A WHERE clause with only the filter's set conditions (so SQLite can use the
// indices) and the values it binds, in order.
struct LogWhere {
  std::string sql;
  std::vector<std::string> args;
};

LogWhere WhereOf(const InferenceLogFilter& f) {
  std::vector<std::string> clauses;
  LogWhere w;
  auto add = [&](const std::string& value, const char* clause) {
    if (value.empty()) return;
    clauses.emplace_back(clause);
    w.args.push_back(value);
  };
  add(f.model_id, "model_id = ?");
  add(f.token_id, "token_id = ?");
  add(f.status, "status = ?");
  add(f.from, "created_at >= ?");
  add(f.to, "created_at < ?");
  if (!clauses.empty()) w.sql = StrCat(" WHERE ", Join(clauses, " AND "));
  return w;
}

absl::StatusOr<Statement> PrepareWhere(sqlite3* db, std::string_view sql, const LogWhere& where) {
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db, sql));
  for (size_t i = 0; i < where.args.size(); ++i) q.Bind(static_cast<int>(i) + 1, where.args[i]);
  return q;
}

// Nearest rank: the smallest value with at least p% of the values at or below it.
double Percentile(const std::vector<double>& sorted, int64_t p) {
  if (sorted.empty()) return 0;
  const int64_t n = static_cast<int64_t>(sorted.size());
  const int64_t rank = std::max<int64_t>(1, (p * n + 99) / 100);
  return sorted[static_cast<size_t>(std::min(rank, n) - 1)];
}

}  // namespace

absl::Status SqliteDatabase::AppendInferenceLogs(const std::vector<InferenceLogRecord>& records) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    for (size_t first = 0; first < records.size(); first += kRowsPerInsert) {
      const size_t n = std::min(kRowsPerInsert, records.size() - first);
      ASSIGN_OR_RETURN(Statement ins, hot_->Get(AppendLogsSql(n)));
      for (size_t i = 0; i < n; ++i) {
        BindLog(ins, static_cast<int>(i * kLogParams), records[first + i]);
      }
      RETURN_IF_ERROR(ins.Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<InferenceLogRecord>> SqliteDatabase::QueryInferenceLogs(
    const InferenceLogFilter& f, int64_t* total) {
  std::lock_guard lock(mu_);
  const LogWhere where = WhereOf(f);
  ASSIGN_OR_RETURN(
      Statement count,
      PrepareWhere(db_, StrCat("SELECT COUNT(*) FROM inference_logs", where.sql), where));
  ASSIGN_OR_RETURN(bool has_count, count.Step());
  *total = has_count ? count.ColumnInt(0) : 0;
  ASSIGN_OR_RETURN(Statement q,
                   PrepareWhere(db_,
                                StrCat("SELECT ", kLogColumns, " FROM inference_logs", where.sql,
                                       " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"),
                                where));
  const int next = static_cast<int>(where.args.size()) + 1;
  q.Bind(next, f.limit).Bind(next + 1, f.offset);
  std::vector<InferenceLogRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadLog(q));
  }
  return out;
}

absl::StatusOr<ModelStatsRecord> SqliteDatabase::InferenceStats(std::string_view model_id,
                                                                std::string_view from,
                                                                std::string_view to) {
  if (model_id.empty()) return absl::InvalidArgumentError("stats need a model id");
  InferenceLogFilter f;
  f.model_id = std::string(model_id);
  f.from = std::string(from);
  f.to = std::string(to);
  const LogWhere where = WhereOf(f);
  ModelStatsRecord s;
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      Statement agg,
      PrepareWhere(db_,
                   StrCat("SELECT COUNT(*), COALESCE(SUM(status = 'error'), 0), "
                          "COALESCE(AVG(latency_ms), 0), COALESCE(MAX(latency_ms), 0), "
                          "COALESCE(AVG(NULLIF(batch_size, 0)), 0) FROM inference_logs",
                          where.sql),
                   where));
  ASSIGN_OR_RETURN(bool has_agg, agg.Step());
  if (!has_agg || agg.ColumnInt(0) == 0) return s;
  s.requests = agg.ColumnInt(0);
  s.errors = agg.ColumnInt(1);
  s.mean_ms = ColumnReal(agg, 2);
  s.max_ms = ColumnReal(agg, 3);
  s.mean_batch_size = ColumnReal(agg, 4);

  ASSIGN_OR_RETURN(Statement codes,
                   PrepareWhere(db_,
                                StrCat("SELECT COALESCE(NULLIF(error_code, ''), 'UNKNOWN'), "
                                       "COUNT(*) FROM inference_logs",
                                       where.sql, " AND status = 'error' GROUP BY 1"),
                                where));
  while (true) {
    ASSIGN_OR_RETURN(bool row, codes.Step());
    if (!row) break;
    s.by_error_code[codes.ColumnText(0)] = codes.ColumnInt(1);
  }

  // Percentiles over the newest kMaxStatsRows rows of the window, sorted here.
  ASSIGN_OR_RETURN(Statement lat,
                   PrepareWhere(db_,
                                StrCat("SELECT latency_ms FROM inference_logs", where.sql,
                                       " AND latency_ms IS NOT NULL ORDER BY created_at DESC "
                                       "LIMIT ",
                                       kMaxStatsRows),
                                where));
  std::vector<double> latencies;
  while (true) {
    ASSIGN_OR_RETURN(bool row, lat.Step());
    if (!row) break;
    latencies.push_back(ColumnReal(lat, 0));
  }
  std::sort(latencies.begin(), latencies.end());
  s.p50_ms = Percentile(latencies, 50);
  s.p90_ms = Percentile(latencies, 90);
  s.p99_ms = Percentile(latencies, 99);
  return s;
}

absl::StatusOr<int64_t> SqliteDatabase::DeleteLogChunk(std::string_view sql,
                                                       const std::vector<std::string>& args) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement del, PrepareWhere(db_, sql, LogWhere{"", args}));
  RETURN_IF_ERROR(del.Run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

absl::StatusOr<int64_t> SqliteDatabase::PurgeInferenceLogs(std::string_view older_than,
                                                           int64_t max_rows) {
  int64_t deleted = 0;
  // Deletes the rows created before `created_at`, or at it with rowid <= `rowid`.
  auto delete_up_to = [&](const std::string& created_at, const std::string& rowid) -> absl::Status {
    const std::string sql = StrCat(
        "DELETE FROM inference_logs WHERE rowid IN (SELECT rowid FROM inference_logs "
        "WHERE created_at <= ?1 AND (created_at < ?1 OR rowid <= CAST(?2 AS INTEGER)) LIMIT ",
        kPurgeChunkRows, ")");
    while (true) {
      ASSIGN_OR_RETURN(int64_t n, DeleteLogChunk(sql, {created_at, rowid}));
      deleted += n;
      if (n < kPurgeChunkRows) return absl::OkStatus();
    }
  };
  if (!older_than.empty()) RETURN_IF_ERROR(delete_up_to(std::string(older_than), "-1"));
  if (max_rows > 0) {
    std::string created_at, rowid;
    {
      std::lock_guard lock(mu_);
      // The newest row beyond the cap; it and everything older goes.
      ASSIGN_OR_RETURN(Statement q,
                       Statement::Prepare(db_,
                                          "SELECT created_at, rowid FROM inference_logs "
                                          "ORDER BY created_at DESC, rowid DESC LIMIT 1 OFFSET ?"));
      q.Bind(1, max_rows);
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return deleted;
      created_at = q.ColumnText(0);
      rowid = q.ColumnText(1);
    }
    RETURN_IF_ERROR(delete_up_to(created_at, rowid));
  }
  return deleted;
}

}  // namespace cinfer

// --- tokens ------------------------------------------------------------------

namespace cinfer {
namespace {

constexpr std::string_view kTokenColumns =
    "id, name, remark, token_hash, token_suffix, created_at, updated_at, expires_at, is_active, "
    "allowed_models, ip_whitelist, rate_limit, monthly_limit, used_count, usage_month, "
    "last_used_at, created_by";

TokenRecord ReadToken(const sqlite::Statement& q) {
  TokenRecord t;
  t.id = q.ColumnText(0);
  t.name = q.ColumnText(1);
  t.remark = q.ColumnText(2);
  t.token_hash = q.ColumnText(3);
  t.token_suffix = q.ColumnText(4);
  t.created_at = q.ColumnText(5);
  t.updated_at = q.ColumnText(6);
  t.expires_at = q.ColumnOptionalText(7);
  t.is_active = q.ColumnInt(8) != 0;
  t.allowed_models = q.ColumnText(9);
  t.ip_whitelist = q.ColumnText(10);
  if (auto v = q.ColumnOptionalText(11)) t.rate_limit = std::stoll(*v);
  if (auto v = q.ColumnOptionalText(12)) t.monthly_limit = std::stoll(*v);
  t.used_count = q.ColumnInt(13);
  t.usage_month = q.ColumnText(14);
  t.last_used_at = q.ColumnOptionalText(15);
  t.created_by = q.ColumnOptionalText(16);
  return t;
}

void BindOptionalInt(sqlite::Statement& q, int index, const std::optional<int64_t>& v) {
  if (v.has_value()) {
    q.Bind(index, *v);
  } else {
    q.BindNull(index);
  }
}

// AlreadyExists when a token other than `id` is named `name` (the caller holds
// the lock and the transaction).
absl::Status CheckTokenName(sqlite3* db, std::string_view name, std::string_view id) {
  ASSIGN_OR_RETURN(Statement taken,
                   Statement::Prepare(db, "SELECT 1 FROM tokens WHERE name = ? AND id <> ?"));
  taken.Bind(1, name).Bind(2, id);
  ASSIGN_OR_RETURN(bool exists, taken.Step());
  if (exists) return absl::AlreadyExistsError(StrCat("a token named '", name, "' exists"));
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteDatabase::CreateToken(const TokenRecord& t) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    RETURN_IF_ERROR(CheckTokenName(db_, t.name, t.id));
    ASSIGN_OR_RETURN(
        Statement ins,
        Statement::Prepare(db_, StrCat("INSERT INTO tokens (", kTokenColumns,
                                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                       "?, ?)")));
    ins.Bind(1, t.id)
        .Bind(2, t.name)
        .Bind(3, t.remark)
        .Bind(4, t.token_hash)
        .Bind(5, t.token_suffix)
        .Bind(6, t.created_at)
        .Bind(7, t.updated_at)
        .Bind(8, t.expires_at)
        .Bind(9, static_cast<int64_t>(t.is_active ? 1 : 0))
        .Bind(10, t.allowed_models)
        .Bind(11, t.ip_whitelist);
    BindOptionalInt(ins, 12, t.rate_limit);
    BindOptionalInt(ins, 13, t.monthly_limit);
    return ins.Bind(14, t.used_count)
        .Bind(15, t.usage_month)
        .Bind(16, t.last_used_at)
        .Bind(17, t.created_by)
        .Run();
  });
}

absl::StatusOr<std::vector<TokenRecord>> SqliteDatabase::ListTokens() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_, StrCat("SELECT ", kTokenColumns,
                                                  " FROM tokens ORDER BY created_at, rowid")));
  std::vector<TokenRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadToken(q));
  }
  return out;
}

absl::StatusOr<std::optional<TokenRecord>> SqliteDatabase::FindToken(std::string_view id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, StrCat("SELECT ", kTokenColumns,
                                                               " FROM tokens WHERE id = ?")));
  q.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(ReadToken(q));
}

absl::Status SqliteDatabase::UpdateToken(const TokenRecord& t) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    RETURN_IF_ERROR(CheckTokenName(db_, t.name, t.id));
    ASSIGN_OR_RETURN(Statement up,
                     Statement::Prepare(db_,
                                        "UPDATE tokens SET name = ?, remark = ?, expires_at = ?, "
                                        "is_active = ?, allowed_models = ?, ip_whitelist = ?, "
                                        "rate_limit = ?, monthly_limit = ?, updated_at = ? "
                                        "WHERE id = ?"));
    up.Bind(1, t.name)
        .Bind(2, t.remark)
        .Bind(3, t.expires_at)
        .Bind(4, static_cast<int64_t>(t.is_active ? 1 : 0))
        .Bind(5, t.allowed_models)
        .Bind(6, t.ip_whitelist);
    BindOptionalInt(up, 7, t.rate_limit);
    BindOptionalInt(up, 8, t.monthly_limit);
    RETURN_IF_ERROR(up.Bind(9, t.updated_at).Bind(10, t.id).Run());
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such token");
    return absl::OkStatus();
  });
}

absl::Status SqliteDatabase::DeleteToken(std::string_view id) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    // Foreign keys would cascade; deleting explicitly does not depend on them.
    ASSIGN_OR_RETURN(Statement usage,
                     Statement::Prepare(db_, "DELETE FROM token_usage_daily WHERE token_id = ?"));
    RETURN_IF_ERROR(usage.Bind(1, id).Run());
    ASSIGN_OR_RETURN(Statement del, Statement::Prepare(db_, "DELETE FROM tokens WHERE id = ?"));
    RETURN_IF_ERROR(del.Bind(1, id).Run());
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such token");
    return absl::OkStatus();
  });
}

absl::Status SqliteDatabase::ResetTokenUsage(std::string_view id, std::string_view month,
                                             std::string_view at) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement up,
                   Statement::Prepare(db_,
                                      "UPDATE tokens SET used_count = 0, usage_month = ?, "
                                      "updated_at = ? WHERE id = ?"));
  RETURN_IF_ERROR(up.Bind(1, month).Bind(2, at).Bind(3, id).Run());
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such token");
  return absl::OkStatus();
}

absl::Status SqliteDatabase::RecordTokenUsage(const std::vector<TokenUsageIncrement>& increments) {
  if (increments.empty()) return absl::OkStatus();
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> absl::Status {
    for (const TokenUsageIncrement& inc : increments) {
      ASSIGN_OR_RETURN(
          Statement up,
          hot_->Get("UPDATE tokens SET used_count = CASE WHEN usage_month = ?1 "
                    "THEN used_count + ?2 WHEN usage_month < ?1 THEN ?2 "
                    "ELSE used_count END, usage_month = MAX(usage_month, ?1), "
                    "last_used_at = MAX(COALESCE(last_used_at, ''), ?3) WHERE id = ?4"));
      RETURN_IF_ERROR(
          up.Bind(1, inc.month).Bind(2, inc.count).Bind(3, inc.at).Bind(4, inc.token_id).Run());
      if (sqlite3_changes(db_) == 0) continue;  // the token is gone
      ASSIGN_OR_RETURN(Statement day,
                       hot_->Get("INSERT INTO token_usage_daily (token_id, day, model_id, count) "
                                 "VALUES (?, ?, ?, ?) ON CONFLICT(token_id, day, model_id) "
                                 "DO UPDATE SET count = count + excluded.count"));
      RETURN_IF_ERROR(day.Bind(1, inc.token_id)
                          .Bind(2, inc.day)
                          .Bind(3, inc.model_id)
                          .Bind(4, inc.count)
                          .Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TokenUsageRow>> SqliteDatabase::TokenUsage(std::string_view token_id,
                                                                      std::string_view from_day,
                                                                      std::string_view to_day) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement q,
                   Statement::Prepare(db_,
                                      "SELECT day, model_id, count FROM token_usage_daily "
                                      "WHERE token_id = ?1 AND (?2 = '' OR day >= ?2) AND "
                                      "(?3 = '' OR day <= ?3) ORDER BY day, model_id"));
  q.Bind(1, token_id).Bind(2, from_day).Bind(3, to_day);
  std::vector<TokenUsageRow> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.ColumnText(0), q.ColumnText(1), q.ColumnInt(2)});
  }
  return out;
}

}  // namespace cinfer
