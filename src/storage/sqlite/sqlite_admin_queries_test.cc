// The read-only admin queries on the reader connection: the dashboard's
// StatsOverview and the filtered, paged audit log.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "common/time_format.h"
#include "fmt/format.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/test_records.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

// A time `s` seconds (plus `ms` milliseconds) after 2026-03-01T00:00:00Z, as stored.
std::string At(int s, int ms = 0) {
  return fmt::format("2026-03-01T{:02}:{:02}:{:02}.{:03}Z", s / 3600, s / 60 % 60, s % 60, ms);
}

int64_t UnixOf(const std::string& t) {
  auto tp = ParseRfc3339(t);
  EXPECT_TRUE(tp.has_value()) << t;
  return tp ? duration_cast<seconds>(tp->time_since_epoch()).count() : 0;
}

UserRecord Admin() { return testing::TestAdmin(); }

ModelRecord Model(const std::string& id, const std::string& name,
                  const std::string& status = "draft") {
  ModelRecord m;
  m.id = id;
  m.name = name;
  m.engine = "onnxruntime";
  m.config = "{}";
  m.io_schema = "{}";
  m.status = status;
  m.created_by = "u1";
  m.created_at = m.updated_at = "2026-01-01T00:00:00.000Z";
  return m;
}

ModelVersionRecord Version(const std::string& model_id) {
  ModelVersionRecord v;
  v.id = model_id + "-v1";
  v.model_id = model_id;
  v.version = 1;
  v.file_path = "/models/" + v.id;
  v.sha256 = "00";
  v.config = "{}";
  v.io_schema = "{}";
  v.created_by = "u1";
  v.created_at = "2026-01-01T00:00:00.000Z";
  return v;
}

InferenceLogRecord Log(const std::string& id, const std::string& model_id,
                       const std::string& created_at, double total_ms = 10, bool error = false) {
  InferenceLogRecord r;
  r.id = id;
  r.model_id = model_id;
  r.model_version = 1;
  r.request_id = "req-" + id;
  r.client_ip = "10.0.0.1";
  r.route = "infer";
  r.status = error ? "error" : "ok";
  r.http_status = error ? 503 : 200;
  r.error_code = error ? "MODEL_BUSY" : "";
  r.total_ms = total_ms;
  r.created_at = created_at;
  return r;
}

TokenRecord Token(const std::string& id, const std::string& name,
                  std::optional<int64_t> monthly_limit = std::nullopt) {
  TokenRecord t;
  t.id = id;
  t.name = name;
  t.token_hash = "hash-" + id;
  t.token_suffix = "Ab9z";
  t.created_at = t.updated_at = "2026-01-01T00:00:00.000Z";
  t.monthly_limit = monthly_limit;
  t.created_by = "u1";
  return t;
}

TokenUsageIncrement Use(const std::string& token_id, const std::string& day, int64_t count) {
  TokenUsageIncrement inc;
  inc.token_id = token_id;
  inc.model_id = "a";
  inc.day = day;
  inc.month = day.substr(0, 7);
  inc.count = count;
  inc.at = day + "T12:00:00.000Z";
  return inc;
}

// "requests/errors p50 p99" with "-" for an absent percentile.
std::string Summary(const LatencySummary& s) {
  auto opt = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : "-"; };
  return fmt::format("{}/{} {} {}", s.requests, s.errors, opt(s.p50_ms), opt(s.p99_ms));
}

class SqliteAdminQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open({.path = dir_.File("cinfer.db"), .busy_timeout_ms = 60000});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(db_->CreateFirstAdmin(Admin()).ok());
    ASSERT_TRUE(db_->CreateModel(Model("a", "alpha"), Version("a")).ok());
    ASSERT_TRUE(db_->CreateModel(Model("b", "beta"), Version("b")).ok());
  }

  void Append(const std::vector<InferenceLogRecord>& rows) {
    ASSERT_TRUE(db_->AppendInferenceLogs(rows).ok());
  }

  // Runs `sql` on a second connection to the same file.
  void ExecRaw(const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }

  // The window [At(0), At(buckets * step_s)) in buckets of step_s, month 2026-03.
  static StatsOverviewQuery Window(int64_t buckets, int64_t step_s = 60) {
    StatsOverviewQuery q;
    q.from = At(0);
    q.to = At(static_cast<int>(buckets * step_s));
    q.from_unix = UnixOf(q.from);
    q.step_s = step_s;
    q.buckets = buckets;
    q.month = "2026-03";
    return q;
  }

  StatsOverviewRecord Overview(const StatsOverviewQuery& q) {
    auto r = db_->StatsOverview(q);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : StatsOverviewRecord{};
  }

  std::vector<std::string> Series(const StatsOverviewRecord& r) {
    std::vector<std::string> out;
    for (const auto& b : r.series) out.push_back(Summary(b));
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

// --- overview ----------------------------------------------------------------

TEST_F(SqliteAdminQueriesTest, RowsFallIntoTheirStepAndTheWindowIsHalfOpen) {
  Append({
      Log("before", "a", "2026-02-28T23:59:59.999Z", 1),
      Log("first", "a", At(0, 0), 2),  // the window's first instant: bucket 0
      Log("b0-end", "a", At(59, 999), 3, true),
      Log("b1-start", "b", At(60, 0), 4),
      Log("b1-mid", "a", At(90, 500), 5, true),
      Log("b2-end", "b", At(179, 999), 6),
      Log("at-to", "a", At(180, 0), 7),  // `to` is exclusive
      Log("later", "b", At(3600), 8),
  });
  StatsOverviewRecord r = Overview(Window(3));
  EXPECT_EQ(r.rows_scanned, 5);
  EXPECT_EQ(Summary(r.totals), "5/2 4 6");
  EXPECT_EQ(Series(r), (std::vector<std::string>{"2/1 2 3", "2/1 4 5", "1/0 6 6"}));
}

TEST_F(SqliteAdminQueriesTest, WiderStepsAndEmptyBuckets) {
  Append({Log("l1", "a", At(0), 1), Log("l2", "a", At(299, 999), 2), Log("l3", "a", At(300), 3),
          Log("l4", "a", At(1199), 4)});
  StatsOverviewRecord r = Overview(Window(4, 300));
  EXPECT_EQ(Series(r), (std::vector<std::string>{"2/0 1 2", "1/0 3 3", "0/0 - -", "1/0 4 4"}));
  EXPECT_EQ(Summary(r.totals), "4/0 2 4");

  // An empty window: every bucket present and empty.
  StatsOverviewQuery q = Window(2);
  q.from = "2026-04-01T00:00:00.000Z";
  q.to = "2026-04-01T00:02:00.000Z";
  q.from_unix = UnixOf(q.from);
  StatsOverviewRecord empty = Overview(q);
  EXPECT_EQ(empty.rows_scanned, 0);
  EXPECT_EQ(Summary(empty.totals), "0/0 - -");
  EXPECT_EQ(Series(empty), (std::vector<std::string>{"0/0 - -", "0/0 - -"}));
  EXPECT_TRUE(empty.models.empty());
}

TEST_F(SqliteAdminQueriesTest, BadStepOrBucketCountIsInvalid) {
  StatsOverviewQuery q = Window(3);
  q.step_s = 0;
  EXPECT_EQ(db_->StatsOverview(q).status().code(), absl::StatusCode::kInvalidArgument);
  q = Window(3);
  q.buckets = 0;
  EXPECT_EQ(db_->StatsOverview(q).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteAdminQueriesTest, NearestRankPercentiles) {
  // Latencies 1..100 in a scrambled order, all in the first minute.
  std::vector<InferenceLogRecord> rows;
  for (int i = 0; i < 100; ++i) {
    const int latency = (i * 37) % 100 + 1;
    rows.push_back(Log(fmt::format("l{}", i), "a", At(i % 60, i), latency));
  }
  // Four rows in the second minute: nearest rank of 4 values.
  for (int i = 0; i < 4; ++i)
    rows.push_back(Log(fmt::format("m{}", i), "b", At(60 + i), 40 - 10 * i));
  Append(rows);
  StatsOverviewRecord r = Overview(Window(2));
  EXPECT_EQ(Summary(r.series[0]), "100/0 50 99");
  EXPECT_EQ(Summary(r.series[1]), "4/0 20 40");
  // 104 values: 1..100 plus 10, 20, 30, 40 → rank 52 is 48, rank 103 is 99.
  EXPECT_EQ(Summary(r.totals), "104/0 48 99");
  ASSERT_EQ(r.models.size(), 2u);
  EXPECT_EQ(Summary(r.models[0].stats), "100/0 50 99");
  EXPECT_EQ(Summary(r.models[1].stats), "4/0 20 40");
}

TEST_F(SqliteAdminQueriesTest, RowsWithoutLatencyCountButAreNotRanked) {
  Append({Log("l1", "a", At(1), 100), Log("l2", "a", At(2), 1, true), Log("l3", "a", At(3), 1),
          Log("l4", "a", At(61), 1, true), Log("l5", "b", At(62), 1)});
  ExecRaw("UPDATE inference_logs SET latency_ms = NULL WHERE id IN ('l2', 'l3', 'l4', 'l5')");
  StatsOverviewRecord r = Overview(Window(2));
  EXPECT_EQ(Summary(r.totals), "5/2 100 100");
  EXPECT_EQ(Series(r), (std::vector<std::string>{"3/1 100 100", "2/1 - -"}));
  ASSERT_EQ(r.models.size(), 2u);
  EXPECT_EQ(Summary(r.models[0].stats), "4/2 100 100");
  EXPECT_EQ(r.models[1].model_id, "b");
  EXPECT_EQ(Summary(r.models[1].stats), "1/0 - -");
}

TEST_F(SqliteAdminQueriesTest, ModelRowsByRequestsWithNamesAndStatus) {
  ASSERT_TRUE(db_->CreateModel(Model("c", "gamma"), Version("c")).ok());
  ASSERT_TRUE(db_->CreateModel(Model("d", "delta"), Version("d")).ok());
  ASSERT_TRUE(db_->CreateModel(Model("e", "epsilon"), Version("e")).ok());
  ASSERT_TRUE(db_->UpdateModel(Model("b", "beta", "published")).ok());
  ASSERT_TRUE(db_->UpdateModel(Model("d", "delta", "published")).ok());
  ASSERT_TRUE(db_->UpdateModel(Model("e", "epsilon", "failed")).ok());
  std::vector<InferenceLogRecord> rows;
  auto add = [&](const std::string& model, int n, int first_second) {
    for (int i = 0; i < n; ++i) {
      rows.push_back(
          Log(fmt::format("{}{}", model, i), model, At(first_second + i * 7), i + 1, i == 0));
    }
  };
  add("a", 2, 0);
  add("b", 3, 1);  // ties with d: the names order them (beta < delta)
  add("d", 3, 2);
  add("e", 5, 3);
  rows.push_back(Log("c-old", "c", "2026-02-01T00:00:00.000Z"));  // outside the window
  Append(rows);
  StatsOverviewRecord r = Overview(Window(1));
  std::vector<std::string> models;
  for (const auto& m : r.models) {
    models.push_back(fmt::format("{}:{}:{}:{}", m.model_id, m.name, m.status, Summary(m.stats)));
  }
  EXPECT_EQ(models, (std::vector<std::string>{
                        "e:epsilon:failed:5/1 3 5",
                        "b:beta:published:3/1 2 3",
                        "d:delta:published:3/1 2 3",
                        "a:alpha:draft:2/1 1 2",
                    }));
  // Every model counts, with traffic or not.
  EXPECT_EQ(r.models_by_status,
            (std::map<std::string, int64_t>{{"draft", 2}, {"failed", 1}, {"published", 2}}));
  EXPECT_EQ(Summary(r.totals), "13/4 2 5");
}

TEST_F(SqliteAdminQueriesTest, TopTokensOfTheMonthOrderedAndLimited) {
  ASSERT_TRUE(db_->CreateToken(Token("t1", "app")).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t2", "batch", 1000)).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t3", "zeta")).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t4", "february", 50)).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t5", "april")).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t6", "idle")).ok());
  ASSERT_TRUE(db_->CreateToken(Token("t7", "cli", 20)).ok());
  ASSERT_TRUE(db_->RecordTokenUsage({Use("t4", "2026-02-27", 500), Use("t1", "2026-03-02", 5),
                                     Use("t2", "2026-03-02", 9), Use("t3", "2026-03-03", 5),
                                     Use("t7", "2026-03-04", 1), Use("t5", "2026-04-01", 99)})
                  .ok());
  auto tokens = [&](int limit) {
    StatsOverviewQuery q = Window(1);
    q.top_tokens = limit;
    std::vector<std::string> out;
    for (const auto& t : Overview(q).top_tokens) {
      out.push_back(fmt::format("{}:{}:{}:{}", t.token_id, t.name, t.used_count,
                                t.monthly_limit ? fmt::format("{}", *t.monthly_limit) : "null"));
    }
    return out;
  };
  // t4 counts February, t5 April, t6 nothing: none of them is March's.
  EXPECT_EQ(tokens(5), (std::vector<std::string>{"t2:batch:9:1000", "t1:app:5:null",
                                                 "t3:zeta:5:null", "t7:cli:1:20"}));
  EXPECT_EQ(tokens(2), (std::vector<std::string>{"t2:batch:9:1000", "t1:app:5:null"}));
  EXPECT_TRUE(tokens(0).empty());
}

