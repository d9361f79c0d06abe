#include "tokens/token_service.h"

#include <algorithm>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "net/ip_address.h"
#include "spdlog/spdlog.h"
#include "tokens/token_entry.h"
#include "tokens/token_value.h"

namespace cinfer {
namespace {

constexpr std::chrono::seconds kRateWindow{60};

absl::Status Unauthenticated() { return UnauthenticatedError("a valid API token is required"); }

int CeilSeconds(std::chrono::nanoseconds d) {
  const auto s = std::chrono::ceil<std::chrono::seconds>(d).count();
  return static_cast<int>(std::max<int64_t>(s, 1));
}

std::vector<std::string> StringList(const std::string& json_text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// Moves the entry's counters to `month` when it is a later month.
void RollMonth(TokenEntry& e, const std::string& month) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e.mu) {
  if (e.month < month) {
    e.month = month;
    e.committed = 0;
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TokenPolicy>> PolicyOf(const TokenRecord& r) {
  auto p = std::make_shared<TokenPolicy>();
  p->record = r;
  for (auto& m : StringList(r.allowed_models)) {
    if (m == "*") p->any_model = true;
    p->models.insert(std::move(m));
  }
  ASSIGN_OR_RETURN(p->whitelist, net::IpSet::Parse(StringList(r.ip_whitelist)));
  if (r.expires_at.has_value()) {
    auto t = ParseRfc3339(*r.expires_at);
    if (!t.has_value()) return absl::DataLossError(StrCat("bad expires_at '", *r.expires_at, "'"));
    p->expires_at = *t;
  }
  return std::shared_ptr<const TokenPolicy>(std::move(p));
}

// --- QuotaReservation --------------------------------------------------------

QuotaReservation::QuotaReservation(QuotaReservation&& o) noexcept
    : service_(std::exchange(o.service_, nullptr)),
      entry_(std::move(o.entry_)),
      model_id_(std::move(o.model_id_)),
      units_(std::exchange(o.units_, 0)) {}

QuotaReservation& QuotaReservation::operator=(QuotaReservation&& o) noexcept {
  if (this != &o) {
    Release();
    service_ = std::exchange(o.service_, nullptr);
    entry_ = std::move(o.entry_);
    model_id_ = std::move(o.model_id_);
    units_ = std::exchange(o.units_, 0);
  }
  return *this;
}

QuotaReservation::~QuotaReservation() { Release(); }

void QuotaReservation::Release() {
  if (service_ != nullptr && entry_ != nullptr) {
    if (units_ > 0) service_->ReleaseUnits(*entry_, units_);
    service_->Unexpect();  // ends without recording usage
  }
  units_ = 0;
  service_ = nullptr;
}

absl::Status QuotaReservation::Commit(int64_t used,
                                      std::chrono::steady_clock::time_point deadline) {
  if (service_ == nullptr || entry_ == nullptr) {
    return absl::FailedPreconditionError("quota reservation already ended");
  }
  used = std::clamp<int64_t>(used, 0, units_);
  TokenService* svc = std::exchange(service_, nullptr);
  const int64_t units = std::exchange(units_, 0);
  svc->Unexpect();  // a waiting commit is not lingered for
  return svc->CommitUsage(*entry_, model_id_, units, used, deadline);
}

void QuotaReservation::CommitAsync(int64_t used, std::chrono::steady_clock::time_point deadline,
                                   std::function<void(absl::Status)> done) {
  if (service_ == nullptr || entry_ == nullptr) {
    done(absl::FailedPreconditionError("quota reservation already ended"));
    return;
  }
  used = std::clamp<int64_t>(used, 0, units_);
  TokenService* svc = std::exchange(service_, nullptr);
  const int64_t units = std::exchange(units_, 0);
  svc->CommitUsageAsync(entry_, model_id_, units, used, deadline, std::move(done));
}

// --- TokenService ------------------------------------------------------------

TokenService::TokenService(Options options, Deps deps) : options_(options), deps_(deps) {}
TokenService::~TokenService() = default;

absl::StatusOr<std::unique_ptr<TokenService>> TokenService::Create(Options options, Deps deps) {
  std::unique_ptr<TokenService> svc(new TokenService(options, deps));
  RETURN_IF_ERROR(svc->Load());
  return svc;
}

absl::Status TokenService::Load() {
  ASSIGN_OR_RETURN(auto records, deps_.tokens->ListTokens());
  const std::string month = UtcMonth(deps_.clock->Now());
  MutexLock lock(&cache_mu_);
  for (const auto& r : records) {
    auto policy = PolicyOf(r);
    if (!policy.ok()) {
      spdlog::error("API token {} ('{}') is unusable: {}", r.id, r.name,
                    ToStd(policy.status().message()));
      continue;
    }
    // Usage of an earlier month counts nothing in this one (as RollMonth).
    const bool earlier = r.usage_month < month;
    auto e = std::make_shared<TokenEntry>(*std::move(policy), earlier ? month : r.usage_month,
                                          earlier ? 0 : r.used_count, r.last_used_at);
    by_hash_[r.token_hash] = e;
    by_id_[r.id] = e;
  }
  spdlog::info("{} API token(s) loaded", by_id_.size());
  return absl::OkStatus();
}

std::shared_ptr<TokenEntry> TokenService::Find(std::string_view id) const {
  ReaderMutexLock lock(&cache_mu_);
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : it->second;
}

// --- application API ---------------------------------------------------------

absl::Status TokenService::Authorize(std::string_view value, std::string_view client_ip,
                                     const std::string* model_id, ApiCaller* caller) {
  absl::Status st = Admit(value, client_ip, model_id, caller);
  if (!st.ok()) CountRefusal(st);
  return st;
}

void TokenService::CountRefusal(const absl::Status& status) const {
  if (deps_.metrics == nullptr) return;
  const char* reason = "invalid";  // unknown, malformed or deleted token
  switch (ErrorCodeEnumOf(status)) {
    case ErrorCode::kTokenExpired:
      reason = "expired";
      break;
    case ErrorCode::kTokenPaused:
      reason = "paused";
      break;
    case ErrorCode::kIpNotAllowed:
      reason = "ip";
      break;
    case ErrorCode::kModelNotAllowed:
      reason = "model";
      break;
    case ErrorCode::kRateLimited:
      reason = "rate";
      break;
    case ErrorCode::kQuotaExceeded:
      reason = "quota";
      break;
    default:
      break;
  }
  deps_.metrics->TokenRefused(reason);
}

absl::Status TokenService::Admit(std::string_view value, std::string_view client_ip,
                                 const std::string* model_id, ApiCaller* caller) {
  if (!IsWellFormedToken(value)) return Unauthenticated();
  std::shared_ptr<TokenEntry> e;
  {
    const std::string hash = TokenHash(value);
    ReaderMutexLock lock(&cache_mu_);
    auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) return Unauthenticated();
    e = it->second;
  }
  const auto now = deps_.clock->Now();
  MutexLock lock(&e->mu);
  const TokenPolicy& p = *e->policy;
  caller->token_id = p.record.id;
  caller->entry = e;
  auto refuse = [&](absl::Status st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu) {
    if (p.record.rate_limit.has_value())
      caller->rate = e->window.Current(now, *p.record.rate_limit, kRateWindow);
    return st;
  };
  if (p.expires_at.has_value() && *p.expires_at <= now) {
    return refuse(MakeError(ErrorCode::kTokenExpired,
                            StrCat("the API token expired at ", *p.record.expires_at)));
  }
  if (!p.record.is_active) {
    return refuse(MakeError(ErrorCode::kTokenPaused, "the API token is paused"));
  }
  if (options_.Get()->ip_filter && !p.whitelist.empty() && !p.whitelist.Contains(client_ip)) {
    return refuse(MakeError(ErrorCode::kIpNotAllowed, StrCat("client address ", client_ip,
                                                             " is not allowed for this token")));
  }
  if (model_id != nullptr && !p.any_model && !p.models.contains(*model_id)) {
    return refuse(MakeError(ErrorCode::kModelNotAllowed,
                            StrCat("this token may not use model '", *model_id, "'")));
  }
  if (p.record.rate_limit.has_value()) {
    caller->rate = e->window.Acquire(now, *p.record.rate_limit, kRateWindow);
    if (caller->rate->allowed) caller->counted_at = now;
    if (!caller->rate->allowed) {
      return WithRetryAfter(
          MakeError(ErrorCode::kRateLimited,
                    StrCat("rate limit of ", *p.record.rate_limit, " requests per minute reached")),
          CeilSeconds(caller->rate->retry_after));
    }
  }
  return absl::OkStatus();
}

bool TokenService::ModelAllowed(const ApiCaller& caller, std::string_view model_id) const {
  if (caller.entry == nullptr) return false;
  MutexLock lock(&caller.entry->mu);
  const TokenPolicy& p = *caller.entry->policy;
  return p.any_model || p.models.contains(model_id);
}

absl::StatusOr<QuotaReservation> TokenService::Reserve(ApiCaller& caller, std::string_view model_id,
                                                       int64_t units) {
  if (caller.entry == nullptr) return Unauthenticated();
  TokenEntry& e = *caller.entry;
  const auto now = deps_.clock->Now();
  {
    MutexLock lock(&e.mu);
    RollMonth(e, UtcMonth(now));
    const auto& limit = e.policy->record.monthly_limit;
    if (limit.has_value() && e.committed + e.reserved + units > *limit) {
      if (caller.counted_at.has_value() && e.policy->record.rate_limit.has_value()) {
        e.window.Forget(*caller.counted_at);
        caller.counted_at.reset();
        caller.rate = e.window.Current(now, *e.policy->record.rate_limit, kRateWindow);
      }
      CountRefusal(MakeError(ErrorCode::kQuotaExceeded, ""));
      return WithRetryAfter(
          MakeError(ErrorCode::kQuotaExceeded,
                    StrCat("monthly quota of ", *limit, " reached (", e.committed, " used",
                           e.reserved > 0 ? StrCat(", ", e.reserved, " in flight") : "",
                           "); it resets at ", FormatIso8601(NextUtcMonthStart(now)))),
          CeilSeconds(NextUtcMonthStart(now) - now));
    }
    e.reserved += units;
  }
  if (deps_.usage != nullptr) deps_.usage->Expect(1);  // its commit will follow soon
  QuotaReservation r;
  r.service_ = this;
  r.entry_ = caller.entry;
  r.model_id_ = std::string(model_id);
  r.units_ = units;
  return r;
}

void TokenService::Unexpect() {
  if (deps_.usage != nullptr) deps_.usage->Expect(-1);
}

void TokenService::ReleaseUnits(TokenEntry& e, int64_t units) {
  MutexLock lock(&e.mu);
  e.reserved -= units;
}

std::optional<TokenUsageIncrement> TokenService::UsageIncrement(TokenEntry& e,
                                                                std::string_view model_id,
                                                                int64_t used) const {
  if (used <= 0) return std::nullopt;
  const auto now = deps_.clock->Now();
  TokenUsageIncrement inc;
  {
    MutexLock lock(&e.mu);
    inc.token_id = e.policy->record.id;
  }
  inc.model_id = std::string(model_id);
  inc.day = UtcDay(now);
  inc.month = UtcMonth(now);
  inc.count = used;
  inc.at = FormatIso8601(now);
  return inc;
}

absl::Status TokenService::FinishUsage(TokenEntry& e, const std::optional<TokenUsageIncrement>& inc,
                                       int64_t reserved, const absl::Status& st) {
  MutexLock lock(&e.mu);
  e.reserved -= reserved;
  if (inc.has_value() && st.ok()) {
    RollMonth(e, inc->month);
    if (e.month == inc->month) e.committed += inc->count;
    e.last_used_at = inc->at;
  }
  if (!st.ok()) {
    if (auto suppressed = usage_failures_.Admit(ToStd(st.message()))) {
      spdlog::error("token usage not recorded: {}{}", ToStd(st.message()),
                    *suppressed > 0 ? StrCat(" (and ", *suppressed, " more like it)") : "");
    }
    return WithRetryAfter(MakeError(ErrorCode::kUsageNotRecorded,
                                    "the request's usage could not be recorded; it was not "
                                    "counted, retry later"),
                          1);
  }
  return absl::OkStatus();
}

absl::Status TokenService::CommitUsage(TokenEntry& e, std::string_view model_id, int64_t reserved,
                                       int64_t used,
                                       std::chrono::steady_clock::time_point deadline) {
  const std::optional<TokenUsageIncrement> inc = UsageIncrement(e, model_id, used);
  const absl::Status st = inc.has_value() ? deps_.usage->Record(*inc, deadline) : absl::OkStatus();
  return FinishUsage(e, inc, reserved, st);
}

void TokenService::CommitUsageAsync(std::shared_ptr<TokenEntry> e, std::string_view model_id,
                                    int64_t reserved, int64_t used,
                                    std::chrono::steady_clock::time_point deadline,
                                    std::function<void(absl::Status)> done) {
  std::optional<TokenUsageIncrement> inc = UsageIncrement(*e, model_id, used);
  if (!inc.has_value()) {
    Unexpect();
    done(FinishUsage(*e, inc, reserved, absl::OkStatus()));
    return;
  }
  TokenUsageIncrement copy = *inc;
  deps_.usage->RecordAsync(
      std::move(copy), deadline,
      [this, e = std::move(e), inc = std::move(inc), reserved,
       done = std::move(done)](absl::Status st) { done(FinishUsage(*e, inc, reserved, st)); },
      /*expected=*/true);
}

std::optional<QuotaStatus> TokenService::Quota(const ApiCaller& caller) const {
  if (caller.entry == nullptr) return std::nullopt;
  const auto now = deps_.clock->Now();
  TokenEntry& e = *caller.entry;
  MutexLock lock(&e.mu);
  const auto& limit = e.policy->record.monthly_limit;
  if (!limit.has_value()) return std::nullopt;
  const int64_t used = e.month == UtcMonth(now) ? e.committed + e.reserved : 0;
  return QuotaStatus{*limit, std::max<int64_t>(0, *limit - used),
                     std::chrono::ceil<std::chrono::seconds>(NextUtcMonthStart(now) - now)};
}

}  // namespace cinfer
