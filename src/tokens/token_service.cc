#include "tokens/token_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/errors.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "net/ip_address.h"
#include "spdlog/spdlog.h"
#include "storage/audit_writer.h"
#include "text/display_name.h"
#include "tokens/token_value.h"

namespace cinfer {

// The parsed, immutable settings of one token. Replaced as a whole on change.
struct TokenPolicy {
  TokenRecord record;
  bool any_model = false;
  std::set<std::string, std::less<>> models;
  net::IpSet whitelist;
  std::optional<Clock::TimePoint> expires_at;
};

struct TokenEntry {
  std::mutex mu;
  std::shared_ptr<const TokenPolicy> policy;  // guarded by mu
  SlidingWindow window;                       // guarded by mu
  std::string month;                          // the month `committed` counts
  int64_t committed = 0;                      // durable units in `month`
  int64_t reserved = 0;                       // units held by requests in flight
  std::optional<std::string> last_used_at;
};

namespace {

constexpr std::chrono::seconds kRateWindow{60};
constexpr int64_t kMaxRateLimit = 1'000'000;
constexpr int64_t kMaxMonthlyLimit = 1'000'000'000'000;
constexpr size_t kMaxNameChars = 100;
constexpr size_t kMaxRemarkChars = 1000;
constexpr size_t kMaxWhitelist = 100;
constexpr size_t kMaxAllowedModels = 1000;

std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status TokenNotFound(std::string_view id) {
  return MakeError(ErrorCode::kTokenNotFound, StrCat("no API token '", id, "'"));
}

absl::Status NameTaken(std::string_view name, std::string_view existing = {}) {
  return MakeError(ErrorCode::kTokenNameTaken,
                   existing.empty() || existing == name
                       ? StrCat("an API token named '", name, "' exists")
                       : StrCat("the name '", name, "' looks the same as API token '", existing,
                                "', which exists"));
}

// A nullable limit: the given value (checked against [1, max]), else the
// default when creating, else unchanged.
absl::Status ApplyLimit(const std::optional<std::optional<int64_t>>& given, const char* field,
                        int64_t max, const std::optional<int64_t>& fallback, bool creating,
                        std::optional<int64_t>& out) {
  if (given.has_value()) {
    if (given->has_value() && (**given < 1 || **given > max))
      return ValidationError(StrCat("'", field, "' must be 1 to ", max, ", or null"));
    out = *given;
  } else if (creating) {
    out = fallback;
  }
  return absl::OkStatus();
}

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

// Moves the entry's counters to `month` when it is a later month.
void RollMonth(TokenEntry& e, const std::string& month) {
  if (e.month < month) {
    e.month = month;
    e.committed = 0;
  }
}

}  // namespace

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
  if (service_ != nullptr && entry_ != nullptr && units_ > 0) {
    service_->ReleaseUnits(*entry_, units_);
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
  std::unique_lock lock(cache_mu_);
  for (const auto& r : records) {
    auto policy = PolicyOf(r);
    if (!policy.ok()) {
      spdlog::error("API token {} ('{}') is unusable: {}", r.id, r.name,
                    ToStd(policy.status().message()));
      continue;
    }
    auto e = std::make_shared<TokenEntry>();
    e->policy = *std::move(policy);
    e->month = r.usage_month;
    e->committed = r.used_count;
    e->last_used_at = r.last_used_at;
    RollMonth(*e, month);
    by_hash_[r.token_hash] = e;
    by_id_[r.id] = e;
  }
  spdlog::info("{} API token(s) loaded", by_id_.size());
  return absl::OkStatus();
}

std::shared_ptr<TokenEntry> TokenService::Find(std::string_view id) const {
  std::shared_lock lock(cache_mu_);
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : it->second;
}

TokenView TokenService::ViewOf(const TokenEntry& e, Clock::TimePoint now) const {
  TokenView v;
  v.record = e.policy->record;
  const bool this_month = e.month == UtcMonth(now);
  v.record.used_count = this_month ? e.committed : 0;
  v.record.usage_month = e.month;
  v.record.last_used_at = e.last_used_at;
  v.state = DeriveTokenState({.is_active = v.record.is_active,
                              .expires_at = e.policy->expires_at,
                              .monthly_limit = v.record.monthly_limit,
                              .used_this_month = v.record.used_count},
                             now);
  if (v.record.monthly_limit.has_value()) {
    v.quota_remaining = std::max<int64_t>(0, *v.record.monthly_limit - v.record.used_count);
  }
  return v;
}

void TokenService::Audit(const Actor& actor, std::string_view action, const TokenRecord& token,
                         nlohmann::json detail) {
  detail["name"] = token.name;
  WriteAudit(deps_.audit, *deps_.clock, actor, action, "token", token.id, detail);
}

// Validates `fields` and writes them into `record`. Creation fills defaults.
absl::Status TokenService::Apply(const TokenFields& f, bool creating, TokenRecord& r) {
  const std::shared_ptr<const Options> options = options_.Get();  // one snapshot
  const auto now = deps_.clock->Now();
  if (f.name.has_value()) {
    ASSIGN_OR_RETURN(r.name,
                     text::NormalizeDisplayName(*f.name, "name", static_cast<int>(kMaxNameChars)));
    std::vector<std::shared_ptr<TokenEntry>> entries;
    {
      std::shared_lock lock(cache_mu_);
      for (const auto& [hash, entry] : by_hash_) entries.push_back(entry);
    }
    std::vector<std::string> names;
    for (const auto& entry : entries) {
      std::lock_guard entry_lock(entry->mu);
      if (entry->policy->record.id != r.id) names.push_back(entry->policy->record.name);
    }
    if (auto taken = text::FindConfusable(r.name, names)) return NameTaken(r.name, *taken);
  } else if (creating) {
    return ValidationError("'name' is required");
  }
  if (f.remark.has_value()) {
    if (f.remark->size() > kMaxRemarkChars)
      return ValidationError(StrCat("'remark' must be at most ", kMaxRemarkChars, " characters"));
    r.remark = *f.remark;
  }
  if (f.expires_at.has_value()) {
    if (!f.expires_at->has_value()) {
      r.expires_at.reset();
    } else {
      auto t = ParseRfc3339(**f.expires_at);
      if (!t.has_value())
        return ValidationError(
            "'expires_at' must be an RFC 3339 time no later than 2262-04-11T23:47:16Z, e.g. "
            "2027-01-31T00:00:00Z");
      if (*t <= now) return ValidationError("'expires_at' must be in the future");
      r.expires_at = FormatIso8601(*t);
    }
  } else if (creating && options->default_expiry_days > 0) {
    r.expires_at = FormatIso8601(now + std::chrono::hours(24 * options->default_expiry_days));
  }
  if (f.allowed_models.has_value()) {
    const auto& list = *f.allowed_models;
    if (list.empty() || list.size() > kMaxAllowedModels)
      return ValidationError(StrCat("'allowed_models' must list 1 to ", kMaxAllowedModels,
                                    " model ids, or [\"*\"] for all"));
    std::set<std::string> seen;
    for (const auto& id : list) {
      if (id == "*") {
        if (list.size() != 1)
          return ValidationError("'allowed_models': \"*\" (all models) must be the only entry");
      } else {
        ASSIGN_OR_RETURN(auto m, deps_.models->FindModel(id));
        if (!m.has_value()) return ValidationError(StrCat("'allowed_models': no model '", id, "'"));
      }
      seen.insert(id);
    }
    r.allowed_models = JsonText(nlohmann::json(std::vector<std::string>(seen.begin(), seen.end())));
  } else if (creating) {
    r.allowed_models = R"(["*"])";
  }
  if (f.ip_whitelist.has_value()) {
    if (f.ip_whitelist->size() > kMaxWhitelist)
      return ValidationError(
          StrCat("'ip_whitelist' must have at most ", kMaxWhitelist, " entries"));
    auto set = net::IpSet::Parse(*f.ip_whitelist);
    if (!set.ok())
      return ValidationError(StrCat("'ip_whitelist': ", ToStd(set.status().message())));
    std::vector<std::string> canonical;
    for (const auto& n : set->networks()) canonical.push_back(n.ToString());
    r.ip_whitelist = JsonText(nlohmann::json(canonical));
  } else if (creating) {
    r.ip_whitelist = "[]";
  }
  RETURN_IF_ERROR(ApplyLimit(f.rate_limit_per_minute, "rate_limit_per_minute", kMaxRateLimit,
                             options->default_rate_limit, creating, r.rate_limit));
  RETURN_IF_ERROR(ApplyLimit(f.monthly_limit, "monthly_limit", kMaxMonthlyLimit,
                             options->default_monthly_limit, creating, r.monthly_limit));
  return absl::OkStatus();
}

absl::StatusOr<CreatedToken> TokenService::CreateToken(const TokenFields& fields,
                                                       const Actor& actor) {
  std::lock_guard admin(admin_mu_);
  const auto now = deps_.clock->Now();
  TokenRecord r;
  r.id = NewUuid();
  RETURN_IF_ERROR(Apply(fields, /*creating=*/true, r));
  std::string value = NewTokenValue();
  r.token_hash = TokenHash(value);
  r.token_suffix = value.substr(value.size() - kTokenSuffixLength);
  r.created_at = r.updated_at = FormatIso8601(now);
  r.is_active = true;
  r.usage_month = "";
  if (!actor.id.empty()) r.created_by = actor.id;
  ASSIGN_OR_RETURN(auto policy, PolicyOf(r));
  absl::Status st = deps_.tokens->CreateToken(r);
  if (absl::IsAlreadyExists(st)) {
    return NameTaken(r.name);
  }
  RETURN_IF_ERROR(st);
  auto e = std::make_shared<TokenEntry>();
  e->policy = std::move(policy);
  e->month = UtcMonth(now);
  {
    std::unique_lock lock(cache_mu_);
    by_hash_[r.token_hash] = e;
    by_id_[r.id] = e;
  }
  Audit(actor, "token.create", r,
        {{"allowed_models", nlohmann::json::parse(r.allowed_models, nullptr, false)},
         {"ip_whitelist", nlohmann::json::parse(r.ip_whitelist, nullptr, false)},
         {"rate_limit_per_minute", r.rate_limit ? nlohmann::json(*r.rate_limit) : nullptr},
         {"monthly_limit", r.monthly_limit ? nlohmann::json(*r.monthly_limit) : nullptr},
         {"expires_at", r.expires_at ? nlohmann::json(*r.expires_at) : nullptr}});
  CreatedToken out;
  out.value = std::move(value);
  {
    std::lock_guard lock(e->mu);
    out.view = ViewOf(*e, now);
  }
  if (auto u = deps_.users->FindUserById(actor.id); u.ok() && u->has_value()) {
    out.view.created_by_name = (*u)->username;
  }
  return out;
}

absl::StatusOr<std::vector<TokenView>> TokenService::List(const TokenQuery& q, int64_t* total) {
  std::vector<std::shared_ptr<TokenEntry>> entries;
  {
    std::shared_lock lock(cache_mu_);
    for (const auto& [id, e] : by_id_) entries.push_back(e);
  }
  const auto now = deps_.clock->Now();
  std::vector<TokenView> views;
  for (const auto& e : entries) {
    TokenView v;
    {
      std::lock_guard lock(e->mu);
      v = ViewOf(*e, now);
    }
    if (q.state.has_value() && v.state != *q.state) continue;
    if (!q.name.empty() && v.record.name.find(q.name) == std::string::npos) continue;
    views.push_back(std::move(v));
  }
  std::sort(views.begin(), views.end(), [](const TokenView& a, const TokenView& b) {
    return a.record.created_at != b.record.created_at ? a.record.created_at > b.record.created_at
                                                      : a.record.id > b.record.id;
  });
  *total = static_cast<int64_t>(views.size());
  std::vector<TokenView> page;
  std::map<std::string, std::optional<std::string>> names;
  for (int64_t i = q.offset; i < *total && i < q.offset + q.limit; ++i) {
    TokenView& v = views[static_cast<size_t>(i)];
    if (v.record.created_by.has_value()) {
      const std::string& uid = *v.record.created_by;
      if (!names.contains(uid)) {
        auto u = deps_.users->FindUserById(uid);
        names[uid] = u.ok() && u->has_value() ? std::optional((*u)->username) : std::nullopt;
      }
      v.created_by_name = names[uid];
    }
    page.push_back(std::move(v));
  }
  return page;
}

absl::StatusOr<TokenView> TokenService::Get(std::string_view id) {
  auto e = Find(id);
  if (e == nullptr) return TokenNotFound(id);
  TokenView v;
  {
    std::lock_guard lock(e->mu);
    v = ViewOf(*e, deps_.clock->Now());
  }
  if (v.record.created_by.has_value()) {
    if (auto u = deps_.users->FindUserById(*v.record.created_by); u.ok() && u->has_value())
      v.created_by_name = (*u)->username;
  }
  return v;
}

absl::StatusOr<TokenView> TokenService::Save(
    std::string_view id, const Actor& actor, std::string_view action, nlohmann::json detail,
    const std::function<absl::Status(TokenRecord&)>& change) {
  std::lock_guard admin(admin_mu_);
  auto e = Find(id);
  if (e == nullptr) return TokenNotFound(id);
  TokenRecord r;
  {
    std::lock_guard lock(e->mu);
    r = e->policy->record;
  }
  RETURN_IF_ERROR(change(r));
  r.updated_at = FormatIso8601(deps_.clock->Now());
  ASSIGN_OR_RETURN(auto policy, PolicyOf(r));
  absl::Status st = deps_.tokens->UpdateToken(r);
  if (absl::IsNotFound(st)) return TokenNotFound(id);
  if (absl::IsAlreadyExists(st)) {
    return NameTaken(r.name);
  }
  RETURN_IF_ERROR(st);
  {
    std::lock_guard lock(e->mu);
    e->policy = std::move(policy);
  }
  Audit(actor, action, r, std::move(detail));
  return Get(id);
}

absl::StatusOr<TokenView> TokenService::Update(std::string_view id, const TokenFields& fields,
                                               const Actor& actor) {
  std::vector<std::string> changed;
  if (fields.name) changed.push_back("name");
  if (fields.remark) changed.push_back("remark");
  if (fields.expires_at) changed.push_back("expires_at");
  if (fields.allowed_models) changed.push_back("allowed_models");
  if (fields.ip_whitelist) changed.push_back("ip_whitelist");
  if (fields.rate_limit_per_minute) changed.push_back("rate_limit_per_minute");
  if (fields.monthly_limit) changed.push_back("monthly_limit");
  return Save(id, actor, "token.update", nlohmann::json{{"fields", changed}},
              [&](TokenRecord& r) { return Apply(fields, /*creating=*/false, r); });
}

absl::StatusOr<TokenView> TokenService::Pause(std::string_view id, const Actor& actor) {
  return Save(id, actor, "token.pause", nlohmann::json::object(), [](TokenRecord& r) {
    r.is_active = false;
    return absl::OkStatus();
  });
}

absl::StatusOr<TokenView> TokenService::Resume(std::string_view id, const Actor& actor) {
  return Save(id, actor, "token.resume", nlohmann::json::object(), [](TokenRecord& r) {
    r.is_active = true;
    return absl::OkStatus();
  });
}

absl::StatusOr<TokenView> TokenService::ResetUsage(std::string_view id, const Actor& actor) {
  std::lock_guard admin(admin_mu_);
  auto e = Find(id);
  if (e == nullptr) return TokenNotFound(id);
  const auto now = deps_.clock->Now();
  const std::string month = UtcMonth(now);
  absl::Status st = deps_.tokens->ResetTokenUsage(id, month, FormatIso8601(now));
  if (absl::IsNotFound(st)) return TokenNotFound(id);
  RETURN_IF_ERROR(st);
  TokenRecord r;
  int64_t before = 0;
  {
    std::lock_guard lock(e->mu);
    before = e->month == month ? e->committed : 0;
    e->month = month;
    e->committed = 0;
    r = e->policy->record;
  }
  Audit(actor, "token.reset_usage", r, {{"used_count_before", before}});
  return Get(id);
}

absl::Status TokenService::Delete(std::string_view id, const Actor& actor) {
  std::lock_guard admin(admin_mu_);
  auto e = Find(id);
  if (e == nullptr) return TokenNotFound(id);
  absl::Status st = deps_.tokens->DeleteToken(id);
  if (absl::IsNotFound(st)) return TokenNotFound(id);
  RETURN_IF_ERROR(st);
  TokenRecord r;
  {
    std::lock_guard lock(e->mu);
    r = e->policy->record;
  }
  {
    std::unique_lock lock(cache_mu_);
    by_hash_.erase(r.token_hash);
    by_id_.erase(r.id);
  }
  Audit(actor, "token.delete", r, nlohmann::json::object());
  return absl::OkStatus();
}

absl::StatusOr<TokenUsageReport> TokenService::Usage(std::string_view id, int64_t days) {
  ASSIGN_OR_RETURN(TokenView view, Get(id));
  const auto now = deps_.clock->Now();
  TokenUsageReport rep;
  rep.token_id = std::string(id);
  rep.to = UtcDay(now);
  std::vector<std::string> day_keys;
  for (int64_t i = days - 1; i >= 0; --i)
    day_keys.push_back(UtcDay(now - std::chrono::hours(24 * i)));
  rep.from = day_keys.front();
  ASSIGN_OR_RETURN(auto rows, deps_.tokens->TokenUsage(id, rep.from, rep.to));
  std::map<std::string, int64_t> per_day, per_model;
  for (const auto& row : rows) {
    per_day[row.day] += row.count;
    per_model[row.model_id] += row.count;
    rep.total += row.count;
  }
  for (const auto& d : day_keys) rep.days.emplace_back(d, per_day.contains(d) ? per_day[d] : 0);
  rep.models.assign(per_model.begin(), per_model.end());
  rep.token = std::move(view);
  return rep;
}

// --- application API ---------------------------------------------------------

absl::Status TokenService::Authorize(std::string_view value, std::string_view client_ip,
                                     const std::string* model_id, ApiCaller* caller) {
  if (!IsWellFormedToken(value)) return Unauthenticated();
  std::shared_ptr<TokenEntry> e;
  {
    const std::string hash = TokenHash(value);
    std::shared_lock lock(cache_mu_);
    auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) return Unauthenticated();
    e = it->second;
  }
  const auto now = deps_.clock->Now();
  std::lock_guard lock(e->mu);
  const TokenPolicy& p = *e->policy;
  caller->token_id = p.record.id;
  caller->entry = e;
  auto refuse = [&](absl::Status st) {
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
  std::lock_guard lock(caller.entry->mu);
  const TokenPolicy& p = *caller.entry->policy;
  return p.any_model || p.models.contains(model_id);
}

absl::StatusOr<QuotaReservation> TokenService::Reserve(ApiCaller& caller, std::string_view model_id,
                                                       int64_t units) {
  if (caller.entry == nullptr) return Unauthenticated();
  TokenEntry& e = *caller.entry;
  const auto now = deps_.clock->Now();
  {
    std::lock_guard lock(e.mu);
    RollMonth(e, UtcMonth(now));
    const auto& limit = e.policy->record.monthly_limit;
    if (limit.has_value() && e.committed + e.reserved + units > *limit) {
      if (caller.counted_at.has_value() && e.policy->record.rate_limit.has_value()) {
        e.window.Forget(*caller.counted_at);
        caller.counted_at.reset();
        caller.rate = e.window.Current(now, *e.policy->record.rate_limit, kRateWindow);
      }
      return WithRetryAfter(
          MakeError(ErrorCode::kQuotaExceeded,
                    StrCat("monthly quota of ", *limit, " reached (", e.committed, " used",
                           e.reserved > 0 ? StrCat(", ", e.reserved, " in flight") : "",
                           "); it resets at ", FormatIso8601(NextUtcMonthStart(now)))),
          CeilSeconds(NextUtcMonthStart(now) - now));
    }
    e.reserved += units;
  }
  QuotaReservation r;
  r.service_ = this;
  r.entry_ = caller.entry;
  r.model_id_ = std::string(model_id);
  r.units_ = units;
  return r;
}

void TokenService::ReleaseUnits(TokenEntry& e, int64_t units) {
  std::lock_guard lock(e.mu);
  e.reserved -= units;
}

std::optional<TokenUsageIncrement> TokenService::UsageIncrement(TokenEntry& e,
                                                                std::string_view model_id,
                                                                int64_t used) const {
  if (used <= 0) return std::nullopt;
  const auto now = deps_.clock->Now();
  TokenUsageIncrement inc;
  {
    std::lock_guard lock(e.mu);
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
  std::lock_guard lock(e.mu);
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
    done(FinishUsage(*e, inc, reserved, absl::OkStatus()));
    return;
  }
  TokenUsageIncrement copy = *inc;
  deps_.usage->RecordAsync(
      std::move(copy), deadline,
      [this, e = std::move(e), inc = std::move(inc), reserved,
       done = std::move(done)](absl::Status st) { done(FinishUsage(*e, inc, reserved, st)); });
}

std::optional<QuotaStatus> TokenService::Quota(const ApiCaller& caller) const {
  if (caller.entry == nullptr) return std::nullopt;
  const auto now = deps_.clock->Now();
  std::lock_guard lock(caller.entry->mu);
  const TokenEntry& e = *caller.entry;
  const auto& limit = e.policy->record.monthly_limit;
  if (!limit.has_value()) return std::nullopt;
  const int64_t used = e.month == UtcMonth(now) ? e.committed + e.reserved : 0;
  return QuotaStatus{*limit, std::max<int64_t>(0, *limit - used),
                     std::chrono::ceil<std::chrono::seconds>(NextUtcMonthStart(now) - now)};
}

}  // namespace cinfer
