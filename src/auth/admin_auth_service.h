// AdminAuthService: first-run setup, login/logout of console users (every
// role), session verification and password changes. Owns the one-time setup code. Thread-safe;
// blocking (argon2 and storage calls), so callers run it off the network threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "auth/jwt_codec.h"
#include "auth/login_throttle.h"
#include "auth/password_hasher.h"
#include "auth/roles.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "storage/database.h"

namespace cinfer {

// The authenticated user behind an admin-API request.
struct Principal {
  std::string user_id;
  std::string username;
  std::string jti;
  int64_t expires_at = 0;
  Role role = Role::kViewer;
  // An administrator reset the password: only changing it is allowed.
  bool must_change_password = false;
};

struct IssuedSession {
  std::string access_token;
  int64_t expires_in = 0;  // seconds
  Role role = Role::kViewer;
  bool must_change_password = false;
};

class AdminAuthService {
 public:
  struct Deps {
    UserStore* users;
    SessionStore* sessions;
    AuditStore* audit;
    PasswordHasher* hasher;
    // Only the session operations (Login, Authenticate, ChangePassword, Setup) use the
    // codec and the throttle: the offline ResetPassword tool passes null for both.
    const JwtCodec* jwt;
    LoginThrottle* throttle;
    const Clock* clock;
  };
  // `setup_code_path`: where the one-time setup code is written when no admin
  // exists yet (mode 0600); the file is removed once setup succeeds. With
  // `issue_setup_code` false (offline tools), no code is issued and Setup fails.
  static absl::StatusOr<std::unique_ptr<AdminAuthService>> Create(Deps deps,
                                                                  std::string setup_code_path,
                                                                  bool issue_setup_code);

  // The setup code while setup is pending (for the startup log).
  std::optional<std::string> pending_setup_code() const ABSL_LOCKS_EXCLUDED(setup_mu_);

  absl::StatusOr<bool> IsInitialized();
  absl::StatusOr<UserRecord> Setup(const std::string& username, const std::string& password,
                                   const std::string& setup_code, const std::string& client_ip)
      ABSL_LOCKS_EXCLUDED(setup_mu_);
  absl::StatusOr<IssuedSession> Login(const std::string& username, const std::string& password,
                                      const std::string& client_ip);
  absl::StatusOr<Principal> Authenticate(std::string_view token);
  absl::Status Logout(const Principal& who, const std::string& client_ip);
  // The stored record of the authenticated admin.
  absl::StatusOr<UserRecord> CurrentUser(const Principal& who);
  absl::StatusOr<IssuedSession> ChangePassword(const Principal& who,
                                               const std::string& old_password,
                                               const std::string& new_password,
                                               const std::string& client_ip);
  // Offline recovery (CLI): sets a new password and revokes all sessions.
  absl::Status ResetPassword(const std::string& username, const std::string& new_password);

  static absl::Status ValidatePassword(std::string_view password);
  static absl::Status ValidateUsername(std::string_view username);

 private:
  AdminAuthService(Deps deps, std::string setup_code_path)
      : d_(deps), setup_code_path_(std::move(setup_code_path)) {}
  absl::StatusOr<IssuedSession> IssueFor(const UserRecord& user);
  void Audit(std::string_view actor, std::string_view action, std::string_view object_id,
             std::string_view ip);

  Deps d_;
  std::string setup_code_path_;
  mutable Mutex setup_mu_;
  std::optional<std::string> setup_code_ ABSL_GUARDED_BY(setup_mu_);
};

}  // namespace cinfer
