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

ModelRecord Model(const std::string& id, const std::string& name) {
  ModelRecord m;
  m.id = id;
  m.name = name;
  m.engine = "onnxruntime";
  m.config = "{}";
  m.io_schema = "{}";
  m.created_by = "u1";
  m.created_at = m.updated_at = "2026-01-01T00:00:00.000Z";
  return m;
}

ModelVersionRecord Version(const std::string& model_id, int64_t version) {
  ModelVersionRecord v;
  v.id = model_id + "-v" + std::to_string(version);
  v.model_id = model_id;
  v.version = version;
  v.file_path = "/models/" + v.id;
  v.sha256 = "00";
  v.config = "{}";
  v.io_schema = "{}";
  v.created_by = "u1";
  v.created_at = "2026-01-01T00:00:00.000Z";
  return v;
}

TEST_F(SqliteDatabaseTest, ModelUpdatesAndVersions) {
  auto db = Open();
  ASSERT_TRUE(db->CreateFirstAdmin(Admin("u1", "root")).ok());
  ASSERT_TRUE(db->CreateModel(Model("a", "alpha"), Version("a", 1)).ok());
  ASSERT_TRUE(db->CreateModel(Model("b", "beta"), Version("b", 1)).ok());

  ModelRecord a = Model("a", "alpha2");
  a.status = "published";
  a.current_version = 2;
  a.served_version = 2;
  a.status_reason = std::nullopt;
  ASSERT_TRUE(db->AddVersion(Version("a", 2)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(db->AddVersion(Version("a", 2))));
  EXPECT_TRUE(absl::IsNotFound(db->AddVersion(Version("zz", 1))));
  ASSERT_TRUE(db->UpdateModel(a).ok());
  auto found = db->FindModel("a");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->name, "alpha2");
  EXPECT_EQ((*found)->status, "published");
  EXPECT_EQ((*found)->served_version, 2);
  EXPECT_EQ((*found)->current_version, 2);

  a.served_version.reset();  // NULL again
  a.name = "beta";           // taken by b
  EXPECT_TRUE(absl::IsAlreadyExists(db->UpdateModel(a)));
  a.name = "alpha3";
  ASSERT_TRUE(db->UpdateModel(a).ok());
  EXPECT_FALSE((*db->FindModel("a"))->served_version.has_value());
  EXPECT_TRUE(absl::IsNotFound(db->UpdateModel(Model("nope", "x"))));

  ASSERT_TRUE(db->UpdateVersionConfig("a", 2, R"({"instances":2})").ok());
  EXPECT_TRUE(absl::IsNotFound(db->UpdateVersionConfig("a", 9, "{}")));
  auto versions = db->ListVersions("a");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].version, 2);
  EXPECT_EQ((*versions)[1].config, R"({"instances":2})");
  EXPECT_EQ((*versions)[0].config, "{}");
}

TEST_F(SqliteDatabaseTest, UnopenablePathIsAnError) {
  EXPECT_FALSE(SqliteDatabase::Open({.path = dir_.File("missing-dir/x.db")}).ok());
}

}  // namespace
}  // namespace cinfer
