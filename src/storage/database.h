// Database: the storage interface the rest of the service sees. No SQL dialect
// leaks through it, so the SQLite implementation (sqlite/) can be joined by a
// PostgreSQL one. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/records.h"

namespace cinfer {

// Users and their credentials.
class UserStore {
 public:
  virtual ~UserStore() = default;
  virtual absl::StatusOr<bool> HasAdmin() = 0;
  // Inserts `admin` only if no admin exists yet, atomically; AlreadyExists otherwise.
  virtual absl::Status CreateFirstAdmin(const UserRecord& admin) = 0;
  virtual absl::StatusOr<std::optional<UserRecord>> FindUserByUsername(std::string_view name) = 0;
  virtual absl::StatusOr<std::optional<UserRecord>> FindUserById(std::string_view id) = 0;
  // Every user, by username.
  virtual absl::StatusOr<std::vector<UserRecord>> ListUsers() = 0;
  // AlreadyExists when the username is taken.
  virtual absl::Status CreateUser(const UserRecord& user) = 0;
  // Writes role (and is_admin), status, must_change_password and updated_at;
  // a change of role or status also increments token_version (ends sessions).
  // NotFound for unknown ids; FailedPrecondition when the change would leave
  // no active admin (checked in the same transaction).
  virtual absl::Status UpdateUser(const UserRecord& user) = 0;
  // NotFound / FailedPrecondition as UpdateUser.
  virtual absl::Status DeleteUser(std::string_view id) = 0;
  // Stores a new hash, sets must_change_password, and increments token_version
  // (ends every session). NotFound for unknown ids.
  virtual absl::Status UpdatePassword(std::string_view user_id, std::string_view hash,
                                      bool must_change) = 0;
  // A successful login: last_login = at, failed_logins = 0.
  virtual absl::Status RecordLogin(std::string_view user_id, std::string_view at) = 0;
  // A failed login of an existing user: failed_logins + 1, last_failed_login = at.
  virtual absl::Status RecordFailedLogin(std::string_view user_id, std::string_view at) = 0;
};

// Revoked admin sessions (logout), kept until they would have expired anyway.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual absl::Status RevokeSession(std::string_view jti, int64_t expires_at_unix) = 0;
  virtual absl::StatusOr<bool> IsSessionRevoked(std::string_view jti) = 0;
  virtual absl::Status PurgeExpiredRevocations(int64_t now_unix) = 0;
};

// Append-only log of administrative actions.
class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual absl::Status AppendAudit(const AuditEntry& entry) = 0;
  virtual absl::StatusOr<std::vector<AuditEntry>> RecentAudit(int limit) = 0;
  // Newest first; `total` receives the count before paging.
  virtual absl::StatusOr<std::vector<AuditEntry>> QueryAudit(const AuditFilter& filter,
                                                             int64_t* total) = 0;
};

// Models and their versions.
class ModelStore {
 public:
  virtual ~ModelStore() = default;
  // Inserts a model and its first version atomically. AlreadyExists when the
  // name is taken.
  virtual absl::Status CreateModel(const ModelRecord& model, const ModelVersionRecord& version) = 0;
  virtual absl::StatusOr<std::optional<ModelRecord>> FindModel(std::string_view id) = 0;
  // Newest first; `total` receives the count before paging.
  virtual absl::StatusOr<std::vector<ModelRecord>> ListModels(const ModelFilter& filter,
                                                              int64_t* total) = 0;
  virtual absl::StatusOr<std::vector<ModelVersionRecord>> ListVersions(
      std::string_view model_id) = 0;
  // Deletes the model and its versions; NotFound when absent.
  virtual absl::Status DeleteModel(std::string_view id) = 0;
  // Writes every mutable column of `model` (name, description, engine, config,
  // io_schema, status, status_reason, current_version, served_version,
  // updated_at). NotFound when absent; AlreadyExists when the name is taken by
  // another model.
  virtual absl::Status UpdateModel(const ModelRecord& model) = 0;
  // Inserts a further version. NotFound when the model is absent;
  // AlreadyExists when that version number exists.
  virtual absl::Status AddVersion(const ModelVersionRecord& version) = 0;
  // Replaces one version's config (JSON text). NotFound when absent.
  virtual absl::Status UpdateVersionConfig(std::string_view model_id, int64_t version,
                                           std::string_view config) = 0;
};

