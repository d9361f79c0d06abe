#include "inference/async_requests.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/errors.h"

namespace cinfer {
namespace {

using State = AsyncRequests::State;

// Polls until the request reaches `state` (the pool runs it on its own thread).
bool WaitFor(AsyncRequests& async, const std::string& id, State state) {
  for (int i = 0; i < 2000; ++i) {
    auto snap = async.Get(id);
    if (snap.has_value() && snap->state == state) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(AsyncRequestsTest, QueuedRunningDoneAndExpiry) {
  FakeClock clock;
  AsyncRequests::Options o;
  o.threads = 1;
  o.ttl = std::chrono::seconds(60);
  AsyncRequests async(o, &clock);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  auto first = async.Submit([gate]() -> absl::StatusOr<nlohmann::json> {
    gate.wait();
    return nlohmann::json{{"answer", 42}};
  });
  ASSERT_TRUE(first.ok());
  auto second =
      async.Submit([]() -> absl::StatusOr<nlohmann::json> { return ValidationError("bad input"); });
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(WaitFor(async, *first, State::kRunning));
  EXPECT_EQ(async.Get(*second)->state, State::kQueued);  // one thread, busy with the first
  release.set_value();
  ASSERT_TRUE(WaitFor(async, *first, State::kDone));
  EXPECT_EQ(async.Get(*first)->result["answer"], 42);
  ASSERT_TRUE(WaitFor(async, *second, State::kFailed));
  EXPECT_EQ(ErrorCodeOf(async.Get(*second)->error), "VALIDATION_FAILED");
  EXPECT_FALSE(async.Get("no-such-id").has_value());

  clock.Advance(std::chrono::seconds(61));
  EXPECT_FALSE(async.Get(*first).has_value());  // expired
  EXPECT_FALSE(async.Get(*second).has_value());
}

TEST(AsyncRequestsTest, PendingBoundAndResultCountBound) {
  FakeClock clock;
  AsyncRequests::Options o;
  o.threads = 1;
  o.max_pending = 2;
  o.max_results = 2;
  AsyncRequests async(o, &clock);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  auto work = [gate]() -> absl::StatusOr<nlohmann::json> {
    gate.wait();
    return nlohmann::json::object();
  };
  auto a = async.Submit(work);
  auto b = async.Submit(work);
  auto c = async.Submit(work);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ErrorCodeOf(c.status()), "QUEUE_FULL");
  EXPECT_EQ(RetryAfterOf(c.status()), 1);
  release.set_value();
  ASSERT_TRUE(WaitFor(async, *b, State::kDone));
  auto d = async.Submit(work);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(WaitFor(async, *d, State::kDone));
  // Three finished, two kept: the oldest went first.
  EXPECT_FALSE(async.Get(*a).has_value());
  EXPECT_TRUE(async.Get(*b).has_value());
  EXPECT_TRUE(async.Get(*d).has_value());
}

}  // namespace
}  // namespace cinfer
