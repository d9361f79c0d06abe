#include "logs/inference_log_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "common/time_format.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/test_records.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

using std::chrono::milliseconds;

// Forwards to a real store, counting the calls and the batch sizes; can hold
// appends until released.
class CountingStore final : public InferenceLogStore {
 public:
  explicit CountingStore(InferenceLogStore* inner) : inner_(inner) {}

  absl::Status AppendInferenceLogs(const std::vector<InferenceLogRecord>& records) override {
    {
      std::unique_lock lock(mu_);
      ++appends_;
      batch_sizes_.push_back(records.size());
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !blocked_; });
    }
    return fail_ ? absl::UnavailableError("database is down")
                 : inner_->AppendInferenceLogs(records);
  }
  absl::StatusOr<std::vector<InferenceLogRecord>> QueryInferenceLogs(const InferenceLogFilter& f,
                                                                     int64_t* total) override {
    return inner_->QueryInferenceLogs(f, total);
  }
  absl::StatusOr<ModelStatsRecord> InferenceStats(std::string_view model_id, std::string_view from,
                                                  std::string_view to) override {
    return inner_->InferenceStats(model_id, from, to);
  }
  absl::StatusOr<StatsOverviewRecord> StatsOverview(const StatsOverviewQuery& q) override {
    return inner_->StatsOverview(q);
  }
  absl::StatusOr<int64_t> PurgeInferenceLogs(std::string_view older_than,
                                             int64_t max_rows) override {
    std::lock_guard lock(mu_);
    purges_.push_back({std::string(older_than), max_rows});
    return inner_->PurgeInferenceLogs(older_than, max_rows);
  }

  void Block() {
    std::lock_guard lock(mu_);
    blocked_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    blocked_ = false;
    cv_.notify_all();
  }
  // Waits until `n` appends have started.
  void AwaitEntered(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  int appends() {
    std::lock_guard lock(mu_);
    return appends_;
  }
  std::vector<size_t> batch_sizes() {
    std::lock_guard lock(mu_);
    return batch_sizes_;
  }
  std::vector<std::pair<std::string, int64_t>> purges() {
    std::lock_guard lock(mu_);
    return purges_;
  }
  std::atomic<bool> fail_{false};

 private:
  InferenceLogStore* inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;
  int entered_ = 0;
  int appends_ = 0;
  std::vector<size_t> batch_sizes_;
  std::vector<std::pair<std::string, int64_t>> purges_;
};

class InferenceLogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open({.path = dir_.File("cinfer.db")});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    const UserRecord admin = testing::TestAdmin("u1", "root", FormatIso8601(clock_.Now()));
    ASSERT_TRUE(db_->CreateFirstAdmin(admin).ok());
    ModelRecord m;
    m.id = "m1";
    m.name = "m1";
    m.engine = "onnxruntime";
    m.created_by = "u1";
    m.created_at = m.updated_at = admin.created_at;
    ModelVersionRecord v;
    v.id = "m1-v1";
    v.model_id = "m1";
    v.file_path = "/models/m1";
    v.sha256 = "00";
    v.created_by = "u1";
    v.created_at = admin.created_at;
    ASSERT_TRUE(db_->CreateModel(m, v).ok());
    store_ = std::make_unique<CountingStore>(db_.get());
  }

  static InferenceLogRecord Log(int i) {
    InferenceLogRecord r;
    r.model_id = "m1";
    r.request_id = StrCat("r", i);
    r.status = "ok";
    r.total_ms = i;
    return r;
  }

  int64_t Rows() {
    int64_t total = 0;
    EXPECT_TRUE(db_->QueryInferenceLogs({}, &total).ok());
    return total;
  }

  InferenceLogWriter::Options SlowTimer() {
    InferenceLogWriter::Options o;
    o.flush_interval = std::chrono::hours(1);  // only batches, Flush() and shutdown write
    return o;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteDatabase> db_;
  std::unique_ptr<CountingStore> store_;
};

TEST_F(InferenceLogWriterTest, RecordsAreWrittenAfterFlushWithIdsAndTimes) {
  InferenceLogWriter writer(SlowTimer(), store_.get(), &clock_);
  for (int i = 0; i < 3; ++i) writer.Record(Log(i));
  writer.Flush();
  EXPECT_EQ(writer.written(), 3u);
  EXPECT_EQ(writer.dropped(), 0u);
  int64_t total = 0;
  auto rows = db_->QueryInferenceLogs({}, &total);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(total, 3);
  EXPECT_FALSE((*rows)[0].id.empty());
  EXPECT_NE((*rows)[0].id, (*rows)[1].id);
  EXPECT_EQ((*rows)[0].created_at, FormatIso8601(clock_.Now()));
  EXPECT_EQ(store_->appends(), 1);  // one batch
  writer.Flush();                   // nothing new: no empty write
  EXPECT_EQ(store_->appends(), 1);
}

TEST_F(InferenceLogWriterTest, WritesInBatchesOfMaxBatch) {
  InferenceLogWriter::Options o = SlowTimer();
  o.max_batch = 4;
  InferenceLogWriter writer(o, store_.get(), &clock_);
  store_->Block();  // let the queue fill while the first batch is held
  for (int i = 0; i < 4; ++i) writer.Record(Log(i));
  store_->AwaitEntered(1);
  for (int i = 4; i < 14; ++i) writer.Record(Log(i));
  store_->Release();
  writer.Flush();
  EXPECT_EQ(Rows(), 14);
  EXPECT_EQ(writer.written(), 14u);
  EXPECT_EQ(store_->batch_sizes(), (std::vector<size_t>{4, 4, 4, 2}));
}

