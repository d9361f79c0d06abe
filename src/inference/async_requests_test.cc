#include "inference/async_requests.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "common/mutex.h"

namespace cinfer {
namespace {

using State = AsyncRequests::State;

// Work finished later from another thread, as an inference completes on a
// model worker: `finish` is kept and called when the test says so.
struct Deferred {
  Mutex mu;
  std::vector<AsyncRequests::Finish> waiting ABSL_GUARDED_BY(mu);
  AsyncRequests::Work Work() {
    return [this](AsyncRequests::Finish finish) {
      MutexLock lock(&mu);
      waiting.push_back(std::move(finish));
    };
  }
  size_t started() {
    MutexLock lock(&mu);
    return waiting.size();
  }
  // Finishes the i-th started work from a thread of its own.
  void FinishFromAnotherThread(size_t i, absl::StatusOr<nlohmann::json> result) {
    AsyncRequests::Finish f;
    {
      MutexLock lock(&mu);
      f = waiting.at(i);
    }
    std::thread([f, result] { f(result); }).join();
  }
};

// Options with `threads` running at most, and bounds on the queue and the kept results.
AsyncRequests::Options Bounded(int threads, size_t max_pending, size_t max_results) {
  AsyncRequests::Options o;
  o.threads = threads;
  o.max_pending = max_pending;
  o.max_results = max_results;
  return o;
}

TEST(AsyncRequestsTest, QueuedRunningDoneAndExpiry) {
  FakeClock clock;
  AsyncRequests::Options o;
  o.threads = 1;
  o.ttl = std::chrono::seconds(60);
  AsyncRequests async(o, &clock);
  Deferred deferred;
  auto first = async.Submit(deferred.Work());
  ASSERT_TRUE(first.ok());
  auto second = async.Submit([](AsyncRequests::Finish finish) {
    finish(ValidationError("bad input"));  // before the work returns
  });
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(async.Get(*first)->state, State::kRunning);  // started by Submit itself
  EXPECT_EQ(async.Get(*second)->state, State::kQueued);  // one at a time
  EXPECT_EQ(deferred.started(), 1u);
  deferred.FinishFromAnotherThread(0, nlohmann::json{{"answer", 42}});
  ASSERT_EQ(async.Get(*first)->state, State::kDone);
  EXPECT_EQ(async.Get(*first)->result["answer"], 42);
  // The first one's finish started the second, which finished at once.
  ASSERT_EQ(async.Get(*second)->state, State::kFailed);
  EXPECT_EQ(ErrorCodeOf(async.Get(*second)->error), "VALIDATION_FAILED");
  EXPECT_FALSE(async.Get("no-such-id").has_value());

  clock.Advance(std::chrono::seconds(61));
  EXPECT_FALSE(async.Get(*first).has_value());  // expired
  EXPECT_FALSE(async.Get(*second).has_value());
}

TEST(AsyncRequestsTest, PendingBoundAndResultCountBound) {
  FakeClock clock;
  AsyncRequests async(Bounded(1, 2, 2), &clock);
  Deferred deferred;
  auto a = async.Submit(deferred.Work());
  auto b = async.Submit(deferred.Work());
  auto c = async.Submit(deferred.Work());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ErrorCodeOf(c.status()), "QUEUE_FULL");
  EXPECT_EQ(RetryAfterOf(c.status()), 1);
  deferred.FinishFromAnotherThread(0, nlohmann::json::object());
  ASSERT_EQ(deferred.started(), 2u);  // b started when a finished
  deferred.FinishFromAnotherThread(1, nlohmann::json::object());
  auto d = async.Submit(deferred.Work());
  ASSERT_TRUE(d.ok());
  deferred.FinishFromAnotherThread(2, nlohmann::json::object());
  ASSERT_EQ(async.Get(*d)->state, State::kDone);
  // Three finished, two kept: the oldest went first.
  EXPECT_FALSE(async.Get(*a).has_value());
  EXPECT_TRUE(async.Get(*b).has_value());
  EXPECT_TRUE(async.Get(*d).has_value());
}

// Many requests finishing inside their own work (a model that is gone) are
// started one after another, not by recursion, and a throwing work fails alone.
TEST(AsyncRequestsTest, WorkFinishingAtOnceOrThrowingDoesNotStopTheQueue) {
  FakeClock clock;
  AsyncRequests async(Bounded(2, 20000, 20000), &clock);
  Deferred deferred;
  auto held = async.Submit(deferred.Work());
  std::vector<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    auto id = async.Submit([i](AsyncRequests::Finish finish) {
      if (i % 2) throw std::runtime_error("engine exploded");
      finish(nlohmann::json{{"i", i}});
    });
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  EXPECT_EQ(async.Get(*held)->state, State::kRunning);
  EXPECT_EQ(async.Get(ids[0])->state, State::kDone);
  EXPECT_EQ(async.Get(ids[1])->state, State::kFailed);
  EXPECT_EQ(ErrorCodeOf(async.Get(ids[1])->error), "INTERNAL");
  EXPECT_EQ(async.Get(ids.back())->state, State::kFailed);
  deferred.FinishFromAnotherThread(0, nlohmann::json::object());
  EXPECT_EQ(async.Get(*held)->state, State::kDone);
}

// The destructor waits for started work: its finish may come from another thread.
TEST(AsyncRequestsTest, DestructionWaitsForStartedWork) {
  FakeClock clock;
  Deferred deferred;
  std::thread finisher;
  {
    AsyncRequests async({}, &clock);
    ASSERT_TRUE(async.Submit(deferred.Work()).ok());
    ASSERT_EQ(deferred.started(), 1u);
    finisher = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      AsyncRequests::Finish f;
      {
        MutexLock lock(&deferred.mu);
        f = deferred.waiting[0];
      }
      f(nlohmann::json::object());
    });
  }  // returns only after the finisher ran
  finisher.join();
}

}  // namespace
}  // namespace cinfer
