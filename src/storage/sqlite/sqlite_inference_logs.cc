// SqliteDatabase's inference log: batched appends (on the cached hot
// statements), paged queries, per-model statistics and chunked purges. The
// dashboard overview reads the log on the reader connection, in
// sqlite_admin_queries.cc.
#include <sqlite3.h>

#include <algorithm>
#include <charconv>

#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/sqlite/statement.h"

namespace cinfer {
namespace {

using sqlite::Statement;

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
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
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
  MutexLock lock(&mu_);
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
  MutexLock lock(&mu_);
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
      MutexLock lock(&mu_);
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
