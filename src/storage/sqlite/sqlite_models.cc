// SqliteDatabase's models and their versions. Name and version uniqueness are
// checked inside the transaction that inserts.
#include <sqlite3.h>

#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/sqlite/statement.h"

namespace cinfer {
namespace {

using sqlite::Statement;

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

absl::Status SqliteDatabase::CreateModel(const ModelRecord& m, const ModelVersionRecord& v) {
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, StrCat("SELECT ", kModelColumns,
                                                               " FROM models WHERE id = ?")));
  q.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ModelRecord>();
  return std::optional<ModelRecord>(ReadModel(q));
}

absl::StatusOr<std::vector<ModelRecord>> SqliteDatabase::ListModels(const ModelFilter& f,
                                                                    int64_t* total) {
  MutexLock lock(&mu_);
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
  MutexLock lock(&mu_);
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
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement up,
      Statement::Prepare(
          db_, "UPDATE model_versions SET config = ? WHERE model_id = ? AND version = ?"));
  RETURN_IF_ERROR(up.Bind(1, config).Bind(2, model_id).Bind(3, version).Run());
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such model version");
  return absl::OkStatus();
}

}  // namespace cinfer
