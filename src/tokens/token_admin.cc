#include <algorithm>
#include <map>
#include <set>

#include "common/errors.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "net/ip_address.h"
#include "storage/audit_writer.h"
#include "text/display_name.h"
#include "tokens/token_entry.h"
#include "tokens/token_service.h"
#include "tokens/token_value.h"

namespace cinfer {
namespace {

constexpr size_t kMaxNameChars = 100;
constexpr size_t kMaxRemarkChars = 1000;
constexpr size_t kMaxWhitelist = 100;
constexpr size_t kMaxAllowedModels = 1000;
constexpr int64_t kMaxRateLimit = 1'000'000;
constexpr int64_t kMaxMonthlyLimit = 1'000'000'000'000;

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

// The expiry: the given time (RFC 3339, in the future) or none, else
// `default_days` from `now` when creating (0: none), else unchanged.
absl::Status ApplyExpiry(const std::optional<std::optional<std::string>>& given, bool creating,
                         int64_t default_days, Clock::TimePoint now, TokenRecord& r) {
  if (given.has_value()) {
    if (!given->has_value()) {
      r.expires_at.reset();
    } else {
      auto t = ParseRfc3339(**given);
      if (!t.has_value())
        return ValidationError(
            "'expires_at' must be an RFC 3339 time no later than 2262-04-11T23:47:16Z, e.g. "
            "2027-01-31T00:00:00Z");
      if (*t <= now) return ValidationError("'expires_at' must be in the future");
      r.expires_at = FormatIso8601(*t);
    }
  } else if (creating && default_days > 0) {
    r.expires_at = FormatIso8601(now + std::chrono::hours(24 * default_days));
  }
  return absl::OkStatus();
}

// The models the token may use: the given model ids (each one known to
// `models`) or ["*"], else all models when creating, else unchanged.
absl::Status ApplyAllowedModels(const std::optional<std::vector<std::string>>& given, bool creating,
                                ModelStore& models, TokenRecord& r) {
  if (given.has_value()) {
    const auto& list = *given;
    if (list.empty() || list.size() > kMaxAllowedModels)
      return ValidationError(StrCat("'allowed_models' must list 1 to ", kMaxAllowedModels,
                                    " model ids, or [\"*\"] for all"));
    std::set<std::string> seen;
    for (const auto& id : list) {
      if (id == "*") {
        if (list.size() != 1)
          return ValidationError("'allowed_models': \"*\" (all models) must be the only entry");
      } else {
        ASSIGN_OR_RETURN(auto m, models.FindModel(id));
        if (!m.has_value()) return ValidationError(StrCat("'allowed_models': no model '", id, "'"));
      }
      seen.insert(id);
    }
    r.allowed_models = JsonText(nlohmann::json(std::vector<std::string>(seen.begin(), seen.end())));
  } else if (creating) {
    r.allowed_models = R"(["*"])";
  }
  return absl::OkStatus();
}

// The client networks the token may be used from, in canonical form: the
// given ones, else none (any address) when creating, else unchanged.
absl::Status ApplyIpWhitelist(const std::optional<std::vector<std::string>>& given, bool creating,
                              TokenRecord& r) {
  if (given.has_value()) {
    if (given->size() > kMaxWhitelist)
      return ValidationError(
          StrCat("'ip_whitelist' must have at most ", kMaxWhitelist, " entries"));
    auto set = net::IpSet::Parse(*given);
    if (!set.ok())
      return ValidationError(StrCat("'ip_whitelist': ", ToStd(set.status().message())));
    std::vector<std::string> canonical;
    for (const auto& n : set->networks()) canonical.push_back(n.ToString());
    r.ip_whitelist = JsonText(nlohmann::json(canonical));
  } else if (creating) {
    r.ip_whitelist = "[]";
  }
  return absl::OkStatus();
}

// The administrators' view of a cached token.
TokenView ViewOf(const TokenEntry& e, Clock::TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e.mu) {
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

}  // namespace

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
    RETURN_IF_ERROR(ApplyName(*f.name, r));
  } else if (creating) {
    return ValidationError("'name' is required");
  }
  if (f.remark.has_value()) {
    if (f.remark->size() > kMaxRemarkChars)
      return ValidationError(StrCat("'remark' must be at most ", kMaxRemarkChars, " characters"));
    r.remark = *f.remark;
  }
  RETURN_IF_ERROR(ApplyExpiry(f.expires_at, creating, options->default_expiry_days, now, r));
  RETURN_IF_ERROR(ApplyAllowedModels(f.allowed_models, creating, *deps_.models, r));
  RETURN_IF_ERROR(ApplyIpWhitelist(f.ip_whitelist, creating, r));
  RETURN_IF_ERROR(ApplyLimit(f.rate_limit_per_minute, "rate_limit_per_minute", kMaxRateLimit,
                             options->default_rate_limit, creating, r.rate_limit));
  RETURN_IF_ERROR(ApplyLimit(f.monthly_limit, "monthly_limit", kMaxMonthlyLimit,
                             options->default_monthly_limit, creating, r.monthly_limit));
  return absl::OkStatus();
}

