// TokenService: API tokens. Administrators create, change, pause, resume,
// reset and delete them (every change audited); the application API asks it
// to authorise each request and to reserve and commit monthly-quota units.
//
// Every token lives in an in-memory cache loaded at startup, so the request
// path reads no database: Authorize hashes the presented value and looks it up
// under a shared lock. Admin changes write the database, then the cache, before
// they return, so they apply to the very next request. Per token the cache
// keeps the rate-limit window (an exact sliding-window log, see
// tokens/sliding_window.h) and this month's committed and reserved quota units.
// Usage becomes durable through UsageRecorder's group commit before a request
// may answer 2xx. Token values are never stored or logged: only their SHA-256
// and last characters. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/actor.h"
#include "common/clock.h"
#include "common/live_value.h"
#include "common/mutex.h"
#include "common/repeat_filter.h"
#include "metrics/metrics.h"
#include "nlohmann/json.hpp"
#include "storage/database.h"
#include "tokens/sliding_window.h"
#include "tokens/token_state.h"
#include "tokens/usage_recorder.h"

namespace cinfer {

// Token settings as given by an administrator; absent fields are left as they
// are (PATCH) or take their defaults (creation). For the nullable ones the
// inner nullopt means "none" (never expires, no limit).
struct TokenFields {
  std::optional<std::string> name;
  std::optional<std::string> remark;
  std::optional<std::optional<std::string>> expires_at;  // RFC 3339
  std::optional<std::vector<std::string>> allowed_models;
  std::optional<std::vector<std::string>> ip_whitelist;
  std::optional<std::optional<int64_t>> rate_limit_per_minute;
  std::optional<std::optional<int64_t>> monthly_limit;
};

// A token as administrators see it. record.used_count / usage_month /
// last_used_at are the live values; used_count is 0 when usage_month is not
// the current month.
struct TokenView {
  TokenRecord record;
  TokenState state = TokenState::kActive;
  std::optional<int64_t> quota_remaining;
  std::optional<std::string> created_by_name;
};

struct CreatedToken {
  std::string value;  // shown once
  TokenView view;
};

struct TokenQuery {
  std::optional<TokenState> state;
  std::string name;  // substring; empty = any
  int64_t offset = 0;
  int64_t limit = 20;
};

struct TokenUsageReport {
  std::string token_id;
  std::string from, to;                                 // "YYYY-MM-DD", inclusive
  std::vector<std::pair<std::string, int64_t>> days;    // every day of the window
  std::vector<std::pair<std::string, int64_t>> models;  // model id -> units, by id
  int64_t total = 0;
  TokenView token;
};

struct TokenEntry;  // per-token cache entry (token_entry.h)

// Who calls the application API, as established by Authorize.
struct ApiCaller {
  std::string token_id;
  std::shared_ptr<TokenEntry> entry;
  // The rate-limit decision for this request (nullopt: no per-minute limit).
  std::optional<SlidingWindow::Decision> rate;
  // When the request was counted in the rate window (to take it back if the
  // quota refuses it).
  std::optional<Clock::TimePoint> counted_at;
};

class TokenService;

// Monthly-quota units held by one request until it commits or ends.
// Destroying an uncommitted reservation releases its units.
class QuotaReservation {
 public:
  QuotaReservation() = default;
  QuotaReservation(QuotaReservation&& other) noexcept;
  QuotaReservation& operator=(QuotaReservation&& other) noexcept;
  ~QuotaReservation();

  // Makes `used` (<= the units reserved) durable and releases the rest.
  // USAGE_NOT_RECORDED (503) when the write failed: then nothing is counted.
  // Waits for the write until `deadline` at most (the request's own deadline);
  // a write still queued then is withdrawn: 503, nothing counted.
  absl::Status Commit(int64_t used, std::chrono::steady_clock::time_point deadline =
                                        std::chrono::steady_clock::time_point::max());
  // The same without a waiting thread: `done` gets Commit's result, on the
  // usage writer's thread or at once on the caller's.
  void CommitAsync(int64_t used, std::chrono::steady_clock::time_point deadline,
                   std::function<void(absl::Status)> done);

 private:
  friend class TokenService;
  void Release();
  TokenService* service_ = nullptr;
  std::shared_ptr<TokenEntry> entry_;
  std::string model_id_;
  int64_t units_ = 0;
};

// Current quota figures for response headers (nullopt without a monthly limit).
struct QuotaStatus {
  int64_t limit = 0;
  int64_t remaining = 0;
  std::chrono::seconds reset{0};  // to the next UTC month
};

class TokenService {
 public:
  struct Options {
    int64_t default_expiry_days = 30;  // 0: new tokens never expire by default
    std::optional<int64_t> default_rate_limit = 60;
    std::optional<int64_t> default_monthly_limit = 10000;
    bool ip_filter = true;  // enforce ip_whitelist
  };
  struct Deps {
    TokenStore* tokens = nullptr;
    ModelStore* models = nullptr;
    UserStore* users = nullptr;
    AuditStore* audit = nullptr;
    UsageRecorder* usage = nullptr;
    const Clock* clock = nullptr;
    Metrics* metrics = nullptr;  // refusals by reason; null: not measured
  };

