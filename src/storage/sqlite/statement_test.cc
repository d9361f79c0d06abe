#include "storage/sqlite/statement.h"

#include <gtest/gtest.h>

namespace cinfer::sqlite {
namespace {

class StatementCacheTest : public ::testing::Test {
 protected:
  StatementCacheTest() {
    sqlite3_open(":memory:", &db_);
    sqlite3_exec(db_, "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)", nullptr, nullptr, nullptr);
  }
  ~StatementCacheTest() override { sqlite3_close(db_); }

  int64_t Count(const char* key) {
    auto q = Statement::Prepare(db_, "SELECT n FROM t WHERE k = ?");
    EXPECT_TRUE(q.ok());
    q->Bind(1, key);
    auto row = q->Step();
    return row.ok() && *row ? q->ColumnInt(0) : -1;
  }

  sqlite3* db_ = nullptr;
};

TEST_F(StatementCacheTest, AReusedStatementStartsFreshEveryTime) {
  constexpr const char* kUpsert =
      "INSERT INTO t (k, n) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET n = n + excluded.n";
  {
    StatementCache cache(db_);
    for (int i = 0; i < 5; ++i) {
      auto q = cache.Get(kUpsert);
      ASSERT_TRUE(q.ok()) << q.status();
      ASSERT_TRUE(q->Bind(1, i % 2 ? "odd" : "even").Bind(2, int64_t{i}).Run().ok());
    }
    EXPECT_EQ(cache.size(), 1u);  // prepared once
    {
      auto unbound = cache.Get(kUpsert);  // bindings were cleared: NULL key, NULL count
      ASSERT_TRUE(unbound.ok());
      ASSERT_TRUE(unbound->Run().ok());
    }
  }  // the cache finalizes its statements; the connection closes cleanly afterwards
  EXPECT_EQ(Count("even"), 0 + 2 + 4);
  EXPECT_EQ(Count("odd"), 1 + 3);
}

TEST_F(StatementCacheTest, BeyondItsCapacityItPreparesStatementsOfTheirOwn) {
  StatementCache cache(db_, 1);
  ASSERT_TRUE(cache.Get("SELECT 1").ok());
  auto other = cache.Get("SELECT 2");
  ASSERT_TRUE(other.ok());
  auto row = other->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(other->ColumnInt(0), 2);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.Get("SELECT FROM nowhere").ok());
}

}  // namespace
}  // namespace cinfer::sqlite