// A writer mid-transaction on the same file (and a thread waiting for it while
// holding the main connection's lock) does not block the reader connection.
TEST_F(SqliteAdminQueriesTest, OverviewAndAuditReturnWhileAWriterHoldsTheLock) {
  Append({Log("l1", "a", At(1), 5)});
  ASSERT_TRUE(db_->AppendAudit({At(1), "root", "model.create", "model", "a", "", "{}"}).ok());

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("cinfer.db").c_str(), &raw), SQLITE_OK);
  const std::string begin =
      "BEGIN IMMEDIATE; INSERT INTO inference_logs (id, model_id, status, latency_ms, "
      "created_at) VALUES ('pending', 'a', 'ok', 7, '" +
      At(2) + "')";
  ASSERT_EQ(sqlite3_exec(raw, begin.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(raw);
  // This append waits (busy timeout 60 s) for the lock, holding the main
  // connection's mutex all the while.
  std::atomic<bool> writer_done{false};
  absl::Status writer_status;
  std::thread writer([&] {
    writer_status = db_->AppendInferenceLogs({Log("l2", "b", At(3), 9)});
    writer_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  auto reads = std::async(std::launch::async, [&] {
    auto overview = db_->StatsOverview(Window(1));
    int64_t total = -1;
    auto audit = db_->QueryAudit({}, &total);
    return std::make_tuple(std::move(overview), std::move(audit), total);
  });
  const bool returned = reads.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  EXPECT_TRUE(returned) << "the reader waited for the writer";
  EXPECT_FALSE(writer_done);  // still blocked: the reads really overlapped the write
  ASSERT_EQ(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  writer.join();
  EXPECT_TRUE(writer_status.ok()) << writer_status;

  auto [overview, audit, total] = reads.get();
  ASSERT_TRUE(overview.ok()) << overview.status();
  // The reads saw the last committed state only.
  EXPECT_EQ(overview->totals.requests, 1);
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(total, 1);
  // Once committed, both rows count.
  EXPECT_EQ(Overview(Window(1)).totals.requests, 3);
}

// --- audit -------------------------------------------------------------------

class SqliteAuditQueryTest : public SqliteAdminQueriesTest {
 protected:
  void SetUp() override {
    SqliteAdminQueriesTest::SetUp();
    // Appended oldest first; each at its own minute.
    const std::vector<std::pair<std::string, std::string>> entries = {
        {"root", "auth.login"},     {"root", "model.create"}, {"ops", "model.publish"},
        {"root", "models.export"},  {"ops", "token.create"},  {"root", "model.delete"},
        {"ops", "axb.c"},           {"ops", "a_b.c"},         {"root", "100%.done"},
        {"system", "system.setup"}, {"root", "Model.rename"},
    };
    for (size_t i = 0; i < entries.size(); ++i) {
      ASSERT_TRUE(
          db_->AppendAudit({At(static_cast<int>(i) * 60), entries[i].first, entries[i].second,
                            "obj", fmt::format("o{}", i), "10.0.0.9", "{}"})
              .ok());
    }
  }
  // "actor action" of the page, and the total through `total`.
  std::vector<std::string> Query(AuditFilter f, int64_t* total = nullptr) {
    int64_t t = -1;
    auto rows = db_->QueryAudit(f, &t);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (total != nullptr) *total = t;
    std::vector<std::string> out;
    if (rows.ok()) {
      for (const auto& e : *rows) out.push_back(e.actor + " " + e.action);
    }
    return out;
  }
  static AuditFilter Action(std::string action) {
    AuditFilter f;
    f.action = std::move(action);
    return f;
  }
};

TEST_F(SqliteAuditQueryTest, UnfilteredIsNewestFirstWithAllFields) {
  int64_t total = 0;
  auto rows = db_->QueryAudit({}, &total);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(total, 11);
  ASSERT_EQ(rows->size(), 11u);
  const AuditEntry& e = (*rows)[0];
  EXPECT_EQ(e.created_at, At(600));
  EXPECT_EQ(e.actor, "root");
  EXPECT_EQ(e.action, "Model.rename");
  EXPECT_EQ(e.object_type, "obj");
  EXPECT_EQ(e.object_id, "o10");
  EXPECT_EQ(e.client_ip, "10.0.0.9");
  EXPECT_EQ(e.detail, "{}");
  EXPECT_EQ((*rows)[10].action, "auth.login");
}

TEST_F(SqliteAuditQueryTest, ActorIsExact) {
  AuditFilter f;
  f.actor = "ops";
  int64_t total = 0;
  EXPECT_EQ(Query(f, &total), (std::vector<std::string>{"ops a_b.c", "ops axb.c",
                                                        "ops token.create", "ops model.publish"}));
  EXPECT_EQ(total, 4);
  f.actor = "op";
  EXPECT_TRUE(Query(f, &total).empty());
  EXPECT_EQ(total, 0);
}

TEST_F(SqliteAuditQueryTest, ActionIsALiteralCaseSensitivePrefix) {
  int64_t total = 0;
  EXPECT_EQ(
      Query(Action("model."), &total),
      (std::vector<std::string>{"root model.delete", "ops model.publish", "root model.create"}));
  EXPECT_EQ(total, 3);
  EXPECT_EQ(Query(Action("model")),
            (std::vector<std::string>{"root model.delete", "root models.export",
                                      "ops model.publish", "root model.create"}));
  EXPECT_EQ(Query(Action("model.publish")), (std::vector<std::string>{"ops model.publish"}));
  // LIKE wildcards are plain characters here.
  EXPECT_EQ(Query(Action("a_b")), (std::vector<std::string>{"ops a_b.c"}));
  EXPECT_TRUE(Query(Action("_"), &total).empty());
  EXPECT_EQ(total, 0);
  EXPECT_TRUE(Query(Action("%"), &total).empty());
  EXPECT_EQ(total, 0);
  EXPECT_TRUE(Query(Action("model%")).empty());
  EXPECT_EQ(Query(Action("100%")), (std::vector<std::string>{"root 100%.done"}));
  // A prefix, not a substring.
  EXPECT_TRUE(Query(Action("create")).empty());
}

TEST_F(SqliteAuditQueryTest, TimeRangeIsHalfOpen) {
  AuditFilter f;
  f.from = At(60);  // the second entry, inclusive
  f.to = At(240);   // the fifth, exclusive
  int64_t total = 0;
  EXPECT_EQ(Query(f, &total), (std::vector<std::string>{"root models.export", "ops model.publish",
                                                        "root model.create"}));
  EXPECT_EQ(total, 3);
  f.to.clear();
  f.from = At(540);
  EXPECT_EQ(Query(f), (std::vector<std::string>{"root Model.rename", "system system.setup"}));
  f.from.clear();
  f.to = At(60);
  EXPECT_EQ(Query(f), (std::vector<std::string>{"root auth.login"}));
}

TEST_F(SqliteAuditQueryTest, PagingKeepsTheTotalOfAllMatches) {
  AuditFilter f;
  f.actor = "root";
  f.limit = 2;
  int64_t total = 0;
  EXPECT_EQ(Query(f, &total), (std::vector<std::string>{"root Model.rename", "root 100%.done"}));
  EXPECT_EQ(total, 6);
  f.offset = 2;
  EXPECT_EQ(Query(f, &total),
            (std::vector<std::string>{"root model.delete", "root models.export"}));
  EXPECT_EQ(total, 6);
  f.offset = 4;
  f.limit = 5;
  EXPECT_EQ(Query(f, &total), (std::vector<std::string>{"root model.create", "root auth.login"}));
  f.offset = 6;
  EXPECT_TRUE(Query(f, &total).empty());
  EXPECT_EQ(total, 6);
}

TEST_F(SqliteAuditQueryTest, FiltersCombine) {
  AuditFilter f;
  f.actor = "root";
  f.action = "model.";
  f.from = At(90);
  int64_t total = 0;
  EXPECT_EQ(Query(f, &total), (std::vector<std::string>{"root model.delete"}));
  EXPECT_EQ(total, 1);
}

}  // namespace
}  // namespace cinfer