  // Loads every stored token into the cache.
  static absl::StatusOr<std::unique_ptr<TokenService>> Create(Options options, Deps deps);
  // Defaults for tokens created after this call, and IP filtering from now on.
  void UpdateOptions(Options options) { options_.Set(std::move(options)); }
  ~TokenService();

  // --- administration (token_admin.cc) --------------------------------------
  absl::StatusOr<CreatedToken> CreateToken(const TokenFields& fields, const Actor& actor);
  absl::StatusOr<std::vector<TokenView>> List(const TokenQuery& query, int64_t* total);
  absl::StatusOr<TokenView> Get(std::string_view id);
  absl::StatusOr<TokenView> Update(std::string_view id, const TokenFields& fields,
                                   const Actor& actor);
  absl::StatusOr<TokenView> Pause(std::string_view id, const Actor& actor);
  absl::StatusOr<TokenView> Resume(std::string_view id, const Actor& actor);
  absl::StatusOr<TokenView> ResetUsage(std::string_view id, const Actor& actor);
  absl::Status Delete(std::string_view id, const Actor& actor);
  // Units per UTC day over the last `days` days (today included) and per model.
  absl::StatusOr<TokenUsageReport> Usage(std::string_view id, int64_t days);

  // --- application API ------------------------------------------------------
  // Checks `value` for a request from `client_ip` to `model_id` (nullptr: a
  // route without a model) and counts it against the rate limit. `caller` is
  // filled as soon as the token is identified, also when the answer is a
  // refusal: UNAUTHENTICATED (401, one message for every cause),
  // TOKEN_EXPIRED / TOKEN_PAUSED / IP_NOT_ALLOWED / MODEL_NOT_ALLOWED (403),
  // RATE_LIMITED (429, Retry-After).
  absl::Status Authorize(std::string_view value, std::string_view client_ip,
                         const std::string* model_id, ApiCaller* caller);
  bool ModelAllowed(const ApiCaller& caller, std::string_view model_id) const;
  // Holds `units` of the monthly quota for a request to `model_id`;
  // QUOTA_EXCEEDED (429, Retry-After to the next UTC month) when committed
  // plus reserved units would pass the limit. A refused request is taken out
  // of the rate window again (refused requests do not count); `caller.rate`
  // then shows the window without it.
  absl::StatusOr<QuotaReservation> Reserve(ApiCaller& caller, std::string_view model_id,
                                           int64_t units);
  std::optional<QuotaStatus> Quota(const ApiCaller& caller) const;

 private:
  friend class QuotaReservation;
  TokenService(Options options, Deps deps);
  absl::Status Load() ABSL_LOCKS_EXCLUDED(cache_mu_);
  // Authorize without the refusal count.
  absl::Status Admit(std::string_view value, std::string_view client_ip,
                     const std::string* model_id, ApiCaller* caller);
  void CountRefusal(const absl::Status& status) const;
  std::shared_ptr<TokenEntry> Find(std::string_view id) const ABSL_LOCKS_EXCLUDED(cache_mu_);
  // Validates `fields` and writes them into `record`; creation fills defaults.
  absl::Status Apply(const TokenFields& fields, bool creating, TokenRecord& record);
  // Normalises `name` into `record.name`; NAME_TAKEN when it looks the same
  // as another token's name.
  absl::Status ApplyName(const std::string& name, TokenRecord& record) const;
  // Applies `change` to a copy of the token's record, writes it, then swaps
  // the cached policy and audits `action`.
  absl::StatusOr<TokenView> Save(std::string_view id, const Actor& actor, std::string_view action,
                                 nlohmann::json detail,
                                 const std::function<absl::Status(TokenRecord&)>& change);
  absl::Status CommitUsage(TokenEntry& entry, std::string_view model_id, int64_t reserved,
                           int64_t used, std::chrono::steady_clock::time_point deadline);
  void CommitUsageAsync(std::shared_ptr<TokenEntry> entry, std::string_view model_id,
                        int64_t reserved, int64_t used,
                        std::chrono::steady_clock::time_point deadline,
                        std::function<void(absl::Status)> done);
  // The durable increment for `used` units (none when used <= 0).
  std::optional<TokenUsageIncrement> UsageIncrement(TokenEntry& entry, std::string_view model_id,
                                                    int64_t used) const;
  // Releases the reservation and, when `st` is OK, counts `inc`; the 503 for a failed write.
  absl::Status FinishUsage(TokenEntry& entry, const std::optional<TokenUsageIncrement>& inc,
                           int64_t reserved, const absl::Status& st);
  // Withdraws the Expect(1) that Reserve announced to the usage recorder.
  void Unexpect();
  void ReleaseUnits(TokenEntry& entry, int64_t units);
  void Audit(const Actor& actor, std::string_view action, const TokenRecord& token,
             nlohmann::json detail);

  LiveValue<Options> options_;
  RepeatFilter usage_failures_;  // "usage not recorded" log lines
  const Deps deps_;
  // Serialises administrative changes (the store's write, then the cache's);
  // it guards no member of its own.
  Mutex admin_mu_;
  mutable SharedMutex cache_mu_;  // the maps; each entry has its own lock
  std::unordered_map<std::string, std::shared_ptr<TokenEntry>> by_hash_ ABSL_GUARDED_BY(cache_mu_);
  std::unordered_map<std::string, std::shared_ptr<TokenEntry>> by_id_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace cinfer
