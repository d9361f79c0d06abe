#include "storage/sqlite/sqlite_database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "storage/migrations/sqlite_migrations.h"
#include "storage/test_records.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

UserRecord Admin(const std::string& id, const std::string& name) {
  return testing::TestAdmin(id, name);
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

// A database a newer release migrated further (a downgrade) is refused, not misread.
TEST_F(SqliteDatabaseTest, ASchemaNewerThanThisReleaseIsRefused) {
  Open().reset();
  const int next = SqliteMigrations().back().version + 1;
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
  const std::string insert = fmt::format(
      "INSERT INTO schema_migrations (version, name) VALUES ({}, 'from the future')", next);
  ASSERT_EQ(sqlite3_exec(raw, insert.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto db = SqliteDatabase::Open({.path = dir_.File("cinfer.db")});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(db.status().message().find(fmt::format("at migration {}, newer", next)),
            std::string_view::npos)
      << db.status();
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
  ASSERT_TRUE(db->UpdatePassword("u1", "$argon2id$new", false).ok());
  auto u = *db->FindUserById("u1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->password_hash, "$argon2id$new");
  EXPECT_EQ(u->token_version, 1);
  EXPECT_EQ(db->UpdatePassword("nobody", "x", false).code(), absl::StatusCode::kNotFound);
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

// --- inference logs ----------------------------------------------------------

// "2026-03-01T00:00:MM.000Z" style times: minute `m`, so they sort by `m`.
std::string At(int minute) {
  return fmt::format("2026-03-01T{:02}:{:02}:00.000Z", minute / 60, minute % 60);
}

InferenceLogRecord Log(const std::string& id, const std::string& model_id, int minute,
                       double total_ms = 10) {
  InferenceLogRecord r;
  r.id = id;
  r.model_id = model_id;
  r.model_version = 1;
  r.request_id = "req-" + id;
  r.client_ip = "10.0.0.1";
  r.route = "infer";
  r.status = "ok";
  r.total_ms = total_ms;
  r.created_at = At(minute);
  return r;
}

InferenceLogRecord ErrorLog(const std::string& id, const std::string& model_id, int minute,
                            const std::string& code) {
  InferenceLogRecord r = Log(id, model_id, minute);
  r.status = "error";
  r.http_status = 503;
  r.error_code = code;
  r.error_message = "busy";
  return r;
}

std::vector<std::string> Ids(const std::vector<InferenceLogRecord>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

class SqliteInferenceLogTest : public SqliteDatabaseTest {
 protected:
  void SetUp() override {
    db_ = Open();
    ASSERT_TRUE(db_->CreateFirstAdmin(Admin("u1", "root")).ok());
    ASSERT_TRUE(db_->CreateModel(Model("a", "alpha"), Version("a", 1)).ok());
    ASSERT_TRUE(db_->CreateModel(Model("b", "beta"), Version("b", 1)).ok());
  }
  std::vector<InferenceLogRecord> Query(const InferenceLogFilter& f, int64_t* total = nullptr) {
    int64_t ignored = 0;
    auto rows = db_->QueryInferenceLogs(f, total ? total : &ignored);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<InferenceLogRecord>{};
  }
  // Inserts a token row directly.
  void AddToken(const std::string& id) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
    const std::string sql =
        "INSERT INTO tokens (id, name, token_hash, token_suffix, created_at) "
        "VALUES ('" +
        id + "', 'n', 'h-" + id + "', 'abcd', '" + At(0) + "')";
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(SqliteInferenceLogTest, AppendedRowsRoundTripNewestFirst) {
  AddToken("t1");
  InferenceLogRecord full = Log("l2", "a", 2, 12.625);
  full.token_id = "t1";
  full.http_status = 200;
  full.queue_ms = 1.5;
  full.preprocess_ms = 2.25;
  full.infer_ms = 7.125;
  full.postprocess_ms = 0.875;
  full.batch_size = 4;
  full.route = "infer/batch";
  full.request_data = R"({"images":1})";
  InferenceLogRecord bare = Log("l1", "a", 1);
  bare.model_version.reset();
  ASSERT_TRUE(db_->AppendInferenceLogs({bare, full}).ok());
  ASSERT_TRUE(db_->AppendInferenceLogs({}).ok());

  int64_t total = 0;
  auto rows = Query({}, &total);
  EXPECT_EQ(total, 2);
  ASSERT_EQ(Ids(rows), (std::vector<std::string>{"l2", "l1"}));
  const InferenceLogRecord& r = rows[0];
  EXPECT_EQ(r.model_id, "a");
  EXPECT_EQ(r.model_version, 1);
  EXPECT_EQ(r.token_id, "t1");
  EXPECT_EQ(r.request_id, "req-l2");
  EXPECT_EQ(r.client_ip, "10.0.0.1");
  EXPECT_EQ(r.route, "infer/batch");
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_DOUBLE_EQ(r.queue_ms, 1.5);
  EXPECT_DOUBLE_EQ(r.preprocess_ms, 2.25);
  EXPECT_DOUBLE_EQ(r.infer_ms, 7.125);
  EXPECT_DOUBLE_EQ(r.postprocess_ms, 0.875);
  EXPECT_DOUBLE_EQ(r.total_ms, 12.625);
  EXPECT_EQ(r.batch_size, 4);
  EXPECT_EQ(r.request_data, R"({"images":1})");
  EXPECT_FALSE(r.response_data.has_value());
  EXPECT_EQ(r.created_at, At(2));
  EXPECT_FALSE(rows[1].model_version.has_value());
  EXPECT_FALSE(rows[1].token_id.has_value());
}

TEST_F(SqliteInferenceLogTest, FiltersAndPaging) {
  AddToken("t1");
  std::vector<InferenceLogRecord> batch;
  for (int i = 0; i < 10; ++i) {
    InferenceLogRecord r = i % 3 == 0
                               ? ErrorLog(fmt::format("l{}", i), i < 5 ? "a" : "b", i, "MODEL_BUSY")
                               : Log(fmt::format("l{}", i), i < 5 ? "a" : "b", i);
    if (i % 2 == 0) r.token_id = "t1";
    batch.push_back(r);
  }
  ASSERT_TRUE(db_->AppendInferenceLogs(batch).ok());

  int64_t total = 0;
  InferenceLogFilter f;
  f.model_id = "a";
  EXPECT_EQ(Ids(Query(f, &total)), (std::vector<std::string>{"l4", "l3", "l2", "l1", "l0"}));
  EXPECT_EQ(total, 5);

  f = {};
  f.token_id = "t1";
  EXPECT_EQ(Ids(Query(f, &total)), (std::vector<std::string>{"l8", "l6", "l4", "l2", "l0"}));

  f = {};
  f.status = "error";
  EXPECT_EQ(Ids(Query(f, &total)), (std::vector<std::string>{"l9", "l6", "l3", "l0"}));
  EXPECT_EQ(total, 4);

  f = {};
  f.from = At(3);  // inclusive
  f.to = At(6);    // exclusive
  EXPECT_EQ(Ids(Query(f, &total)), (std::vector<std::string>{"l5", "l4", "l3"}));

  f = {};
  f.model_id = "b";
  f.status = "ok";
  f.from = At(6);
  EXPECT_EQ(Ids(Query(f, &total)), (std::vector<std::string>{"l8", "l7"}));

  f = {};
  f.limit = 3;
  f.offset = 3;
  EXPECT_EQ(Ids(Query(f, &total)), (std::vector<std::string>{"l6", "l5", "l4"}));
  EXPECT_EQ(total, 10);  // before paging
  f.offset = 9;
  EXPECT_EQ(Ids(Query(f, &total)), (std::vector<std::string>{"l0"}));
  f.offset = 10;
  EXPECT_TRUE(Query(f, &total).empty());
  EXPECT_EQ(total, 10);

  f = {};
  f.model_id = "nope";
  EXPECT_TRUE(Query(f, &total).empty());
  EXPECT_EQ(total, 0);
}

TEST_F(SqliteInferenceLogTest, SameTimeRowsKeepInsertionOrderNewestFirst) {
  ASSERT_TRUE(
      db_->AppendInferenceLogs({Log("x", "a", 5), Log("y", "a", 5), Log("z", "a", 5)}).ok());
  EXPECT_EQ(Ids(Query({})), (std::vector<std::string>{"z", "y", "x"}));
}

TEST_F(SqliteInferenceLogTest, RowsOfMissingModelsAreSkippedAndMissingTokensNulled) {
  AddToken("t1");
  InferenceLogRecord orphan = Log("l2", "gone", 2);
  InferenceLogRecord unknown_token = Log("l3", "a", 3);
  unknown_token.token_id = "deleted-token";
  InferenceLogRecord dup = Log("l1", "a", 9);  // same id as an earlier row: ignored
  ASSERT_TRUE(db_->AppendInferenceLogs({Log("l1", "a", 1), orphan, unknown_token}).ok());
  ASSERT_TRUE(db_->AppendInferenceLogs({dup}).ok());
  auto rows = Query({});
  ASSERT_EQ(Ids(rows), (std::vector<std::string>{"l3", "l1"}));
  EXPECT_FALSE(rows[0].token_id.has_value());
  EXPECT_EQ(rows[1].created_at, At(1));

  // Deleting a model takes its logs along.
  ASSERT_TRUE(db_->DeleteModel("a").ok());
  EXPECT_TRUE(Query({}).empty());
}

TEST_F(SqliteInferenceLogTest, StatsPercentilesAndErrorCounts) {
  std::vector<InferenceLogRecord> batch;
  for (int i = 1; i <= 100; ++i) {
    InferenceLogRecord r = Log(fmt::format("l{}", i), "a", i, /*total_ms=*/101 - i);
    r.batch_size = i <= 50 ? 2 : 0;  // half the rows record no batch size
    batch.push_back(r);
  }
  batch.push_back(ErrorLog("e1", "a", 200, "MODEL_BUSY"));
  batch.push_back(ErrorLog("e2", "a", 201, "MODEL_BUSY"));
  batch.push_back(ErrorLog("e3", "a", 202, "TIMEOUT"));
  batch.push_back(ErrorLog("e4", "a", 203, ""));
  batch.push_back(Log("other", "b", 5, 5000));
  for (auto& r : batch) {
    if (r.status == "error") r.total_ms = 0.5;
  }
  ASSERT_TRUE(db_->AppendInferenceLogs(batch).ok());

  // The 100 successful rows: latencies 1..100 ms.
  auto ok = db_->InferenceStats("a", At(1), At(101));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->requests, 100);
  EXPECT_EQ(ok->errors, 0);
  EXPECT_DOUBLE_EQ(ok->p50_ms, 50);
  EXPECT_DOUBLE_EQ(ok->p90_ms, 90);
  EXPECT_DOUBLE_EQ(ok->p99_ms, 99);
  EXPECT_DOUBLE_EQ(ok->max_ms, 100);
  EXPECT_DOUBLE_EQ(ok->mean_ms, 50.5);
  EXPECT_DOUBLE_EQ(ok->mean_batch_size, 2);
  EXPECT_TRUE(ok->by_error_code.empty());

  auto all = db_->InferenceStats("a", "", "");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->requests, 104);
  EXPECT_EQ(all->errors, 4);
  EXPECT_EQ(all->by_error_code,
            (std::map<std::string, int64_t>{{"MODEL_BUSY", 2}, {"TIMEOUT", 1}, {"UNKNOWN", 1}}));
  EXPECT_DOUBLE_EQ(all->p50_ms, 48);  // rank 52 of 0.5 x4, 1..100
  EXPECT_DOUBLE_EQ(all->max_ms, 100);

  auto single = db_->InferenceStats("a", At(7), At(8));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->requests, 1);
  EXPECT_DOUBLE_EQ(single->p50_ms, 94);
  EXPECT_DOUBLE_EQ(single->p99_ms, 94);

  auto none = db_->InferenceStats("a", At(500), At(600));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->requests, 0);
  EXPECT_DOUBLE_EQ(none->p99_ms, 0);
  EXPECT_DOUBLE_EQ(none->mean_batch_size, 0);
}

TEST_F(SqliteInferenceLogTest, PurgeByAgeThenByCount) {
  std::vector<InferenceLogRecord> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(Log(fmt::format("l{}", i), i % 2 ? "a" : "b", i));
  batch.push_back(Log("tie", "a", 19));  // same time as l19, inserted later: newer
  ASSERT_TRUE(db_->AppendInferenceLogs(batch).ok());

  auto by_age = db_->PurgeInferenceLogs(At(5), 0);  // created before minute 5
  ASSERT_TRUE(by_age.ok()) << by_age.status();
  EXPECT_EQ(*by_age, 5);
  int64_t total = 0;
  Query({}, &total);
  EXPECT_EQ(total, 16);

  auto by_count = db_->PurgeInferenceLogs("", 3);  // keep the newest 3
  ASSERT_TRUE(by_count.ok()) << by_count.status();
  EXPECT_EQ(*by_count, 13);
  EXPECT_EQ(Ids(Query({})), (std::vector<std::string>{"tie", "l19", "l18"}));

  auto both = db_->PurgeInferenceLogs(At(19), 1);  // l18 by age, then l19 by count
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, 2);
  EXPECT_EQ(Ids(Query({})), (std::vector<std::string>{"tie"}));

  auto nothing = db_->PurgeInferenceLogs(At(0), 10);
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(*nothing, 0);
}

TEST_F(SqliteInferenceLogTest, PurgeDeletesMoreThanOneChunk) {
  std::vector<InferenceLogRecord> batch;
  for (int i = 0; i < 25'000; ++i) batch.push_back(Log(fmt::format("l{}", i), "a", i % 600));
  ASSERT_TRUE(db_->AppendInferenceLogs(batch).ok());
  auto deleted = db_->PurgeInferenceLogs("", 1'000);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 24'000);
  int64_t total = 0;
  Query({}, &total);
  EXPECT_EQ(total, 1'000);
}

// --- tokens ------------------------------------------------------------------

TokenRecord Token(const std::string& id, const std::string& name, int minute = 0) {
  TokenRecord t;
  t.id = id;
  t.name = name;
  t.token_hash = "hash-" + id;
  t.token_suffix = "Ab9z";
  t.created_at = t.updated_at = At(minute);
  t.created_by = "u1";
  return t;
}

TokenUsageIncrement Use(const std::string& token_id, const std::string& model_id,
                        const std::string& day, int64_t count) {
  TokenUsageIncrement inc;
  inc.token_id = token_id;
  inc.model_id = model_id;
  inc.day = day;
  inc.month = day.substr(0, 7);
  inc.count = count;
  inc.at = day + "T12:00:00.000Z";
  return inc;
}

std::vector<std::string> TokenIds(const std::vector<TokenRecord>& tokens) {
  std::vector<std::string> ids;
  for (const auto& t : tokens) ids.push_back(t.id);
  return ids;
}

// "day/model=count" per row, for compact comparisons.
std::vector<std::string> UsageRows(const std::vector<TokenUsageRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(fmt::format("{}/{}={}", r.day, r.model_id, r.count));
  return out;
}

class SqliteTokenTest : public SqliteDatabaseTest {
 protected:
  void SetUp() override {
    db_ = Open();
    ASSERT_TRUE(db_->CreateFirstAdmin(Admin("u1", "root")).ok());
  }
  TokenRecord Find(const std::string& id) {
    auto t = db_->FindToken(id);
    EXPECT_TRUE(t.ok() && t->has_value()) << id;
    return t.ok() && t->has_value() ? **t : TokenRecord{};
  }
  std::vector<std::string> Usage(const std::string& id, const std::string& from,
                                 const std::string& to) {
    auto rows = db_->TokenUsage(id, from, to);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? UsageRows(*rows) : std::vector<std::string>{};
  }
  // Runs `sql` on a second connection to the same file.
  void ExecRaw(const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(SqliteTokenTest, CreateFindAndListOldestFirst) {
  TokenRecord full = Token("t2", "full", 5);
  full.remark = "mobile app";
  full.expires_at = At(100);
  full.is_active = false;
  full.allowed_models = R"(["a","b"])";
  full.ip_whitelist = R"(["10.0.0.0/8"])";
  full.rate_limit = 60;
  full.monthly_limit = 10'000;
  full.used_count = 3;
  full.usage_month = "2026-03";
  full.last_used_at = At(6);
  ASSERT_TRUE(db_->CreateToken(full).ok());
  TokenRecord bare = Token("t1", "bare", 1);
  bare.created_by.reset();
  ASSERT_TRUE(db_->CreateToken(bare).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t3", "later", 9)).ok());

  const TokenRecord t = Find("t2");
  EXPECT_EQ(t.name, "full");
  EXPECT_EQ(t.remark, "mobile app");
  EXPECT_EQ(t.token_hash, "hash-t2");
  EXPECT_EQ(t.token_suffix, "Ab9z");
  EXPECT_EQ(t.created_at, At(5));
  EXPECT_EQ(t.updated_at, At(5));
  EXPECT_EQ(t.expires_at, At(100));
  EXPECT_FALSE(t.is_active);
  EXPECT_EQ(t.allowed_models, R"(["a","b"])");
  EXPECT_EQ(t.ip_whitelist, R"(["10.0.0.0/8"])");
  EXPECT_EQ(t.rate_limit, 60);
  EXPECT_EQ(t.monthly_limit, 10'000);
  EXPECT_EQ(t.used_count, 3);
  EXPECT_EQ(t.usage_month, "2026-03");
  EXPECT_EQ(t.last_used_at, At(6));
  EXPECT_EQ(t.created_by, "u1");

  const TokenRecord b = Find("t1");
  EXPECT_FALSE(b.expires_at.has_value());
  EXPECT_TRUE(b.is_active);
  EXPECT_EQ(b.allowed_models, R"(["*"])");
  EXPECT_EQ(b.ip_whitelist, "[]");
  EXPECT_FALSE(b.rate_limit.has_value());
  EXPECT_FALSE(b.monthly_limit.has_value());
  EXPECT_EQ(b.used_count, 0);
  EXPECT_EQ(b.usage_month, "");
  EXPECT_FALSE(b.last_used_at.has_value());
  EXPECT_FALSE(b.created_by.has_value());

  EXPECT_FALSE(db_->FindToken("nope")->has_value());
  auto all = db_->ListTokens();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(TokenIds(*all), (std::vector<std::string>{"t1", "t2", "t3"}));
}

TEST_F(SqliteTokenTest, TakenNameOrHashIsAlreadyExists) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(db_->CreateToken(Token("t2", "app"))));
  TokenRecord same_hash = Token("t3", "other");
  same_hash.token_hash = "hash-t1";
  EXPECT_TRUE(absl::IsAlreadyExists(db_->CreateToken(same_hash)));
  EXPECT_TRUE(absl::IsAlreadyExists(db_->CreateToken(Token("t1", "third"))));  // same id
  EXPECT_EQ(TokenIds(*db_->ListTokens()), (std::vector<std::string>{"t1"}));
}

TEST_F(SqliteTokenTest, UpdateWritesMutableFieldsOnly) {
  TokenRecord t = Token("t1", "app");
  t.used_count = 7;
  t.usage_month = "2026-03";
  ASSERT_TRUE(db_->CreateToken(t).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t2", "taken")).ok());

  TokenRecord u = t;
  u.name = "renamed";
  u.remark = "new remark";
  u.expires_at = At(500);
  u.is_active = false;
  u.allowed_models = R"(["m1"])";
  u.ip_whitelist = R"(["::1"])";
  u.rate_limit = 5;
  u.monthly_limit = 50;
  u.updated_at = At(30);
  // Not mutable through UpdateToken:
  u.token_hash = "changed";
  u.token_suffix = "zzzz";
  u.created_at = At(40);
  u.used_count = 99;
  u.usage_month = "2030-01";
  u.last_used_at = At(41);
  ASSERT_TRUE(db_->UpdateToken(u).ok());

  TokenRecord got = Find("t1");
  EXPECT_EQ(got.name, "renamed");
  EXPECT_EQ(got.remark, "new remark");
  EXPECT_EQ(got.expires_at, At(500));
  EXPECT_FALSE(got.is_active);
  EXPECT_EQ(got.allowed_models, R"(["m1"])");
  EXPECT_EQ(got.ip_whitelist, R"(["::1"])");
  EXPECT_EQ(got.rate_limit, 5);
  EXPECT_EQ(got.monthly_limit, 50);
  EXPECT_EQ(got.updated_at, At(30));
  EXPECT_EQ(got.token_hash, "hash-t1");
  EXPECT_EQ(got.token_suffix, "Ab9z");
  EXPECT_EQ(got.created_at, At(0));
  EXPECT_EQ(got.used_count, 7);
  EXPECT_EQ(got.usage_month, "2026-03");
  EXPECT_FALSE(got.last_used_at.has_value());

  // Back to NULLs, and the unchanged name is not a collision with itself.
  u.expires_at.reset();
  u.rate_limit.reset();
  u.monthly_limit.reset();
  ASSERT_TRUE(db_->UpdateToken(u).ok());
  got = Find("t1");
  EXPECT_FALSE(got.expires_at.has_value());
  EXPECT_FALSE(got.rate_limit.has_value());
  EXPECT_FALSE(got.monthly_limit.has_value());

  u.name = "taken";
  EXPECT_TRUE(absl::IsAlreadyExists(db_->UpdateToken(u)));
  EXPECT_EQ(Find("t1").name, "renamed");
  EXPECT_TRUE(absl::IsNotFound(db_->UpdateToken(Token("nope", "free"))));
}

TEST_F(SqliteTokenTest, DeleteRemovesTokenAndUsage) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t2", "other")).ok());
  ASSERT_TRUE(db_->CreateModel(Model("a", "alpha"), Version("a", 1)).ok());
  InferenceLogRecord log = Log("l1", "a", 1);
  log.token_id = "t1";
  ASSERT_TRUE(db_->AppendInferenceLogs({log}).ok());
  ASSERT_TRUE(
      db_->RecordTokenUsage({Use("t1", "a", "2026-03-01", 2), Use("t2", "a", "2026-03-01", 1)})
          .ok());

  ASSERT_TRUE(db_->DeleteToken("t1").ok());
  EXPECT_FALSE(db_->FindToken("t1")->has_value());
  EXPECT_TRUE(absl::IsNotFound(db_->DeleteToken("t1")));
  EXPECT_TRUE(Usage("t1", "", "").empty());
  EXPECT_EQ(Usage("t2", "", ""), (std::vector<std::string>{"2026-03-01/a=1"}));
  // Its inference logs stay, without the token.
  int64_t total = 0;
  auto logs = db_->QueryInferenceLogs({}, &total);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_FALSE((*logs)[0].token_id.has_value());
  // The name is free again.
  EXPECT_TRUE(db_->CreateToken(Token("t3", "app")).ok());
}

TEST_F(SqliteTokenTest, ResetUsage) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(db_->RecordTokenUsage({Use("t1", "a", "2026-03-04", 5)}).ok());
  ASSERT_TRUE(db_->ResetTokenUsage("t1", "2026-03", At(50)).ok());
  TokenRecord t = Find("t1");
  EXPECT_EQ(t.used_count, 0);
  EXPECT_EQ(t.usage_month, "2026-03");
  EXPECT_EQ(t.updated_at, At(50));
  EXPECT_EQ(t.last_used_at, "2026-03-04T12:00:00.000Z");
  // The history stays; later use counts from zero.
  EXPECT_EQ(Usage("t1", "", ""), (std::vector<std::string>{"2026-03-04/a=5"}));
  ASSERT_TRUE(db_->RecordTokenUsage({Use("t1", "a", "2026-03-05", 2)}).ok());
  EXPECT_EQ(Find("t1").used_count, 2);
  EXPECT_TRUE(absl::IsNotFound(db_->ResetTokenUsage("nope", "2026-03", At(50))));
}

TEST_F(SqliteTokenTest, RecordedUsageAccumulatesPerMonthDayAndModel) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t2", "other")).ok());
  ASSERT_TRUE(db_->RecordTokenUsage({}).ok());
  ASSERT_TRUE(
      db_->RecordTokenUsage({Use("t1", "a", "2026-03-30", 2), Use("t1", "b", "2026-03-30", 1),
                             Use("t1", "a", "2026-03-30", 3), Use("t2", "a", "2026-03-30", 4)})
          .ok());
  ASSERT_TRUE(db_->RecordTokenUsage({Use("t1", "a", "2026-03-31", 1)}).ok());
  TokenRecord t = Find("t1");
  EXPECT_EQ(t.used_count, 7);
  EXPECT_EQ(t.usage_month, "2026-03");
  EXPECT_EQ(t.last_used_at, "2026-03-31T12:00:00.000Z");
  EXPECT_EQ(Find("t2").used_count, 4);
  EXPECT_EQ(Usage("t1", "", ""),
            (std::vector<std::string>{"2026-03-30/a=5", "2026-03-30/b=1", "2026-03-31/a=1"}));

  // A new month restarts used_count; the per-day history goes on.
  ASSERT_TRUE(
      db_->RecordTokenUsage({Use("t1", "b", "2026-04-01", 2), Use("t1", "a", "2026-04-01", 1)})
          .ok());
  t = Find("t1");
  EXPECT_EQ(t.used_count, 3);
  EXPECT_EQ(t.usage_month, "2026-04");
  EXPECT_EQ(t.last_used_at, "2026-04-01T12:00:00.000Z");
  EXPECT_EQ(Usage("t1", "", ""),
            (std::vector<std::string>{"2026-03-30/a=5", "2026-03-30/b=1", "2026-03-31/a=1",
                                      "2026-04-01/a=1", "2026-04-01/b=2"}));
}

TEST_F(SqliteTokenTest, UsageOfDeletedTokensIsSkipped) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(
      db_->RecordTokenUsage({Use("gone", "a", "2026-03-01", 4), Use("t1", "a", "2026-03-01", 1)})
          .ok());
  EXPECT_TRUE(Usage("gone", "", "").empty());
  EXPECT_EQ(Find("t1").used_count, 1);
  EXPECT_EQ(Usage("t1", "", ""), (std::vector<std::string>{"2026-03-01/a=1"}));
}

TEST_F(SqliteTokenTest, FailedBatchAppliesNothing) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(db_->RecordTokenUsage({Use("t1", "a", "2026-03-01", 1)}).ok());
  // Provoke a failure in the middle of a batch.
  ExecRaw(
      "CREATE TRIGGER fail_usage BEFORE INSERT ON token_usage_daily WHEN NEW.model_id = 'boom' "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  EXPECT_FALSE(
      db_->RecordTokenUsage({Use("t1", "a", "2026-03-01", 2), Use("t1", "b", "2026-03-02", 3),
                             Use("t1", "boom", "2026-03-02", 1)})
          .ok());
  TokenRecord t = Find("t1");
  EXPECT_EQ(t.used_count, 1);
  EXPECT_EQ(t.last_used_at, "2026-03-01T12:00:00.000Z");
  EXPECT_EQ(Usage("t1", "", ""), (std::vector<std::string>{"2026-03-01/a=1"}));
  // The connection is usable afterwards (the transaction was rolled back).
  ExecRaw("DROP TRIGGER fail_usage");
  ASSERT_TRUE(db_->RecordTokenUsage({Use("t1", "b", "2026-03-02", 3)}).ok());
  EXPECT_EQ(Find("t1").used_count, 4);
}

TEST_F(SqliteTokenTest, UsageRangeIsInclusiveAndOrdered) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t2", "other")).ok());
  ASSERT_TRUE(
      db_->RecordTokenUsage({Use("t1", "z", "2026-03-03", 1), Use("t1", "a", "2026-03-05", 1),
                             Use("t1", "m", "2026-03-03", 1), Use("t1", "a", "2026-03-01", 1),
                             Use("t1", "a", "2026-03-06", 1), Use("t2", "a", "2026-03-03", 9)})
          .ok());
  EXPECT_EQ(Usage("t1", "2026-03-03", "2026-03-05"),
            (std::vector<std::string>{"2026-03-03/m=1", "2026-03-03/z=1", "2026-03-05/a=1"}));
  EXPECT_EQ(Usage("t1", "2026-03-06", "2026-03-06"), (std::vector<std::string>{"2026-03-06/a=1"}));
  EXPECT_TRUE(Usage("t1", "2026-03-07", "2026-03-31").empty());
  EXPECT_TRUE(Usage("t1", "2026-03-04", "2026-03-04").empty());
  EXPECT_EQ(Usage("t1", "", "2026-03-01"), (std::vector<std::string>{"2026-03-01/a=1"}));
  EXPECT_EQ(Usage("t1", "2026-03-06", ""), (std::vector<std::string>{"2026-03-06/a=1"}));
  EXPECT_TRUE(Usage("nope", "", "").empty());
}

// Another process holds the write lock; the writer's own busy timeout is
// long. A usage commit with a deadline gives up near it, whether it waits on
// the lock itself or on the writer mutex held by a log batch waiting on the
// same lock, and writes nothing.
TEST_F(SqliteDatabaseTest, AUsageCommitGivesUpAtItsDeadline) {
  auto opened =
      SqliteDatabase::Open({.path = dir_.File("cinfer.db"), .writer_busy_timeout_ms = 30'000});
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<SqliteDatabase> db = *std::move(opened);
  ASSERT_TRUE(db->CreateFirstAdmin(Admin("u1", "root")).ok());
  ASSERT_TRUE(db->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(db->CreateModel(Model("a", "alpha"), Version("a", 1)).ok());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  using Steady = std::chrono::steady_clock;
  const auto t0 = Steady::now();
  absl::Status st =
      db->RecordTokenUsage({Use("t1", "a", "2026-03-01", 2)}, t0 + std::chrono::milliseconds(100));
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_LT(Steady::now() - t0, std::chrono::seconds(10));  // not the 30 s busy timeout
  // A log batch now holds the writer mutex while it waits on the lock.
  absl::Status logs;
  std::thread writer([&] { logs = db->AppendInferenceLogs({Log("l1", "a", 1)}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto t1 = Steady::now();
  st = db->RecordTokenUsage({Use("t1", "a", "2026-03-01", 3)}, t1 + std::chrono::milliseconds(100));
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_LT(Steady::now() - t1, std::chrono::seconds(10));
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  writer.join();
  EXPECT_TRUE(logs.ok()) << logs;
  // Neither refused commit wrote anything; an unbounded one does.
  auto t = db->FindToken("t1");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->used_count, 0);
  ASSERT_TRUE(db->RecordTokenUsage({Use("t1", "a", "2026-03-01", 1)}).ok());
  EXPECT_EQ((*db->FindToken("t1"))->used_count, 1);
}

TEST_F(SqliteDatabaseTest, SchemaVersion3MigratesToTokenUsage) {
  ASSERT_GE(SqliteMigrations().back().version, 4);
  // A database as version 3 left it, with a token.
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
          << sqlite3_errmsg(raw);
    };
    exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')))");
    for (const Migration& m : SqliteMigrations()) {
      if (m.version > 3) continue;
      exec(std::string(m.sql));
      exec(fmt::format("INSERT INTO schema_migrations (version, name) VALUES ({}, '{}')", m.version,
                       m.name));
    }
    exec(
        "INSERT INTO tokens (id, name, token_hash, token_suffix, created_at, used_count) "
        "VALUES ('t1', 'old', 'h1', 'abcd', '" +
        At(3) + "', 5)");
    sqlite3_close(raw);
  }
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->SchemaVersion(), SqliteMigrations().back().version);
  auto t = db->FindToken("t1");
  ASSERT_TRUE(t.ok() && t->has_value()) << t.status();
  EXPECT_EQ((*t)->name, "old");
  EXPECT_EQ((*t)->updated_at, At(3));  // taken from created_at
  EXPECT_EQ((*t)->usage_month, "");
  EXPECT_EQ((*t)->used_count, 5);
  EXPECT_FALSE((*t)->last_used_at.has_value());
  // The new columns, index and table work.
  ASSERT_TRUE(db->RecordTokenUsage({Use("t1", "a", "2026-03-01", 2)}).ok());
  EXPECT_EQ((*db->FindToken("t1"))->used_count, 2);  // a new month for it
  EXPECT_TRUE(absl::IsAlreadyExists(db->CreateToken(Token("t2", "old"))));
  auto rows = db->TokenUsage("t1", "", "");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(UsageRows(*rows), (std::vector<std::string>{"2026-03-01/a=2"}));
}

TEST_F(SqliteDatabaseTest, SchemaVersion5AdminMigratesToTheAdminRole) {
  ASSERT_GE(SqliteMigrations().back().version, 6);
  // A database as version 5 left it: the one administrator of setup.
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
          << sqlite3_errmsg(raw);
    };
    exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')))");
    for (const Migration& m : SqliteMigrations()) {
      if (m.version > 5) continue;
      exec(std::string(m.sql));
      exec(fmt::format("INSERT INTO schema_migrations (version, name) VALUES ({}, '{}')", m.version,
                       m.name));
    }
    exec(
        "INSERT INTO users (id, username, password_hash, is_admin, token_version, created_at, "
        "last_login, status) VALUES ('u1', 'root', '$argon2id$x', 1, 3, '" +
        At(1) + "', '" + At(2) + "', 'active')");
    sqlite3_close(raw);
  }
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->SchemaVersion(), SqliteMigrations().back().version);
  auto u = db->FindUserById("u1");
  ASSERT_TRUE(u.ok() && u->has_value()) << u.status();
  EXPECT_EQ((*u)->role, "admin");
  EXPECT_TRUE((*u)->is_admin);
  EXPECT_EQ((*u)->token_version, 3);  // existing sessions stay valid
  EXPECT_EQ((*u)->updated_at, At(1));
  EXPECT_FALSE((*u)->must_change_password);
  EXPECT_EQ((*u)->failed_logins, 0);
  EXPECT_EQ((*u)->last_login, At(2));
  EXPECT_TRUE(*db->HasAdmin());
  // It is the last active admin: the store refuses to demote it.
  UserRecord demoted = **u;
  demoted.role = "viewer";
  EXPECT_EQ(db->UpdateUser(demoted).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*db->FindUserById("u1"))->role, "admin");
}

TEST_F(SqliteDatabaseTest, UnopenablePathIsAnError) {
  EXPECT_FALSE(SqliteDatabase::Open({.path = dir_.File("missing-dir/x.db")}).ok());
}

}  // namespace
}  // namespace cinfer