// Normalises `name` into `record.name`; NAME_TAKEN when it looks the same as
// the name of another token.
absl::Status TokenService::ApplyName(const std::string& name, TokenRecord& r) const {
  ASSIGN_OR_RETURN(r.name,
                   text::NormalizeDisplayName(name, "name", static_cast<int>(kMaxNameChars)));
  std::vector<std::shared_ptr<TokenEntry>> entries;
  {
    ReaderMutexLock lock(&cache_mu_);
    for (const auto& [hash, entry] : by_hash_) entries.push_back(entry);
  }
  std::vector<std::string> names;
  for (const auto& entry : entries) {
    MutexLock entry_lock(&entry->mu);
    if (entry->policy->record.id != r.id) names.push_back(entry->policy->record.name);
  }
  if (auto taken = text::FindConfusable(r.name, names)) return NameTaken(r.name, *taken);
  return absl::OkStatus();
}

absl::StatusOr<CreatedToken> TokenService::CreateToken(const TokenFields& fields,
                                                       const Actor& actor) {
  MutexLock admin(&admin_mu_);
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
  auto e = std::make_shared<TokenEntry>(std::move(policy), UtcMonth(now), 0, std::nullopt);
  {
    MutexLock lock(&cache_mu_);
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
    MutexLock lock(&e->mu);
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
    ReaderMutexLock lock(&cache_mu_);
    for (const auto& [id, e] : by_id_) entries.push_back(e);
  }
  const auto now = deps_.clock->Now();
  std::vector<TokenView> views;
  for (const auto& e : entries) {
    TokenView v;
    {
      MutexLock lock(&e->mu);
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
    MutexLock lock(&e->mu);
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
  MutexLock admin(&admin_mu_);
  auto e = Find(id);
  if (e == nullptr) return TokenNotFound(id);
  TokenRecord r;
  {
    MutexLock lock(&e->mu);
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
    MutexLock lock(&e->mu);
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
  MutexLock admin(&admin_mu_);
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
    MutexLock lock(&e->mu);
    before = e->month == month ? e->committed : 0;
    e->month = month;
    e->committed = 0;
    r = e->policy->record;
  }
  Audit(actor, "token.reset_usage", r, {{"used_count_before", before}});
  return Get(id);
}

absl::Status TokenService::Delete(std::string_view id, const Actor& actor) {
  MutexLock admin(&admin_mu_);
  auto e = Find(id);
  if (e == nullptr) return TokenNotFound(id);
  absl::Status st = deps_.tokens->DeleteToken(id);
  if (absl::IsNotFound(st)) return TokenNotFound(id);
  RETURN_IF_ERROR(st);
  TokenRecord r;
  {
    MutexLock lock(&e->mu);
    r = e->policy->record;
  }
  {
    MutexLock lock(&cache_mu_);
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

}  // namespace cinfer
