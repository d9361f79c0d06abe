// UserService: the administrators' management of users (admin API
// /api/v1/internal/users): list, create, get, change role or status, delete,
// and reset another user's password (which forces a change at next login).
// The store keeps at least one active admin (409 LAST_ADMIN). Every change is
// audited: who did what to whom, never a password. Thread-safe; blocking.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/password_hasher.h"
#include "common/actor.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"
#include "storage/database.h"

namespace cinfer {

struct UserPatch {
  std::optional<std::string> role;    // "admin" | "operator" | "viewer"
  std::optional<std::string> status;  // "active" | "disabled"
};

class UserService {
 public:
  struct Deps {
    UserStore* users;
    AuditStore* audit;
    PasswordHasher* hasher;
    const Clock* clock;
  };
  explicit UserService(Deps deps) : d_(deps) {}

  absl::StatusOr<std::vector<UserRecord>> List();
  // 404 USER_NOT_FOUND.
  absl::StatusOr<UserRecord> Get(std::string_view id);
  // 422 for a bad username, password or role; 409 USERNAME_TAKEN.
  absl::StatusOr<UserRecord> Create(const std::string& username, const std::string& password,
                                    const std::string& role, const Actor& actor);
  // A changed role or status ends the user's sessions; 409 LAST_ADMIN.
  absl::StatusOr<UserRecord> Update(std::string_view id, const UserPatch& patch,
                                    const Actor& actor);
  absl::Status Delete(std::string_view id, const Actor& actor);
  // Sets a password the user must change at their next login; ends their sessions.
  absl::Status ResetPassword(std::string_view id, const std::string& new_password,
                             const Actor& actor);

 private:
  void Audit(const Actor& actor, std::string_view action, const UserRecord& target,
             const nlohmann::json& detail);

  Deps d_;
};

}  // namespace cinfer
