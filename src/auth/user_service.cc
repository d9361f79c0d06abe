#include "auth/user_service.h"

#include "auth/admin_auth_service.h"
#include "auth/roles.h"
#include "common/errors.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "storage/audit_writer.h"

namespace cinfer {
namespace {

absl::Status CheckRole(const std::string& role) {
  if (!ParseRole(role).has_value()) {
    return FieldValidationError("role", "field 'role' must be 'admin', 'operator' or 'viewer'");
  }
  return absl::OkStatus();
}

absl::Status CheckStatus(const std::string& status) {
  if (status != "active" && status != "disabled") {
    return FieldValidationError("status", "field 'status' must be 'active' or 'disabled'");
  }
  return absl::OkStatus();
}

absl::Status UserNotFound(std::string_view id) {
  return MakeError(ErrorCode::kUserNotFound, StrCat("no user with id '", id, "'"));
}

// Store errors in the API's terms.
absl::Status Mapped(absl::Status st, std::string_view id) {
  if (absl::IsNotFound(st)) return UserNotFound(id);
  return st;
}

}  // namespace

void UserService::Audit(const Actor& actor, std::string_view action, const UserRecord& target,
                        const nlohmann::json& detail) {
  WriteAudit(d_.audit, *d_.clock, actor, action, "user", target.id, detail);
}

absl::StatusOr<std::vector<UserRecord>> UserService::List() { return d_.users->ListUsers(); }

absl::StatusOr<UserRecord> UserService::Get(std::string_view id) {
  ASSIGN_OR_RETURN(std::optional<UserRecord> u, d_.users->FindUserById(id));
  if (!u.has_value()) return UserNotFound(id);
  return *std::move(u);
}

absl::StatusOr<UserRecord> UserService::Create(const std::string& username,
                                               const std::string& password, const std::string& role,
                                               const Actor& actor) {
  RETURN_IF_ERROR(AdminAuthService::ValidateUsername(username));
  RETURN_IF_ERROR(AdminAuthService::ValidatePassword(password));
  RETURN_IF_ERROR(CheckRole(role));
  UserRecord u;
  u.id = NewUuid();
  u.username = username;
  u.role = role;
  u.is_admin = role == "admin";
  u.created_at = FormatIso8601(d_.clock->Now());
  u.updated_at = u.created_at;
  ASSIGN_OR_RETURN(u.password_hash, d_.hasher->Hash(password));
  absl::Status st = d_.users->CreateUser(u);
  if (absl::IsAlreadyExists(st)) {
    return MakeError(ErrorCode::kUsernameTaken, StrCat("a user named '", username, "' exists"));
  }
  RETURN_IF_ERROR(st);
  Audit(actor, "user.create", u, nlohmann::json{{"username", username}, {"role", role}});
  return u;
}

absl::StatusOr<UserRecord> UserService::Update(std::string_view id, const UserPatch& patch,
                                               const Actor& actor) {
  ASSIGN_OR_RETURN(UserRecord u, Get(id));
  const UserRecord before = u;
  if (patch.role.has_value()) {
    RETURN_IF_ERROR(CheckRole(*patch.role));
    u.role = *patch.role;
  }
  if (patch.status.has_value()) {
    RETURN_IF_ERROR(CheckStatus(*patch.status));
    u.status = *patch.status;
  }
  u.is_admin = u.role == "admin";
  u.updated_at = FormatIso8601(d_.clock->Now());
  RETURN_IF_ERROR(Mapped(d_.users->UpdateUser(u), id));
  nlohmann::json detail = {{"username", u.username}};
  if (before.role != u.role) detail["role"] = {{"old", before.role}, {"new", u.role}};
  if (before.status != u.status) detail["status"] = {{"old", before.status}, {"new", u.status}};
  Audit(actor, "user.update", u, detail);
  return Get(id);
}

absl::Status UserService::Delete(std::string_view id, const Actor& actor) {
  ASSIGN_OR_RETURN(UserRecord u, Get(id));
  RETURN_IF_ERROR(Mapped(d_.users->DeleteUser(id), id));
  Audit(actor, "user.delete", u, nlohmann::json{{"username", u.username}});
  return absl::OkStatus();
}

absl::Status UserService::ResetPassword(std::string_view id, const std::string& new_password,
                                        const Actor& actor) {
  ASSIGN_OR_RETURN(UserRecord u, Get(id));
  RETURN_IF_ERROR(AdminAuthService::ValidatePassword(new_password));
  ASSIGN_OR_RETURN(std::string hash, d_.hasher->Hash(new_password));
  RETURN_IF_ERROR(Mapped(d_.users->UpdatePassword(id, hash, /*must_change=*/true), id));
  Audit(actor, "user.password_reset", u, nlohmann::json{{"username", u.username}});
  return absl::OkStatus();
}

}  // namespace cinfer