TEST_F(InferenceLogWriterTest, FullBatchWakesTheWriterWithoutFlush) {
  InferenceLogWriter::Options o = SlowTimer();
  o.max_batch = 5;
  InferenceLogWriter writer(o, store_.get(), &clock_);
  for (int i = 0; i < 5; ++i) writer.Record(Log(i));
  store_->AwaitEntered(1);  // would hang if only the (hour-long) timer could write
  EXPECT_EQ(store_->batch_sizes(), (std::vector<size_t>{5}));
}

TEST_F(InferenceLogWriterTest, FlushIntervalWritesWithoutFlush) {
  InferenceLogWriter::Options o;
  o.flush_interval = milliseconds(20);
  InferenceLogWriter writer(o, store_.get(), &clock_);
  writer.Record(Log(1));
  store_->AwaitEntered(1);
  EXPECT_EQ(store_->batch_sizes(), (std::vector<size_t>{1}));
}

TEST_F(InferenceLogWriterTest, DestructorWritesWhatIsQueued) {
  {
    InferenceLogWriter writer(SlowTimer(), store_.get(), &clock_);
    for (int i = 0; i < 7; ++i) writer.Record(Log(i));
  }
  EXPECT_EQ(Rows(), 7);
}

TEST_F(InferenceLogWriterTest, FullQueueDropsAndCounts) {
  InferenceLogWriter::Options o = SlowTimer();
  o.queue_capacity = 10;
  o.max_batch = 1;
  InferenceLogWriter writer(o, store_.get(), &clock_);
  store_->Block();
  writer.Record(Log(0));
  store_->AwaitEntered(1);  // the writer holds record 0 in a blocked append
  for (int i = 1; i <= 15; ++i) writer.Record(Log(i));  // 10 fit, 5 do not
  EXPECT_EQ(writer.dropped(), 5u);
  store_->Release();
  writer.Flush();
  EXPECT_EQ(writer.written(), 11u);
  EXPECT_EQ(writer.dropped(), 5u);
  EXPECT_EQ(Rows(), 11);
}

TEST_F(InferenceLogWriterTest, FailedWritesCountAsDropped) {
  InferenceLogWriter::Options o = SlowTimer();
  o.retry_for = std::chrono::milliseconds(30);
  o.retry_interval = std::chrono::milliseconds(5);
  InferenceLogWriter writer(o, store_.get(), &clock_);
  store_->fail_ = true;
  for (int i = 0; i < 3; ++i) writer.Record(Log(i));
  writer.Flush();
  EXPECT_EQ(writer.dropped(), 3u);
  EXPECT_EQ(writer.written(), 0u);
  store_->fail_ = false;
  writer.Record(Log(3));
  writer.Flush();
  EXPECT_EQ(writer.written(), 1u);
  EXPECT_EQ(Rows(), 1);
}

TEST_F(InferenceLogWriterTest, ABatchFailingForAMomentIsRetriedNotDropped) {
  InferenceLogWriter::Options o = SlowTimer();
  o.retry_for = std::chrono::seconds(30);
  o.retry_interval = std::chrono::milliseconds(5);
  InferenceLogWriter writer(o, store_.get(), &clock_);
  store_->fail_ = true;  // e.g. another process holds the write lock
  for (int i = 0; i < 3; ++i) writer.Record(Log(i));
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    store_->fail_ = false;
  });
  writer.Flush();
  release.join();
  EXPECT_EQ(writer.dropped(), 0u);
  EXPECT_EQ(writer.written(), 3u);
  EXPECT_EQ(Rows(), 3);
}

TEST_F(InferenceLogWriterTest, PurgesAtStartWithTheClocksCutoff) {
  // Rows 40 days and 1 day old by the fake clock.
  InferenceLogRecord old_row = Log(1);
  old_row.id = "old";
  old_row.created_at = FormatIso8601(clock_.Now() - std::chrono::hours(24 * 40));
  InferenceLogRecord new_row = Log(2);
  new_row.id = "new";
  new_row.created_at = FormatIso8601(clock_.Now() - std::chrono::hours(24));
  ASSERT_TRUE(db_->AppendInferenceLogs({old_row, new_row}).ok());

  InferenceLogWriter::Options o = SlowTimer();
  o.retention_days = 30;
  o.max_rows = 1000;
  InferenceLogWriter writer(o, store_.get(), &clock_);
  writer.Flush();  // returns only after the start purge
  auto purges = store_->purges();
  ASSERT_EQ(purges.size(), 1u);
  EXPECT_EQ(purges[0].first, FormatIso8601(clock_.Now() - std::chrono::hours(24 * 30)));
  EXPECT_EQ(purges[0].second, 1000);
  int64_t total = 0;
  auto rows = db_->QueryInferenceLogs({}, &total);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(total, 1);
  EXPECT_EQ((*rows)[0].id, "new");
}

TEST_F(InferenceLogWriterTest, ConcurrentRecordersLoseNothing) {
  InferenceLogWriter::Options o;
  o.max_batch = 64;
  o.flush_interval = milliseconds(5);
  InferenceLogWriter writer(o, store_.get(), &clock_);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&writer, t] {
      for (int i = 0; i < 500; ++i) writer.Record(Log(t * 1000 + i));
    });
  }
  for (auto& t : threads) t.join();
  writer.Flush();
  EXPECT_EQ(writer.written(), 2000u);
  EXPECT_EQ(writer.dropped(), 0u);
  EXPECT_EQ(Rows(), 2000);
  for (size_t n : store_->batch_sizes()) EXPECT_LE(n, 64u);
}

}  // namespace
}  // namespace cinfer
