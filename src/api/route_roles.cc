#include "api/route_roles.h"

#include <string_view>

#include "common/strings.h"

namespace cinfer::api {
namespace {

struct RouteRole {
  std::string_view method;
  std::string_view pattern;
  std::string_view role;
  // Open to a user whose password an administrator reset, before they change it.
  bool before_password_change = false;
};

constexpr std::string_view kBase = "/api/v1/internal";

// Patterns relative to /api/v1/internal.
constexpr RouteRole kRouteRoles[] = {
    {"GET", "/system/info", "viewer"},
    {"GET", "/system/config", "admin"},
    {"PATCH", "/system/config", "admin"},
    {"POST", "/auth/logout", "viewer", true},
    {"GET", "/auth/me", "viewer", true},
    {"POST", "/auth/password", "viewer", true},
    {"GET", "/models", "viewer"},
    {"POST", "/models", "operator"},
    {"GET", "/models/{id}", "viewer"},
    {"PATCH", "/models/{id}", "operator"},
    {"DELETE", "/models/{id}", "operator"},
    {"POST", "/models/{id}/versions", "operator"},
    {"GET", "/models/{id}/versions", "viewer"},
    {"POST", "/models/{id}/versions/{version}/activate", "operator"},
    {"POST", "/models/{id}/publish", "operator"},
    {"POST", "/models/{id}/unpublish", "operator"},
    {"POST", "/models/{id}/test", "operator"},
    {"GET", "/models/{id}/stats", "viewer"},
    {"GET", "/logs", "viewer"},
    {"GET", "/stats/overview", "viewer"},
    {"GET", "/audit", "viewer"},
    {"POST", "/tokens", "operator"},
    {"GET", "/tokens", "viewer"},
    {"GET", "/tokens/{id}", "viewer"},
    {"PATCH", "/tokens/{id}", "operator"},
    {"DELETE", "/tokens/{id}", "operator"},
    {"POST", "/tokens/{id}/pause", "operator"},
    {"POST", "/tokens/{id}/resume", "operator"},
    {"POST", "/tokens/{id}/reset-usage", "operator"},
    {"GET", "/tokens/{id}/usage", "viewer"},
    {"GET", "/users", "admin"},
    {"POST", "/users", "admin"},
    {"GET", "/users/{id}", "admin"},
    {"PATCH", "/users/{id}", "admin"},
    {"DELETE", "/users/{id}", "admin"},
    {"POST", "/users/{id}/disable", "admin"},
    {"POST", "/users/{id}/enable", "admin"},
    {"POST", "/users/{id}/reset-password", "admin"},
};

}  // namespace

bool OpenBeforePasswordChange(const http::Route& route) {
  for (const RouteRole& rr : kRouteRoles) {
    if (route.method == rr.method && route.pattern == StrCat(kBase, rr.pattern)) {
      return rr.before_password_change;
    }
  }
  return false;
}

absl::Status AssignRouteRoles(std::vector<http::Route>& routes) {
  for (http::Route& r : routes) {
    if (r.scope != http::AuthScope::kAdmin) continue;
    for (const RouteRole& rr : kRouteRoles) {
      if (r.method == rr.method && r.pattern == StrCat(kBase, rr.pattern)) {
        r.permission = std::string(rr.role);
        break;
      }
    }
    if (r.permission.empty()) {
      return absl::InternalError(
          StrCat("admin route ", r.method, " ", r.pattern, " has no role in api/route_roles.cc"));
    }
  }
  return absl::OkStatus();
}

}  // namespace cinfer::api
