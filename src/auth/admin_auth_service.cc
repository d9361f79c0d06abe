#include "auth/admin_auth_service.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <cctype>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "spdlog/spdlog.h"
#include "storage/audit_writer.h"

namespace cinfer {
namespace {

absl::Status BadCredentials() { return UnauthenticatedError("invalid username or password"); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminAuthService>> AdminAuthService::Create(
    Deps deps, std::string setup_code_path, bool issue_setup_code) {
  std::unique_ptr<AdminAuthService> svc(new AdminAuthService(deps, std::move(setup_code_path)));
  ASSIGN_OR_RETURN(bool has_admin, deps.users->HasAdmin());
  if (!has_admin && issue_setup_code) {
    // Not shared yet; the lock only satisfies the analysis.
    MutexLock lock(&svc->setup_mu_);
    svc->setup_code_ = RandomHex(12);
    RETURN_IF_ERROR(WriteFileAtomically(svc->setup_code_path_, *svc->setup_code_ + "\n", 0600));
  } else if (has_admin) {
    ::unlink(svc->setup_code_path_.c_str());
  }
  return svc;
}

std::optional<std::string> AdminAuthService::pending_setup_code() const {
  MutexLock lock(&setup_mu_);
  return setup_code_;
}

absl::Status AdminAuthService::ValidatePassword(std::string_view password) {
  if (password.size() < 8) return ValidationError("password must be at least 8 characters");
  if (password.size() > 1024) return ValidationError("password must be at most 1024 characters");
  return absl::OkStatus();
}

absl::Status AdminAuthService::ValidateUsername(std::string_view username) {
  if (username.empty() || username.size() > 64) {
    return ValidationError("username must be 1 to 64 characters");
  }
  for (char c : username) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' &&
        c != '@') {
      return ValidationError("username may contain only letters, digits and _ - . @");
    }
  }
  return absl::OkStatus();
}

void AdminAuthService::Audit(std::string_view actor, std::string_view action,
                             std::string_view object_id, std::string_view ip) {
  WriteAudit(d_.audit, *d_.clock, Actor{std::string(actor), "", std::string(ip)}, action, "user",
             object_id);
}

absl::StatusOr<bool> AdminAuthService::IsInitialized() { return d_.users->HasAdmin(); }

absl::StatusOr<UserRecord> AdminAuthService::Setup(const std::string& username,
                                                   const std::string& password,
                                                   const std::string& setup_code,
                                                   const std::string& client_ip) {
  auto already = [] {
    return MakeError(ErrorCode::kAlreadyInitialized, "the server already has an administrator");
  };
  ASSIGN_OR_RETURN(bool has_admin, d_.users->HasAdmin());
  if (has_admin) return already();
  {
    MutexLock lock(&setup_mu_);
    if (!setup_code_.has_value() || !ConstantTimeEquals(*setup_code_, setup_code)) {
      return MakeError(ErrorCode::kInvalidSetupCode,
                       "the setup code is missing or wrong; read it from <data_dir>/setup-code");
    }
  }
  RETURN_IF_ERROR(ValidateUsername(username));
  RETURN_IF_ERROR(ValidatePassword(password));
  UserRecord admin;
  admin.id = NewUuid();
  admin.username = username;
  admin.is_admin = true;
  admin.role = "admin";
  admin.created_at = FormatIso8601(d_.clock->Now());
  ASSIGN_OR_RETURN(admin.password_hash, d_.hasher->Hash(password));
  absl::Status st = d_.users->CreateFirstAdmin(admin);
  if (absl::IsAlreadyExists(st)) return already();
  RETURN_IF_ERROR(st);
  {
    MutexLock lock(&setup_mu_);
    setup_code_.reset();
    ::unlink(setup_code_path_.c_str());
  }
  Audit(username, "system.setup", admin.id, client_ip);
  return admin;
}

absl::StatusOr<IssuedSession> AdminAuthService::IssueFor(const UserRecord& user) {
  SessionClaims claims;
  claims.user_id = user.id;
  claims.username = user.username;
  claims.token_version = user.token_version;
  ASSIGN_OR_RETURN(std::string token, d_.jwt->Issue(claims));
  return IssuedSession{std::move(token), d_.jwt->ttl().count(),
                       ParseRole(user.role).value_or(Role::kViewer), user.must_change_password};
}

absl::StatusOr<IssuedSession> AdminAuthService::Login(const std::string& username,
                                                      const std::string& password,
                                                      const std::string& client_ip) {
  if (auto wait = d_.throttle->RetryAfter(username, client_ip)) {
    return WithRetryAfter(
        MakeError(ErrorCode::kTooManyAttempts, "too many failed login attempts; try again later"),
        *wait);
  }
  ASSIGN_OR_RETURN(std::optional<UserRecord> user, d_.users->FindUserByUsername(username));
  bool ok = false;
  if (user.has_value() && user->status == "active" && password.size() <= 1024) {
    ok = d_.hasher->Verify(user->password_hash, password);
  } else {
    d_.hasher->VerifyDummy(password.substr(0, 1024));
  }
  if (!ok) {
    d_.throttle->RecordFailure(username, client_ip);
    if (user.has_value())
      (void)d_.users->RecordFailedLogin(user->id, FormatIso8601(d_.clock->Now()));
    Audit(username, "auth.login_failed", user ? user->id : "", client_ip);
    return BadCredentials();
  }
  d_.throttle->RecordSuccess(username);
  (void)d_.users->RecordLogin(user->id, FormatIso8601(d_.clock->Now()));
  Audit(username, "auth.login", user->id, client_ip);
  return IssueFor(*user);
}

absl::StatusOr<Principal> AdminAuthService::Authenticate(std::string_view token) {
  ASSIGN_OR_RETURN(SessionClaims claims, d_.jwt->Verify(token));
  ASSIGN_OR_RETURN(bool revoked, d_.sessions->IsSessionRevoked(claims.jti));
  ASSIGN_OR_RETURN(std::optional<UserRecord> user, d_.users->FindUserById(claims.user_id));
  const std::optional<Role> role = user.has_value() ? ParseRole(user->role) : std::nullopt;
  if (revoked || !user.has_value() || !role.has_value() || user->status != "active" ||
      user->token_version != claims.token_version) {
    return UnauthenticatedError("invalid or expired session token");
  }
  return Principal{user->id,          user->username, claims.jti,
                   claims.expires_at, *role,          user->must_change_password};
}

absl::Status AdminAuthService::Logout(const Principal& who, const std::string& client_ip) {
  RETURN_IF_ERROR(d_.sessions->RevokeSession(who.jti, who.expires_at));
  (void)d_.sessions->PurgeExpiredRevocations(UnixSeconds(d_.clock->Now()));
  Audit(who.username, "auth.logout", who.user_id, client_ip);
  return absl::OkStatus();
}

absl::StatusOr<UserRecord> AdminAuthService::CurrentUser(const Principal& who) {
  ASSIGN_OR_RETURN(std::optional<UserRecord> user, d_.users->FindUserById(who.user_id));
  if (!user.has_value()) return UnauthenticatedError("invalid or expired session token");
  return *std::move(user);
}

absl::StatusOr<IssuedSession> AdminAuthService::ChangePassword(const Principal& who,
                                                               const std::string& old_password,
                                                               const std::string& new_password,
                                                               const std::string& client_ip) {
  ASSIGN_OR_RETURN(std::optional<UserRecord> user, d_.users->FindUserById(who.user_id));
  if (!user.has_value()) return UnauthenticatedError("invalid or expired session token");
  if (old_password.size() > 1024 || !d_.hasher->Verify(user->password_hash, old_password)) {
    return ForbiddenError("the current password is wrong");
  }
  RETURN_IF_ERROR(ValidatePassword(new_password));
  ASSIGN_OR_RETURN(std::string hash, d_.hasher->Hash(new_password));
  RETURN_IF_ERROR(d_.users->UpdatePassword(user->id, hash, /*must_change=*/false));
  Audit(who.username, "auth.password_changed", user->id, client_ip);
  ASSIGN_OR_RETURN(std::optional<UserRecord> updated, d_.users->FindUserById(who.user_id));
  if (!updated.has_value()) return absl::InternalError("user vanished during password change");
  return IssueFor(*updated);
}

absl::Status AdminAuthService::ResetPassword(const std::string& username,
                                             const std::string& new_password) {
  RETURN_IF_ERROR(ValidatePassword(new_password));
  ASSIGN_OR_RETURN(std::optional<UserRecord> user, d_.users->FindUserByUsername(username));
  if (!user.has_value()) return NotFoundError(StrCat("no user named '", username, "'"));
  ASSIGN_OR_RETURN(std::string hash, d_.hasher->Hash(new_password));
  RETURN_IF_ERROR(d_.users->UpdatePassword(user->id, hash, /*must_change=*/false));
  Audit("cli", "auth.password_reset", user->id, "");
  return absl::OkStatus();
}

}  // namespace cinfer
