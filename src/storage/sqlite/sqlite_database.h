// SqliteDatabase: the Database over one SQLite file in WAL mode, with a busy
// timeout and foreign keys on; prepared statements only. Thread-safe: one
// read-write connection serialised by a mutex (admin traffic is light; the hot
// paths batch their writes), and one read-only connection with its own mutex
// for the dashboard and audit queries (sqlite_admin_queries.cc).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "storage/database.h"
#include "storage/sqlite/statement.h"

struct sqlite3;

namespace cinfer {

class SqliteDatabase final : public Database {
 public:
  struct Options {
    std::string path;            // the database file; created when missing
    int busy_timeout_ms = 5000;  // the read-only connection (stats, lists)
    // The writer: short, so another process holding the write lock costs a
    // request a quick 503 rather than a long wait (and the writer's mutex is
    // never held for long).
    int writer_busy_timeout_ms = 250;
  };
  // Opens the file and applies pending migrations.
  static absl::StatusOr<std::unique_ptr<SqliteDatabase>> Open(const Options& options);
  ~SqliteDatabase() override;

  absl::StatusOr<int> SchemaVersion() override;

  absl::StatusOr<bool> HasAdmin() override;
  absl::Status CreateFirstAdmin(const UserRecord& admin) override;
  absl::StatusOr<std::optional<UserRecord>> FindUserByUsername(std::string_view name) override;
  absl::StatusOr<std::optional<UserRecord>> FindUserById(std::string_view id) override;
  absl::StatusOr<std::vector<UserRecord>> ListUsers() override;
  absl::Status CreateUser(const UserRecord& user) override;
  absl::Status UpdateUser(const UserRecord& user) override;
  absl::Status DeleteUser(std::string_view id) override;
  absl::Status UpdatePassword(std::string_view user_id, std::string_view hash,
                              bool must_change) override;
  absl::Status RecordLogin(std::string_view user_id, std::string_view at) override;
  absl::Status RecordFailedLogin(std::string_view user_id, std::string_view at) override;

  absl::Status RevokeSession(std::string_view jti, int64_t expires_at_unix) override;
  absl::StatusOr<bool> IsSessionRevoked(std::string_view jti) override;
  absl::Status PurgeExpiredRevocations(int64_t now_unix) override;

  absl::Status CreateModel(const ModelRecord& model, const ModelVersionRecord& version) override;
  absl::StatusOr<std::optional<ModelRecord>> FindModel(std::string_view id) override;
  absl::StatusOr<std::vector<ModelRecord>> ListModels(const ModelFilter& filter,
                                                      int64_t* total) override;
  absl::StatusOr<std::vector<ModelVersionRecord>> ListVersions(std::string_view model_id) override;
  absl::Status DeleteModel(std::string_view id) override;
  absl::Status UpdateModel(const ModelRecord& model) override;
  absl::Status AddVersion(const ModelVersionRecord& version) override;
  absl::Status UpdateVersionConfig(std::string_view model_id, int64_t version,
                                   std::string_view config) override;

  absl::Status AppendAudit(const AuditEntry& entry) override;
  absl::StatusOr<std::vector<AuditEntry>> RecentAudit(int limit) override;
  absl::StatusOr<std::vector<AuditEntry>> QueryAudit(const AuditFilter& filter,
                                                     int64_t* total) override;

  absl::Status AppendInferenceLogs(const std::vector<InferenceLogRecord>& records) override;
  absl::StatusOr<std::vector<InferenceLogRecord>> QueryInferenceLogs(
      const InferenceLogFilter& filter, int64_t* total) override;
  absl::StatusOr<ModelStatsRecord> InferenceStats(std::string_view model_id, std::string_view from,
                                                  std::string_view to) override;
  absl::StatusOr<StatsOverviewRecord> StatsOverview(const StatsOverviewQuery& query) override;
  // Deletes in chunks, each its own statement under the lock, so appends and
  // reads interleave with a large purge.
  absl::StatusOr<int64_t> PurgeInferenceLogs(std::string_view older_than,
                                             int64_t max_rows) override;

  absl::Status CreateToken(const TokenRecord& token) override;
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override;
  absl::StatusOr<std::optional<TokenRecord>> FindToken(std::string_view id) override;
  absl::Status UpdateToken(const TokenRecord& token) override;
  absl::Status DeleteToken(std::string_view id) override;
  absl::Status ResetTokenUsage(std::string_view id, std::string_view month,
                               std::string_view at) override;
  using TokenStore::RecordTokenUsage;
  absl::Status RecordTokenUsage(const std::vector<TokenUsageIncrement>& increments,
                                std::chrono::steady_clock::time_point deadline) override;
  // An empty from_day or to_day leaves that end of the range open.
  absl::StatusOr<std::vector<TokenUsageRow>> TokenUsage(std::string_view token_id,
                                                        std::string_view from_day,
                                                        std::string_view to_day) override;

 private:
  SqliteDatabase(sqlite3* db, int writer_busy_timeout_ms)
      : db_(db),
        hot_(std::make_unique<sqlite::StatementCache>(db)),
        writer_busy_timeout_ms_(writer_busy_timeout_ms) {}
  // The read-only connection for the dashboard and audit queries (WAL: its
  // readers never block the writer connection, nor wait for it).
  absl::Status OpenReader(const std::string& path, int busy_timeout_ms);
  absl::Status Exec(std::string_view sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Migrate();
  absl::StatusOr<std::optional<UserRecord>> FindUser(std::string_view column,
                                                     std::string_view value)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Inside a transaction: FailedPrecondition unless an active admin remains.
  absl::Status RequireActiveAdmin() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InTransaction(const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteTokenUsage(const std::vector<TokenUsageIncrement>& increments)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `sql` (a DELETE binding `args`) under the lock; the rows it deleted.
  absl::StatusOr<int64_t> DeleteLogChunk(std::string_view sql,
                                         const std::vector<std::string>& args);

  // Timed: a usage commit gives up on it at its batch's deadline.
  TimedMutex mu_;
  sqlite3* const db_ ABSL_GUARDED_BY(mu_);
  // Usage and log writes.
  std::unique_ptr<sqlite::StatementCache> hot_ ABSL_GUARDED_BY(mu_);
  const int writer_busy_timeout_ms_;
  Mutex reader_mu_;
  sqlite3* reader_ ABSL_GUARDED_BY(reader_mu_) = nullptr;
};

}  // namespace cinfer
