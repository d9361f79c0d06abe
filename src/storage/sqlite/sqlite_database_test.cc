#include "storage/sqlite/sqlite_database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>
#include <vector>

#include "storage/migrations/sqlite_migrations.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

UserRecord Admin(const std::string& id, const std::string& name) {
  UserRecord u;
  u.id = id;
  u.username = name;
  u.password_hash = "$argon2id$fake";
  u.is_admin = true;
  u.created_at = "2026-01-01T00:00:00.000Z";
  return u;
}

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteDatabase> Open() {
    auto db = SqliteDatabase::Open({.path = dir_.File("cinfer.db")});
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }
  testing::TempDir dir_;
};

TEST_F(SqliteDatabaseTest, MigrationsApplyOnceAndReopen) {
  {
    auto db = Open();
    EXPECT_EQ(*db->SchemaVersion(), SqliteMigrations().back().version);
  }
  auto db = Open();
  EXPECT_EQ(*db->SchemaVersion(), SqliteMigrations().back().version);
  // The file really is WAL with foreign keys enforced on this connection.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST_F(SqliteDatabaseTest, FirstAdminIsCreatedExactlyOnce) {
  auto db = Open();
  EXPECT_FALSE(*db->HasAdmin());
  ASSERT_TRUE(db->CreateFirstAdmin(Admin("u1", "admin")).ok());
  EXPECT_TRUE(*db->HasAdmin());
  EXPECT_EQ(db->CreateFirstAdmin(Admin("u2", "other")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(db->FindUserByUsername("other")->has_value());
}

TEST_F(SqliteDatabaseTest, RacingFirstAdminsLeaveOne) {
  auto db = Open();
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (db->CreateFirstAdmin(Admin("u" + std::to_string(i), "a" + std::to_string(i))).ok())
        ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
}

TEST_F(SqliteDatabaseTest, PasswordUpdateBumpsTokenVersion) {
  auto db = Open();
  ASSERT_TRUE(db->CreateFirstAdmin(Admin("u1", "admin")).ok());
  ASSERT_TRUE(db->UpdatePassword("u1", "$argon2id$new").ok());
  auto u = *db->FindUserById("u1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->password_hash, "$argon2id$new");
  EXPECT_EQ(u->token_version, 1);
  EXPECT_EQ(db->UpdatePassword("nobody", "x").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(db->RecordLogin("u1", "2026-02-02T00:00:00.000Z").ok());
  EXPECT_EQ((*db->FindUserByUsername("admin"))->last_login, "2026-02-02T00:00:00.000Z");
}

TEST_F(SqliteDatabaseTest, RevocationsPersistAndPurge) {
  {
    auto db = Open();
    ASSERT_TRUE(db->RevokeSession("j1", 100).ok());
    ASSERT_TRUE(db->RevokeSession("j2", 300).ok());
    ASSERT_TRUE(db->RevokeSession("j1", 100).ok());  // idempotent
  }
  auto db = Open();
  EXPECT_TRUE(*db->IsSessionRevoked("j1"));
  EXPECT_FALSE(*db->IsSessionRevoked("j3"));
  ASSERT_TRUE(db->PurgeExpiredRevocations(200).ok());
  EXPECT_FALSE(*db->IsSessionRevoked("j1"));
  EXPECT_TRUE(*db->IsSessionRevoked("j2"));
}

TEST_F(SqliteDatabaseTest, AuditEntriesAreAppendedNewestFirst) {
  auto db = Open();
  ASSERT_TRUE(db->AppendAudit({"t1", "admin", "auth.login", "user", "u1", "127.0.0.1", ""}).ok());
  ASSERT_TRUE(db->AppendAudit({"t2", "admin", "auth.logout", "user", "u1", "::1", "{}"}).ok());
  auto entries = *db->RecentAudit(10);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "auth.logout");
  EXPECT_EQ(entries[0].client_ip, "::1");
  EXPECT_EQ(entries[1].detail, "{}");
}

TEST_F(SqliteDatabaseTest, UnopenablePathIsAnError) {
  EXPECT_FALSE(SqliteDatabase::Open({.path = dir_.File("missing-dir/x.db")}).ok());
}

}  // namespace
}  // namespace cinfer
