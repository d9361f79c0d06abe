#include "tokens/usage_recorder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "common/monotonic_clock.h"

namespace cinfer {
namespace {

// A TokenStore that records what it is asked to write; the first write can be
// held until released, and writes can be made to fail.
class RecordingStore final : public TokenStore {
 public:
  absl::Status CreateToken(const TokenRecord&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override {
    return std::vector<TokenRecord>{};
  }
  absl::StatusOr<std::optional<TokenRecord>> FindToken(std::string_view) override {
    return std::nullopt;
  }
  absl::Status UpdateToken(const TokenRecord&) override { return absl::OkStatus(); }
  absl::Status DeleteToken(std::string_view) override { return absl::OkStatus(); }
  absl::Status ResetTokenUsage(std::string_view, std::string_view, std::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<TokenUsageRow>> TokenUsage(std::string_view, std::string_view,
                                                        std::string_view) override {
    return std::vector<TokenUsageRow>{};
  }
  absl::Status RecordTokenUsage(const std::vector<TokenUsageIncrement>& rows,
                                std::chrono::steady_clock::time_point deadline) override {
    std::unique_lock lock(mu);
    batches.push_back(rows);
    deadlines.push_back(deadline);
    cv.notify_all();
    cv.wait(lock, [&] { return !hold_first || batches.size() > 1 || released; });
    if (fail_first > 0) {
      --fail_first;
      return absl::UnavailableError("database is locked");
    }
    return fail ? absl::UnavailableError("database is locked") : absl::OkStatus();
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<TokenUsageIncrement>> batches;
  std::vector<std::chrono::steady_clock::time_point> deadlines;  // one per write
  bool hold_first = false;
  bool released = false;
  bool fail = false;
  int fail_first = 0;  // this many writes fail first
  size_t writes() {
    std::lock_guard lock(mu);
    return batches.size();
  }
};

TokenUsageIncrement Inc(std::string token, std::string model, int64_t n) {
  return {std::move(token), std::move(model), "2026-11-26", "2026-11", n, "2026-11-26T00:00:00Z"};
}

// RecordAsync's answer and the thread it came on.
struct Answered {
  absl::Status status = absl::InternalError("no answer within 30 s");
  std::thread::id thread;
};
Answered RecordAndWait(UsageRecorder& recorder, TokenUsageIncrement inc, bool expected = false) {
  auto answered = std::make_shared<std::promise<Answered>>();
  auto future = answered->get_future();
  recorder.RecordAsync(
      std::move(inc), std::chrono::steady_clock::time_point::max(),
      [answered](absl::Status st) {
        answered->set_value({st, std::this_thread::get_id()});
      },
      expected);
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return {};
  return future.get();
}

TEST(UsageRecorderTest, WaitersQueuedDuringAWriteShareTheNextTransaction) {
  RecordingStore store;
  store.hold_first = true;
  UsageRecorder recorder({}, &store);
  std::thread first([&] { EXPECT_TRUE(recorder.Record(Inc("t1", "m1", 1)).ok()); });
  {
    std::unique_lock lock(store.mu);
    store.cv.wait(lock, [&] { return store.batches.size() == 1; });  // first write in progress
  }
  std::vector<std::thread> waiters;
  for (int i = 0; i < 10; ++i) {
    waiters.emplace_back(
        [&, i] { EXPECT_TRUE(recorder.Record(Inc(i % 2 ? "t1" : "t2", "m1", 2)).ok()); });
  }
  while (recorder.queued() < 10) std::this_thread::yield();
  {
    std::lock_guard lock(store.mu);
    store.released = true;
  }
  store.cv.notify_all();
  first.join();
  for (auto& w : waiters) w.join();
  EXPECT_EQ(recorder.transactions(), 2);
  ASSERT_EQ(store.batches.size(), 2u);
  // The ten increments were merged per (token, day, model).
  ASSERT_EQ(store.batches[1].size(), 2u);
  EXPECT_EQ(store.batches[1][0].count + store.batches[1][1].count, 20);
}

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

UsageRecorder::Options Breaker(milliseconds after, milliseconds open = milliseconds(1000),
                               const MonotonicClock* clock = nullptr) {
  UsageRecorder::Options o;
  o.retry_interval = milliseconds(5);
  o.breaker_after = after;
  o.breaker_open = open;
  o.clock = clock;
  return o;
}

// Waits until the writer has made `n` attempts. transactions() takes the lock
// the writer gives up after an attempt only once it waits (its retry time
// fixed) or has answered the batch, so a fake clock advanced from here on ends
// that wait.
void WaitForTransactions(const UsageRecorder& recorder, int64_t n) {
  while (recorder.transactions() < n) std::this_thread::yield();
}

// Fails writes until the breaker opens: one attempt per retry interval of
// `clock`, the last one `breaker_after` after the first.
void OpenTheBreaker(UsageRecorder& recorder, FakeMonotonicClock& clock,
                    const UsageRecorder::Options& o) {
  auto failed = std::async(std::launch::async, [&] { return recorder.Record(Inc("t1", "m1", 1)); });
  const int64_t attempts = o.breaker_after / o.retry_interval + 1;
  for (int64_t i = 1; i < attempts; ++i) {
    WaitForTransactions(recorder, i);
    clock.Advance(o.retry_interval);
  }
  absl::Status st = failed.get();
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_EQ(recorder.transactions(), attempts);
}

TEST(UsageRecorderTest, AFailedWriteIsReportedToEveryWaiter) {
  RecordingStore store;
  store.fail = true;
  UsageRecorder recorder(Breaker(milliseconds(0)), &store);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      absl::Status st = recorder.Record(Inc("t1", "m1", 1));
      EXPECT_TRUE(absl::IsUnavailable(st)) << st;
    });
  }
  for (auto& t : threads) t.join();
}

TEST(UsageRecorderTest, AFailedTransactionIsRetriedUntilItCommits) {
  RecordingStore store;
  store.fail_first = 2;  // e.g. another process held the write lock briefly
  FakeMonotonicClock clock;
  UsageRecorder recorder(Breaker(milliseconds(5000), milliseconds(1000), &clock), &store);
  auto committed =
      std::async(std::launch::async, [&] { return recorder.Record(Inc("t1", "m1", 1)); });
  WaitForTransactions(recorder, 1);
  clock.Advance(milliseconds(4));
  std::this_thread::sleep_for(milliseconds(20));  // a retry before its interval would show here
  EXPECT_EQ(recorder.transactions(), 1);
  clock.Advance(milliseconds(1));  // the retry interval (5 ms) after the failure
  WaitForTransactions(recorder, 2);
  clock.Advance(milliseconds(5));
  EXPECT_TRUE(committed.get().ok());
  EXPECT_EQ(recorder.transactions(), 3);
}

TEST(UsageRecorderTest, TheDeadlineEndsTheWaitAndNothingIsCounted) {
  RecordingStore store;
  store.fail = true;
  FakeMonotonicClock clock;
  UsageRecorder recorder(Breaker(milliseconds(60'000), milliseconds(1000), &clock), &store);
  const auto deadline = clock.Now() + milliseconds(100);
  auto result =
      std::async(std::launch::async, [&] { return recorder.Record(Inc("t1", "m1", 1), deadline); });
  WaitForTransactions(recorder, 1);  // failed; the retry waits 5 ms
  clock.Advance(milliseconds(100));  // the deadline, not the 60 s breaker delay
  absl::Status st = result.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_EQ(store.writes(), 1u);  // answered between attempts, not tried again
}

TEST(UsageRecorderTest, DestroyingTheRecorderEndsARetryPause) {
  RecordingStore store;
  store.fail = true;
  std::promise<absl::Status> answered;
  {
    UsageRecorder::Options o = Breaker(milliseconds(60'000));
    o.retry_interval = std::chrono::hours(1);
    UsageRecorder recorder(o, &store);
    recorder.RecordAsync(Inc("t1", "m1", 1), Steady::time_point::max(),
                         [&](absl::Status st) { answered.set_value(st); });
    WaitForTransactions(recorder, 1);  // failed; pausing for an hour
  }  // not an hour later: one last attempt at once, then the answer
  auto future = answered.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  absl::Status st = future.get();
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_EQ(store.writes(), 2u);
}

TEST(UsageRecorderTest, EachAttemptIsBoundedByTheEarliestDeadlineOfItsBatch) {
  RecordingStore store;
  store.hold_first = true;
  UsageRecorder recorder({}, &store);
  std::thread first([&] { EXPECT_TRUE(recorder.Record(Inc("t0", "m1", 1)).ok()); });
  {
    std::unique_lock lock(store.mu);
    store.cv.wait(lock, [&] { return store.batches.size() == 1; });
  }
  const auto soon = Steady::now() + std::chrono::hours(1);
  std::thread late(
      [&] { EXPECT_TRUE(recorder.Record(Inc("t1", "m1", 1), soon + milliseconds(5)).ok()); });
  std::thread early([&] { EXPECT_TRUE(recorder.Record(Inc("t2", "m1", 1), soon).ok()); });
  std::thread none([&] { EXPECT_TRUE(recorder.Record(Inc("t3", "m1", 1)).ok()); });
  while (recorder.queued() < 3) std::this_thread::yield();
  {
    std::lock_guard lock(store.mu);
    store.released = true;
  }
  store.cv.notify_all();
  for (std::thread* t : {&first, &late, &early, &none}) t->join();
  ASSERT_EQ(store.deadlines.size(), 2u);
  EXPECT_EQ(store.deadlines[0], Steady::time_point::max());  // no deadline: unbounded
  EXPECT_EQ(store.deadlines[1], soon);
}

TEST(UsageRecorderTest, TheBreakerRefusesAtOnceThenAProbeClosesIt) {
  RecordingStore store;
  store.fail = true;
  FakeMonotonicClock clock;
  const UsageRecorder::Options options = Breaker(milliseconds(50), milliseconds(300), &clock);
  UsageRecorder recorder(options, &store);
  OpenTheBreaker(recorder, clock, options);  // 50 ms after the first failure
  const size_t writes = store.writes();
  // Tried, it would fail (the breaker's store still fails) without "breaker".
  absl::Status refused = recorder.Record(Inc("t1", "m1", 1));
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_NE(std::string(refused.message()).find("breaker"), std::string::npos) << refused;
  EXPECT_EQ(store.writes(), writes);  // not even tried
  {
    std::lock_guard lock(store.mu);
    store.fail = false;
  }
  clock.Advance(milliseconds(299));
  EXPECT_TRUE(absl::IsUnavailable(recorder.Record(Inc("t1", "m1", 1))));  // still open
  EXPECT_EQ(store.writes(), writes);
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(recorder.Record(Inc("t1", "m1", 1)).ok());  // the probe succeeds
  EXPECT_TRUE(recorder.Record(Inc("t1", "m1", 1)).ok());
}

// RecordAsync: the same commits and failures, answered by callback on the
// writer thread; the caller never waits.
TEST(UsageRecorderTest, RecordAsyncCallsBackFromTheWriterOnceCommitted) {
  RecordingStore store;
  UsageRecorder recorder(Breaker(milliseconds(5000)), &store);
  const Answered a = RecordAndWait(recorder, Inc("t1", "m1", 3));
  EXPECT_TRUE(a.status.ok()) << a.status;
  EXPECT_NE(a.thread, std::this_thread::get_id());
  ASSERT_EQ(store.writes(), 1u);
  EXPECT_EQ(store.batches[0][0].count, 3);
}

TEST(UsageRecorderTest, RecordAsyncPastItsDeadlineIsAnsweredAndNotCounted) {
  RecordingStore store;
  store.fail = true;
  FakeMonotonicClock clock;
  UsageRecorder recorder(Breaker(milliseconds(60'000), milliseconds(1000), &clock), &store);
  std::promise<absl::Status> answered;
  recorder.RecordAsync(Inc("t1", "m1", 1), clock.Now() + milliseconds(100),
                       [&](absl::Status st) { answered.set_value(st); });
  WaitForTransactions(recorder, 1);  // failed; the retry waits 5 ms
  clock.Advance(milliseconds(100));
  auto future = answered.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  absl::Status st = future.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_EQ(store.writes(), 1u);
}

TEST(UsageRecorderTest, RecordAsyncIsRefusedAtOnceWhileTheBreakerIsOpen) {
  RecordingStore store;
  store.fail = true;
  FakeMonotonicClock clock;
  const UsageRecorder::Options options = Breaker(milliseconds(50), milliseconds(60'000), &clock);
  UsageRecorder recorder(options, &store);
  OpenTheBreaker(recorder, clock, options);
  const size_t writes = store.writes();
  absl::Status refused = absl::OkStatus();
  bool called = false;
  recorder.RecordAsync(Inc("t1", "m1", 1), Steady::time_point::max(), [&](absl::Status st) {
    refused = st;
    called = true;
  });
  EXPECT_TRUE(called);  // on the caller's thread, before RecordAsync returned
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_EQ(store.writes(), writes);
}

// Low load: an idle recorder writes on the caller's thread, no hand-off.
TEST(UsageRecorderTest, AnIdleRecorderWritesOnTheCallersThread) {
  RecordingStore store;
  UsageRecorder::Options options;
  options.write_inline_when_idle = true;
  UsageRecorder recorder(options, &store);
  recorder.Expect(1);
  std::optional<std::thread::id> answered_on;
  recorder.RecordAsync(
      Inc("t1", "m1", 1), Steady::time_point::max(),
      [&](absl::Status st) {
        EXPECT_TRUE(st.ok()) << st;
        answered_on = std::this_thread::get_id();
      },
      /*expected=*/true);
  ASSERT_TRUE(answered_on.has_value());  // before RecordAsync returned
  EXPECT_EQ(*answered_on, std::this_thread::get_id());
  EXPECT_EQ(recorder.inline_transactions(), 1);
  EXPECT_EQ(store.writes(), 1u);
}

// Others announced: the increment goes to the writer thread (group commit).
TEST(UsageRecorderTest, AnAnnouncedRequestKeepsTheWriteOffTheCallersThread) {
  RecordingStore store;
  UsageRecorder::Options options;
  options.write_inline_when_idle = true;
  UsageRecorder recorder(options, &store);
  recorder.Expect(2);  // this request and one more in flight
  const Answered a = RecordAndWait(recorder, Inc("t1", "m1", 1), /*expected=*/true);
  EXPECT_TRUE(a.status.ok()) << a.status;
  EXPECT_NE(a.thread, std::this_thread::get_id());
  EXPECT_EQ(recorder.inline_transactions(), 0);
}

// A failed inline attempt counted nothing; the writer thread retries it.
TEST(UsageRecorderTest, AFailedInlineWriteIsRetriedByTheWriter) {
  RecordingStore store;
  store.fail_first = 1;
  UsageRecorder::Options options;
  options.write_inline_when_idle = true;
  options.retry_interval = milliseconds(1);
  UsageRecorder recorder(options, &store);
  const Answered a = RecordAndWait(recorder, Inc("t1", "m1", 1));
  EXPECT_TRUE(a.status.ok()) << a.status;
  EXPECT_NE(a.thread, std::this_thread::get_id());
  EXPECT_EQ(recorder.inline_transactions(), 1);
  EXPECT_EQ(store.writes(), 2u);  // the failed inline attempt, then the writer's
}

// Under load the writer lingers while more requests are announced than have
// arrived, so they share one transaction; the linger never outlasts its bound.
TEST(UsageRecorderTest, TheWriterLingersForAnnouncedRequests) {
  RecordingStore store;
  FakeMonotonicClock clock;
  UsageRecorder::Options options;
  options.clock = &clock;
  options.linger = std::chrono::microseconds(2000);
  UsageRecorder recorder(options, &store);
  recorder.Expect(4);
  std::atomic<int> answered{0};
  auto record = [&] {
    recorder.RecordAsync(
        Inc("t1", "m1", 1), clock.Now() + std::chrono::seconds(10),
        [&](absl::Status st) {
          EXPECT_TRUE(st.ok()) << st;
          ++answered;
        },
        /*expected=*/true);
  };
  record();  // 1 queued, 3 still announced: the writer waits
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(store.writes(), 0u);
  record();  // 2 queued, 2 announced: enough have arrived
  for (int i = 0; i < 3000 && answered < 2; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_EQ(answered, 2);
  ASSERT_EQ(store.writes(), 1u);
  EXPECT_EQ(store.batches[0][0].count, 2);  // both in one transaction
  recorder.Expect(3);                       // 5 announced
  record();  // 1 queued, 4 still announced: waits, but only up to the linger
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(store.writes(), 1u);
  clock.Advance(std::chrono::microseconds(2000));
  for (int i = 0; i < 3000 && answered < 3; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(store.writes(), 2u);
  recorder.Expect(-4);  // the other announced requests ended without usage
}

}  // namespace
}  // namespace cinfer
