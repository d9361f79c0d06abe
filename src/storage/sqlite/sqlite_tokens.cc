// SqliteDatabase's API tokens and their usage counters (monthly on the token
// row, per day and model in token_usage_daily).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/sqlite/statement.h"

namespace cinfer {
namespace {

using sqlite::Statement;

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
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
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
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, StrCat("SELECT ", kTokenColumns,
                                                               " FROM tokens WHERE id = ?")));
  q.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(ReadToken(q));
}

absl::Status SqliteDatabase::UpdateToken(const TokenRecord& t) {
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement up,
                   Statement::Prepare(db_,
                                      "UPDATE tokens SET used_count = 0, usage_month = ?, "
                                      "updated_at = ? WHERE id = ?"));
  RETURN_IF_ERROR(up.Bind(1, month).Bind(2, at).Bind(3, id).Run());
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError("no such token");
  return absl::OkStatus();
}

namespace {

// Lowers the connection's busy timeout to what is left before `deadline`
// for the life of the guard.
class BusyTimeoutUntil {
 public:
  BusyTimeoutUntil(sqlite3* db, int normal_ms, std::chrono::steady_clock::time_point deadline)
      : db_(db), normal_ms_(normal_ms) {
    if (deadline == std::chrono::steady_clock::time_point::max()) return;
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    left_ms_ = left.count() > 0 ? static_cast<int>(std::min<int64_t>(left.count(), normal_ms)) : 0;
    sqlite3_busy_timeout(db_, left_ms_);
  }
  ~BusyTimeoutUntil() { sqlite3_busy_timeout(db_, normal_ms_); }
  BusyTimeoutUntil(const BusyTimeoutUntil&) = delete;
  BusyTimeoutUntil& operator=(const BusyTimeoutUntil&) = delete;
  bool expired() const { return left_ms_ == 0; }

 private:
  sqlite3* db_;
  int normal_ms_;
  int left_ms_ = -1;
};

}  // namespace

absl::Status SqliteDatabase::RecordTokenUsage(const std::vector<TokenUsageIncrement>& increments,
                                              std::chrono::steady_clock::time_point deadline) {
  if (increments.empty()) return absl::OkStatus();
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    MutexLock lock(&mu_);
    return WriteTokenUsage(increments);
  }
  if (!mu_.TryLockUntil(deadline)) {
    return absl::UnavailableError("the database writer stayed busy past the deadline");
  }
  absl::Status st;
  {
    const BusyTimeoutUntil bounded(db_, writer_busy_timeout_ms_, deadline);
    st = bounded.expired() ? absl::UnavailableError("the deadline passed before the write")
                           : WriteTokenUsage(increments);
  }
  mu_.Unlock();
  return st;
}

absl::Status SqliteDatabase::WriteTokenUsage(const std::vector<TokenUsageIncrement>& increments) {
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
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
  MutexLock lock(&mu_);
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
