#include "vision/decode_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/errors.h"

namespace cinfer::vision {
namespace {

using std::chrono::steady_clock;

steady_clock::time_point Soon() { return steady_clock::now() + std::chrono::milliseconds(20); }
steady_clock::time_point Later() { return steady_clock::now() + std::chrono::seconds(30); }

TEST(DecodeBudgetTest, LeasesAddUpAndComeBack) {
  DecodeBudget budget(100);
  auto a = budget.Acquire(60, Soon());
  ASSERT_TRUE(a.ok());
  auto b = budget.Acquire(40, Soon());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(budget.in_use(), 100);
  auto c = budget.Acquire(1, Soon());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ErrorCodeOf(c.status()), "OVERLOADED");
  EXPECT_EQ(RetryAfterOf(c.status()), 1);
  a->ShrinkTo(10);
  EXPECT_EQ(budget.in_use(), 50);
  a->ShrinkTo(20);  // growing is not shrinking: no-op
  EXPECT_EQ(budget.in_use(), 50);
  { DecodeBudget::Lease moved = std::move(*b); }
  EXPECT_EQ(budget.in_use(), 10);
  a->Release();
  EXPECT_EQ(budget.in_use(), 0);
}

TEST(DecodeBudgetTest, AnOversizedImageRunsAlone) {
  DecodeBudget budget(100);
  auto big = budget.Acquire(500, Soon());
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(budget.Acquire(1, Soon()).ok());
  big->Release();
  auto small = budget.Acquire(1, Soon());
  ASSERT_TRUE(small.ok());
  EXPECT_FALSE(budget.Acquire(500, Soon()).ok());  // not beside another lease
}

TEST(DecodeBudgetTest, WaitersProceedWhenLeasesReturn) {
  DecodeBudget budget(100);
  auto held = budget.Acquire(100, Soon());
  ASSERT_TRUE(held.ok());
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto lease = budget.Acquire(50, Later());
    got = lease.ok();
  });
  held->Release();
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(budget.in_use(), 0);
}

TEST(DecodeBudgetTest, ManyThreadsNeverExceedTheBudget) {
  DecodeBudget budget(100);
  std::atomic<int64_t> peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto lease = budget.Acquire(30, Later());
        ASSERT_TRUE(lease.ok());
        int64_t now = budget.in_use();
        int64_t prev = peak.load();
        while (now > prev && !peak.compare_exchange_weak(prev, now)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), 100);
  EXPECT_GE(peak.load(), 30);
  EXPECT_EQ(budget.in_use(), 0);
}

}  // namespace
}  // namespace cinfer::vision
