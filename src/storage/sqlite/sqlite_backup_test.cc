#include "storage/sqlite/sqlite_backup.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "testing/temp_dir.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRows = 2000;  // ~1000 pages: many steps of 16 pages

// A raw connection for the test's own writes and checks.
class Db {
 public:
  explicit Db(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, flags, nullptr), SQLITE_OK) << path;
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  bool Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out = "<error>";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }
  int64_t Int(const std::string& sql) { return std::stoll(Text(sql)); }
  // One transaction over both tables: a row in `a` and b's counter, so that
  // count(a) == b.n in every consistent state.
  bool Write() {
    if (Exec("BEGIN IMMEDIATE; INSERT INTO a(pad) VALUES (randomblob(2000)); "
             "UPDATE b SET n = n + 1 WHERE id = 1; COMMIT")) {
      return true;
    }
    Exec("ROLLBACK");
    return false;
  }

 private:
  sqlite3* db_ = nullptr;
};

bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

class SqliteBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.File("live"));
    fs::create_directories(dir_.File("out"));
  }
  // The source: kRows rows in `a`, b.n == kRows, in `journal_mode`.
  void Create(const std::string& journal_mode) {
    Db db(src_);
    ASSERT_TRUE(db.Exec("PRAGMA journal_mode=" + journal_mode));
    ASSERT_TRUE(
        db.Exec("CREATE TABLE a (id INTEGER PRIMARY KEY, pad BLOB NOT NULL); "
                "CREATE TABLE b (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); "
                "INSERT INTO b VALUES (1, 0)"));
    ASSERT_TRUE(
        db.Exec("BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < " +
                std::to_string(kRows) + ") INSERT INTO a(pad) SELECT randomblob(2000) FROM c; " +
                "UPDATE b SET n = n + " + std::to_string(kRows) + "; COMMIT"));
  }
  // The copy passes integrity_check and holds the invariant; its row count.
  int64_t CheckCopy() {
    Db copy(dst_, SQLITE_OPEN_READONLY);
    EXPECT_EQ(copy.Text("PRAGMA integrity_check"), "ok");
    const int64_t rows = copy.Int("SELECT count(*) FROM a");
    EXPECT_EQ(rows, copy.Int("SELECT n FROM b WHERE id = 1"));
    return rows;
  }

  testing::TempDir dir_;
  const std::string src_ = dir_.File("live/cinfer.db");
  const std::string dst_ = dir_.File("out/cinfer.db");
};

TEST_F(SqliteBackupTest, WalCopyIsTheSnapshotOfItsStartAndNeverBlocksTheWriter) {
  Create("wal");
  std::atomic<int64_t> committed{0};
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Db w(src_);
    while (!stop) {
      if (w.Write()) {
        ++committed;
      } else {
        ++failures;
      }
    }
  });
  ASSERT_TRUE(WaitFor([&] { return committed > 0; }));
  const int64_t before = kRows + committed;
  int64_t at_first_step = -1;
  bool writer_went_on = false;
  // Between two steps, wait for 20 more commits: the writer is not blocked, and
  // none of them may reach the copy.
  SqliteBackupOptions options{
      .pages_per_step = 16, .on_step = [&](int remaining, int) {
        if (at_first_step >= 0 || remaining == 0) return;
        at_first_step = kRows + committed;
        writer_went_on = WaitFor([&] { return kRows + committed >= at_first_step + 20; });
      }};
  auto result = BackupSqliteFile(src_, dst_, options);
  stop = true;
  writer.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(writer_went_on) << "the writer waited for the backup";
  // Only the main file: no -wal, -shm, -journal or temporary file.
  EXPECT_EQ(Names(dir_.File("out")), std::set<std::string>{"cinfer.db"});
  EXPECT_EQ(fs::status(dst_).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(result->bytes, static_cast<int64_t>(fs::file_size(dst_)));
  const int64_t rows = CheckCopy();
  EXPECT_GE(rows, before);
  // A commit may land between reading `committed` and counting it: hence + 1.
  EXPECT_LE(rows, at_first_step + 1);
  EXPECT_LT(rows, kRows + committed);
  Db copy(dst_, SQLITE_OPEN_READONLY);
  EXPECT_EQ(result->pages, copy.Int("PRAGMA page_count"));
}

TEST_F(SqliteBackupTest, RollbackJournalCopyRestartsAfterAWriteBetweenSteps) {
  Create("delete");
  bool wrote = false;
  // No lock is held between steps: another connection writes, and the copy
  // starts over and includes the write.
  SqliteBackupOptions options{.pages_per_step = 16, .on_step = [&](int remaining, int) {
                                if (wrote || remaining == 0) return;
                                Db w(src_);
                                wrote = w.Write();
                              }};
  auto result = BackupSqliteFile(src_, dst_, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(wrote);
  EXPECT_EQ(Names(dir_.File("out")), std::set<std::string>{"cinfer.db"});
  EXPECT_EQ(CheckCopy(), kRows + 1);
}

TEST_F(SqliteBackupTest, RefusesAnExistingCopyAndLeavesNothingWhenItFails) {
  Create("wal");
  std::ofstream(dst_) << "keep";
  EXPECT_EQ(BackupSqliteFile(src_, dst_).status().code(), absl::StatusCode::kAlreadyExists);
  std::ifstream kept(dst_);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "keep");
  fs::remove(dst_);

  EXPECT_EQ(BackupSqliteFile(dir_.File("live/none.db"), dst_).status().code(),
            absl::StatusCode::kNotFound);
  std::ofstream(dir_.File("live/garbage.db")) << std::string(8192, 'x');
  EXPECT_FALSE(BackupSqliteFile(dir_.File("live/garbage.db"), dst_).ok());
  EXPECT_TRUE(Names(dir_.File("out")).empty()) << "a failed backup left files behind";
}

}  // namespace
}  // namespace cinfer
