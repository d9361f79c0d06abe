// Roles of console / admin-API users, from least to most allowed. A route
// names the least role it needs (api/route_roles.cc); a user may use it when
// their role is at least that.
//   viewer   read-only: every GET of the admin API
//   operator models, tokens, logs (changes included); no users or settings
//   admin    everything, users and settings included
#pragma once

#include <optional>
#include <string_view>

namespace cinfer {

enum class Role { kViewer = 0, kOperator = 1, kAdmin = 2 };

std::optional<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);
inline bool RoleAllows(Role have, Role need) {
  return static_cast<int>(have) >= static_cast<int>(need);
}

}  // namespace cinfer
