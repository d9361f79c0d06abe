#include "api/admin/user_handlers.h"

#include "api/admin_authenticator.h"
#include "api/json_util.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer::api {
namespace {

using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

nlohmann::json UserJson(const UserRecord& u) {
  auto optional = [](const std::optional<std::string>& v) {
    return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"id", u.id},
          {"username", u.username},
          {"role", u.role},
          {"status", u.status},
          {"must_change_password", u.must_change_password},
          {"created_at", u.created_at},
          {"updated_at", u.updated_at},
          {"last_login", optional(u.last_login)},
          {"failed_logins", u.failed_logins},
          {"last_failed_login", optional(u.last_failed_login)}};
}

// A string field of `body` (422 naming it when it is not a string).
absl::StatusOr<std::optional<std::string>> StringField(const nlohmann::json& body,
                                                       const char* key) {
  auto it = body.find(key);
  if (it == body.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return FieldValidationError(key, StrCat("field '", key, "' must be a string"));
  }
  return std::optional<std::string>(it->get<std::string>());
}

Result Create(UserService* users, Request& req) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  RETURN_IF_ERROR(OnlyFields(body, {"username", "password", "role"}, "username, password, role"));
  ASSIGN_OR_RETURN(std::string username, RequiredString(body, "username"));
  ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  ASSIGN_OR_RETURN(std::optional<std::string> role, StringField(body, "role"));
  ASSIGN_OR_RETURN(UserRecord u,
                   users->Create(username, password, role.value_or("viewer"), ActorOf(req)));
  return JsonResponse(201, UserJson(u));
}

Result Patch(UserService* users, Request& req) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  RETURN_IF_ERROR(OnlyFields(body, {"role", "status"}, "role, status"));
  UserPatch patch;
  ASSIGN_OR_RETURN(patch.role, StringField(body, "role"));
  ASSIGN_OR_RETURN(patch.status, StringField(body, "status"));
  ASSIGN_OR_RETURN(UserRecord u, users->Update(req.path_params["id"], patch, ActorOf(req)));
  return JsonResponse(200, UserJson(u));
}

http::Handler SetStatus(UserService* users, const char* status) {
  return [users, status](Request& req) -> Result {
    UserPatch patch;
    patch.status = status;
    ASSIGN_OR_RETURN(UserRecord u, users->Update(req.path_params["id"], patch, ActorOf(req)));
    return JsonResponse(200, UserJson(u));
  };
}

Result ResetPassword(UserService* users, Request& req) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  RETURN_IF_ERROR(OnlyFields(body, {"password"}, "password"));
  ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  RETURN_IF_ERROR(users->ResetPassword(req.path_params["id"], password, ActorOf(req)));
  return Response::NoContent();
}

}  // namespace

void AddUserRoutes(UserService* users, std::vector<http::Route>& routes) {
  using http::AuthScope;
  const std::string base = "/api/v1/internal/users";
  routes.push_back({"GET", base, AuthScope::kAdmin, [users](Request&) -> Result {
                      ASSIGN_OR_RETURN(auto list, users->List());
                      nlohmann::json items = nlohmann::json::array();
                      for (const auto& u : list) items.push_back(UserJson(u));
                      return JsonResponse(200, {{"items", std::move(items)}});
                    }});
  routes.push_back(
      {"POST", base, AuthScope::kAdmin, [users](Request& req) { return Create(users, req); }});
  routes.push_back({"GET", base + "/{id}", AuthScope::kAdmin, [users](Request& req) -> Result {
                      ASSIGN_OR_RETURN(UserRecord u, users->Get(req.path_params["id"]));
                      return JsonResponse(200, UserJson(u));
                    }});
  routes.push_back({"PATCH", base + "/{id}", AuthScope::kAdmin,
                    [users](Request& req) { return Patch(users, req); }});
  routes.push_back({"DELETE", base + "/{id}", AuthScope::kAdmin, [users](Request& req) -> Result {
                      RETURN_IF_ERROR(users->Delete(req.path_params["id"], ActorOf(req)));
                      return Response::NoContent();
                    }});
  routes.push_back(
      {"POST", base + "/{id}/disable", AuthScope::kAdmin, SetStatus(users, "disabled")});
  routes.push_back({"POST", base + "/{id}/enable", AuthScope::kAdmin, SetStatus(users, "active")});
  routes.push_back({"POST", base + "/{id}/reset-password", AuthScope::kAdmin,
                    [users](Request& req) { return ResetPassword(users, req); }});
}

}  // namespace cinfer::api