// The inference log: appended in batches by InferenceLogWriter, read by the
// admin API. Times are ISO 8601 UTC in FormatIso8601's form.
class InferenceLogStore {
 public:
  virtual ~InferenceLogStore() = default;
  // Appends `records` in one transaction. Rows whose model no longer exists
  // are skipped, as are rows whose id exists already; a token_id that no
  // longer exists is stored as NULL.
  virtual absl::Status AppendInferenceLogs(const std::vector<InferenceLogRecord>& records) = 0;
  // Newest first; `total` receives the count before paging.
  virtual absl::StatusOr<std::vector<InferenceLogRecord>> QueryInferenceLogs(
      const InferenceLogFilter& filter, int64_t* total) = 0;
  // Aggregates over one model's rows created in [from, to) (empty = open).
  virtual absl::StatusOr<ModelStatsRecord> InferenceStats(std::string_view model_id,
                                                          std::string_view from,
                                                          std::string_view to) = 0;
  // The dashboard's overview (see StatsOverviewRecord). Reads the rows of the
  // window once, through a covering index, on a connection of its own so
  // that a large window never holds up the writers.
  virtual absl::StatusOr<StatsOverviewRecord> StatsOverview(const StatsOverviewQuery& query) = 0;
  // Deletes the rows created before `older_than` (empty: none by age), then
  // the oldest beyond the newest `max_rows` (<= 0: no cap). Returns the
  // number of rows deleted.
  virtual absl::StatusOr<int64_t> PurgeInferenceLogs(std::string_view older_than,
                                                     int64_t max_rows) = 0;
};

// API tokens and their usage counters.
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // AlreadyExists when the name (or the hash) is taken.
  virtual absl::Status CreateToken(const TokenRecord& token) = 0;
  // Every token, oldest first (the token cache loads them at startup).
  virtual absl::StatusOr<std::vector<TokenRecord>> ListTokens() = 0;
  virtual absl::StatusOr<std::optional<TokenRecord>> FindToken(std::string_view id) = 0;
  // Writes name, remark, expires_at, is_active, allowed_models, ip_whitelist,
  // rate_limit, monthly_limit and updated_at. NotFound when absent;
  // AlreadyExists when the name is taken by another token.
  virtual absl::Status UpdateToken(const TokenRecord& token) = 0;
  // Deletes the token and its usage counters. NotFound when absent.
  virtual absl::Status DeleteToken(std::string_view id) = 0;
  // used_count = 0, usage_month = `month`, updated_at = `at`. NotFound when absent.
  virtual absl::Status ResetTokenUsage(std::string_view id, std::string_view month,
                                       std::string_view at) = 0;
  // Applies every increment in one transaction: used_count grows by count when
  // usage_month equals the increment's month and restarts at count when the
  // increment's month is later (usage_month becomes that month); an increment
  // of an earlier month (committed across a month boundary) leaves used_count
  // alone. last_used_at becomes the later of itself and `at`; the (token, day,
  // model) counter grows by count. Increments of tokens that no longer exist
  // are skipped. On error nothing is applied. The attempt gives up before
  // `deadline` (waiting for the writer or a lock held by another process):
  // UNAVAILABLE, and nothing was written.
  virtual absl::Status RecordTokenUsage(const std::vector<TokenUsageIncrement>& increments,
                                        std::chrono::steady_clock::time_point deadline) = 0;
  absl::Status RecordTokenUsage(const std::vector<TokenUsageIncrement>& increments) {
    return RecordTokenUsage(increments, std::chrono::steady_clock::time_point::max());
  }
  // The per-day counters of one token for days in [from_day, to_day]
  // (inclusive, "YYYY-MM-DD"), ordered by day then model id.
  virtual absl::StatusOr<std::vector<TokenUsageRow>> TokenUsage(std::string_view token_id,
                                                                std::string_view from_day,
                                                                std::string_view to_day) = 0;
};

class Database : public UserStore,
                 public SessionStore,
                 public AuditStore,
                 public ModelStore,
                 public InferenceLogStore,
                 public TokenStore {
 public:
  // Schema version after migrations.
  virtual absl::StatusOr<int> SchemaVersion() = 0;
};

}  // namespace cinfer
