#include "api/admin/token_handlers.h"

#include "api/admin_authenticator.h"
#include "api/json_util.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "tokens/token_value.h"

namespace cinfer::api {
namespace {

using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

nlohmann::json OrNull(const std::optional<std::string>& v) {
  return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
nlohmann::json OrNull(const std::optional<int64_t>& v) {
  return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json JsonList(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_array() ? j : nlohmann::json::array();
}

nlohmann::json TokenJson(const TokenView& v) {
  const TokenRecord& r = v.record;
  return {{"id", r.id},
          {"name", r.name},
          {"remark", r.remark},
          {"token_hint", TokenHint(r.token_suffix)},
          {"state", std::string(TokenStateName(v.state))},
          {"is_active", r.is_active},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at},
          {"expires_at", OrNull(r.expires_at)},
          {"allowed_models", JsonList(r.allowed_models)},
          {"ip_whitelist", JsonList(r.ip_whitelist)},
          {"rate_limit_per_minute", OrNull(r.rate_limit)},
          {"monthly_limit", OrNull(r.monthly_limit)},
          {"used_count", r.used_count},
          {"usage_month",
           r.usage_month.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.usage_month)},
          {"quota_remaining", OrNull(v.quota_remaining)},
          {"last_used_at", OrNull(r.last_used_at)},
          {"created_by", OrNull(v.created_by_name)}};
}

absl::StatusOr<std::vector<std::string>> StringListField(const std::string& key,
                                                         const nlohmann::json& value) {
  if (!value.is_array())
    return ValidationError(StrCat("field '", key, "' must be a list of strings"));
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.is_string())
      return ValidationError(StrCat("field '", key, "' must be a list of strings"));
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::optional<int64_t>> NullableInt(const std::string& key,
                                                   const nlohmann::json& value) {
  if (value.is_null()) return std::optional<int64_t>();
  if (!value.is_number_integer())
    return ValidationError(StrCat("field '", key, "' must be an integer or null"));
  return std::optional<int64_t>(value.get<int64_t>());
}

// The JSON body as TokenFields; unknown fields and wrong types are 422.
absl::StatusOr<TokenFields> FieldsOf(const Request& req) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  TokenFields f;
  for (const auto& [key, value] : body.items()) {
    if (key == "name" || key == "remark") {
      if (!value.is_string()) return ValidationError(StrCat("field '", key, "' must be a string"));
      (key == "name" ? f.name : f.remark) = value.get<std::string>();
    } else if (key == "expires_at") {
      if (value.is_null()) {
        f.expires_at = std::optional<std::string>();
      } else if (value.is_string()) {
        f.expires_at = std::optional<std::string>(value.get<std::string>());
      } else {
        return ValidationError("field 'expires_at' must be an RFC 3339 time or null");
      }
    } else if (key == "allowed_models") {
      ASSIGN_OR_RETURN(f.allowed_models, StringListField(key, value));
    } else if (key == "ip_whitelist") {
      ASSIGN_OR_RETURN(f.ip_whitelist, StringListField(key, value));
    } else if (key == "rate_limit_per_minute") {
      ASSIGN_OR_RETURN(f.rate_limit_per_minute, NullableInt(key, value));
    } else if (key == "monthly_limit") {
      ASSIGN_OR_RETURN(f.monthly_limit, NullableInt(key, value));
    } else {
      return ValidationError(StrCat("unknown field '", key,
                                    "' (name, remark, expires_at, allowed_models, ip_whitelist, "
                                    "rate_limit_per_minute, monthly_limit)"));
    }
  }
  return f;
}

Result ViewResponse(int status, const absl::StatusOr<TokenView>& v) {
  if (!v.ok()) return v.status();
  return JsonResponse(status, TokenJson(*v));
}

Result Create(TokenService* tokens, Request& req) {
  ASSIGN_OR_RETURN(TokenFields f, FieldsOf(req));
  ASSIGN_OR_RETURN(CreatedToken created, tokens->CreateToken(f, ActorOf(req)));
  nlohmann::json body = TokenJson(created.view);
  body["token"] = std::move(created.value);
  Response r = JsonResponse(201, body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Result List(TokenService* tokens, Request& req) {
  ASSIGN_OR_RETURN(Page page, PageParams(req, 20, 100));
  TokenQuery q;
  if (auto state = req.QueryParam("state"); state.has_value()) {
    q.state = ParseTokenState(*state);
    if (!q.state.has_value()) {
      return MakeError(ErrorCode::kBadRequest,
                       "parameter 'state' must be active, paused, expired or exceeded");
    }
  }
  q.name = std::string(req.QueryParam("name").value_or(""));
  q.offset = page.offset();
  q.limit = page.size;
  int64_t total = 0;
  ASSIGN_OR_RETURN(auto views, tokens->List(q, &total));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& v : views) items.push_back(TokenJson(v));
  return PagedResponse(std::move(items), total, page);
}

Result Usage(TokenService* tokens, Request& req) {
  ASSIGN_OR_RETURN(int64_t days, PositiveParam(req, "days", 30, 366));
  ASSIGN_OR_RETURN(TokenUsageReport rep, tokens->Usage(req.path_params["id"], days));
  nlohmann::json day_list = nlohmann::json::array();
  for (const auto& [day, count] : rep.days) day_list.push_back({{"date", day}, {"count", count}});
  nlohmann::json models = nlohmann::json::array();
  for (const auto& [model, count] : rep.models)
    models.push_back({{"model_id", model}, {"count", count}});
  const TokenRecord& r = rep.token.record;
  return JsonResponse(200, {{"token_id", rep.token_id},
                            {"from", rep.from},
                            {"to", rep.to},
                            {"total", rep.total},
                            {"used_count", r.used_count},
                            {"usage_month", r.usage_month.empty() ? nlohmann::json(nullptr)
                                                                  : nlohmann::json(r.usage_month)},
                            {"monthly_limit", OrNull(r.monthly_limit)},
                            {"days", std::move(day_list)},
                            {"models", std::move(models)}});
}

}  // namespace

void AddTokenRoutes(TokenService* tokens, std::vector<http::Route>& routes) {
  using http::AuthScope;
  const std::string base = "/api/v1/internal/tokens";
  routes.push_back(
      {"POST", base, AuthScope::kAdmin, [tokens](Request& req) { return Create(tokens, req); }});
  routes.push_back(
      {"GET", base, AuthScope::kAdmin, [tokens](Request& req) { return List(tokens, req); }});
  routes.push_back({"GET", base + "/{id}", AuthScope::kAdmin, [tokens](Request& req) {
                      return ViewResponse(200, tokens->Get(req.path_params["id"]));
                    }});
  routes.push_back({"PATCH", base + "/{id}", AuthScope::kAdmin, [tokens](Request& req) -> Result {
                      ASSIGN_OR_RETURN(TokenFields f, FieldsOf(req));
                      return ViewResponse(200,
                                          tokens->Update(req.path_params["id"], f, ActorOf(req)));
                    }});
  routes.push_back({"POST", base + "/{id}/pause", AuthScope::kAdmin, [tokens](Request& req) {
                      return ViewResponse(200, tokens->Pause(req.path_params["id"], ActorOf(req)));
                    }});
  routes.push_back({"POST", base + "/{id}/resume", AuthScope::kAdmin, [tokens](Request& req) {
                      return ViewResponse(200, tokens->Resume(req.path_params["id"], ActorOf(req)));
                    }});
  routes.push_back({"POST", base + "/{id}/reset-usage", AuthScope::kAdmin, [tokens](Request& req) {
                      return ViewResponse(200,
                                          tokens->ResetUsage(req.path_params["id"], ActorOf(req)));
                    }});
  routes.push_back({"DELETE", base + "/{id}", AuthScope::kAdmin, [tokens](Request& req) -> Result {
                      RETURN_IF_ERROR(tokens->Delete(req.path_params["id"], ActorOf(req)));
                      return Response::NoContent();
                    }});
  routes.push_back({"GET", base + "/{id}/usage", AuthScope::kAdmin,
                    [tokens](Request& req) { return Usage(tokens, req); }});
}

}  // namespace cinfer::api
