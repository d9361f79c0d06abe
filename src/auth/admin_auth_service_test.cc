#include "auth/admin_auth_service.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/errors.h"
#include "common/file_util.h"
#include "storage/sqlite/sqlite_database.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

class AdminAuthServiceTest : public ::testing::Test {
 protected:
  AdminAuthServiceTest()
      : db_(*SqliteDatabase::Open({.path = dir_.File("cinfer.db")})),
        hasher_(*PasswordHasher::Create({.time_cost = 1, .memory_kib = 1024})),
        jwt_(*JwtCodec::Create({.secret = std::string(32, 's')}, &clock_)),
        throttle_({.max_failures = 5, .window = std::chrono::seconds(300)}, &clock_) {
    svc_ = *AdminAuthService::Create(
        {db_.get(), db_.get(), db_.get(), hasher_.get(), &jwt_, &throttle_, &clock_},
        dir_.File("setup-code"), true);
  }

  std::string Code() { return svc_->pending_setup_code().value_or(""); }
  void SetUpAdmin() { ASSERT_TRUE(svc_->Setup("admin", "password1", Code(), "127.0.0.1").ok()); }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteDatabase> db_;
  std::unique_ptr<PasswordHasher> hasher_;
  JwtCodec jwt_;
  LoginThrottle throttle_;
  std::unique_ptr<AdminAuthService> svc_;
};

TEST_F(AdminAuthServiceTest, SetupCodeIsWrittenPrivatelyAndUsedOnce) {
  struct stat st {};
  ASSERT_EQ(stat(dir_.File("setup-code").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFileToString(dir_.File("setup-code")), Code() + "\n");
  EXPECT_FALSE(*svc_->IsInitialized());
  EXPECT_EQ(ErrorCodeOf(svc_->Setup("admin", "password1", "wrong", "ip").status()),
            "INVALID_SETUP_CODE");
  EXPECT_EQ(ErrorCodeOf(svc_->Setup("admin", "short", Code(), "ip").status()), "VALIDATION_FAILED");
  EXPECT_EQ(ErrorCodeOf(svc_->Setup("bad name", "password1", Code(), "ip").status()),
            "VALIDATION_FAILED");
  const std::string code = Code();
  ASSERT_TRUE(svc_->Setup("admin", "password1", code, "ip").ok());
  EXPECT_TRUE(*svc_->IsInitialized());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("setup-code")));
  EXPECT_EQ(ErrorCodeOf(svc_->Setup("admin2", "password1", code, "ip").status()),
            "ALREADY_INITIALIZED");
  auto audit = *db_->RecentAudit(5);
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit[0].action, "system.setup");
}

TEST_F(AdminAuthServiceTest, LoginIssuesASessionThatAuthenticates) {
  SetUpAdmin();
  auto s = svc_->Login("admin", "password1", "ip");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->expires_in, 3600);
  auto who = svc_->Authenticate(s->access_token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->username, "admin");
  EXPECT_TRUE((*db_->FindUserByUsername("admin"))->last_login.has_value());
}

TEST_F(AdminAuthServiceTest, UnknownUserAndWrongPasswordLookTheSame) {
  SetUpAdmin();
  auto a = svc_->Login("admin", "wrong-pass", "ip1").status();
  auto b = svc_->Login("ghost", "wrong-pass", "ip2").status();
  EXPECT_EQ(a.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(a, b);
}

TEST_F(AdminAuthServiceTest, FiveFailuresLockTheUser) {
  SetUpAdmin();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(svc_->Login("admin", "nope-nope", "ip" + std::to_string(i)).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  auto locked = svc_->Login("admin", "password1", "ip9").status();
  EXPECT_EQ(ErrorCodeOf(locked), "TOO_MANY_ATTEMPTS");
  EXPECT_EQ(RetryAfterOf(locked), 300);
  clock_.Advance(std::chrono::seconds(301));
  EXPECT_TRUE(svc_->Login("admin", "password1", "ip9").ok());
}

TEST_F(AdminAuthServiceTest, LogoutRevokesOnlyThatSession) {
  SetUpAdmin();
  auto s1 = *svc_->Login("admin", "password1", "ip");
  auto s2 = *svc_->Login("admin", "password1", "ip");
  auto who = *svc_->Authenticate(s1.access_token);
  ASSERT_TRUE(svc_->Logout(who, "ip").ok());
  EXPECT_FALSE(svc_->Authenticate(s1.access_token).ok());
  EXPECT_TRUE(svc_->Authenticate(s2.access_token).ok());
}

TEST_F(AdminAuthServiceTest, PasswordChangeRevokesOlderSessions) {
  SetUpAdmin();
  auto old_session = *svc_->Login("admin", "password1", "ip");
  auto who = *svc_->Authenticate(old_session.access_token);
  EXPECT_EQ(svc_->ChangePassword(who, "wrong-old", "password2", "ip").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorCodeOf(svc_->ChangePassword(who, "password1", "short", "ip").status()),
            "VALIDATION_FAILED");
  auto fresh = svc_->ChangePassword(who, "password1", "password2", "ip");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(svc_->Authenticate(old_session.access_token).ok());
  EXPECT_TRUE(svc_->Authenticate(fresh->access_token).ok());
  EXPECT_FALSE(svc_->Login("admin", "password1", "ip").ok());
  EXPECT_TRUE(svc_->Login("admin", "password2", "ip").ok());
}

TEST_F(AdminAuthServiceTest, ResetPasswordForOfflineRecovery) {
  SetUpAdmin();
  auto session = *svc_->Login("admin", "password1", "ip");
  EXPECT_EQ(svc_->ResetPassword("ghost", "password9").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(svc_->ResetPassword("admin", "password9").ok());
  EXPECT_FALSE(svc_->Authenticate(session.access_token).ok());
  EXPECT_TRUE(svc_->Login("admin", "password9", "ip").ok());
}

}  // namespace
}  // namespace cinfer
