#include "api/admin/auth_handlers.h"

#include "api/admin_authenticator.h"
#include "api/json_util.h"
#include "common/status_macros.h"

namespace cinfer::api {
namespace {

nlohmann::json SessionJson(const IssuedSession& s) {
  return {{"access_token", s.access_token},
          {"token_type", "Bearer"},
          {"expires_in", s.expires_in},
          {"role", std::string(RoleName(s.role))},
          {"must_change_password", s.must_change_password}};
}

// A response carrying a session token: never stored by caches or browsers.
http::Response SessionResponse(const IssuedSession& s) {
  http::Response r = JsonResponse(200, SessionJson(s));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

void AddAuthRoutes(AdminAuthService* auth, std::vector<http::Route>& routes) {
  using http::AuthScope;
  routes.push_back({"POST", "/api/v1/internal/auth/login", AuthScope::kPublic,
                    [auth](http::Request& req) -> absl::StatusOr<http::Response> {
                      ASSIGN_OR_RETURN(auto body, ParseJsonObject(req));
                      ASSIGN_OR_RETURN(std::string user, RequiredString(body, "username"));
                      ASSIGN_OR_RETURN(std::string pass, RequiredString(body, "password"));
                      ASSIGN_OR_RETURN(IssuedSession s, auth->Login(user, pass, req.client_ip));
                      return SessionResponse(s);
                    }});
  routes.push_back({"POST", "/api/v1/internal/auth/logout", AuthScope::kAdmin,
                    [auth](http::Request& req) -> absl::StatusOr<http::Response> {
                      RETURN_IF_ERROR(auth->Logout(AdminOf(req), req.client_ip));
                      return http::Response::NoContent();
                    }});
  routes.push_back({"GET", "/api/v1/internal/auth/me", AuthScope::kAdmin,
                    [auth](http::Request& req) -> absl::StatusOr<http::Response> {
                      ASSIGN_OR_RETURN(UserRecord u, auth->CurrentUser(AdminOf(req)));
                      nlohmann::json last_login = nullptr;
                      if (u.last_login) last_login = *u.last_login;
                      return JsonResponse(200, {{"id", u.id},
                                                {"username", u.username},
                                                {"is_admin", u.is_admin},
                                                {"role", u.role},
                                                {"must_change_password", u.must_change_password},
                                                {"created_at", u.created_at},
                                                {"last_login", last_login}});
                    }});
  routes.push_back({"POST", "/api/v1/internal/auth/password", AuthScope::kAdmin,
                    [auth](http::Request& req) -> absl::StatusOr<http::Response> {
                      ASSIGN_OR_RETURN(auto body, ParseJsonObject(req));
                      ASSIGN_OR_RETURN(std::string old_pw, RequiredString(body, "old_password"));
                      ASSIGN_OR_RETURN(std::string new_pw, RequiredString(body, "new_password"));
                      ASSIGN_OR_RETURN(
                          IssuedSession s,
                          auth->ChangePassword(AdminOf(req), old_pw, new_pw, req.client_ip));
                      return SessionResponse(s);
                    }});
}

}  // namespace cinfer::api
