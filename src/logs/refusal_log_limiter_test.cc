#include "logs/refusal_log_limiter.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/clock.h"

namespace cinfer {
namespace {

TEST(RefusalLogLimiterTest, AllowsThePerSecondBudgetPerModelAndCountsTheRest) {
  FakeClock clock;
  RefusalLogLimiter limiter(&clock);
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.Allow("a", 3) ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  EXPECT_TRUE(limiter.Allow("b", 3));  // another model has its own budget
  EXPECT_EQ(limiter.TakeSkipped("a"), 7);
  EXPECT_EQ(limiter.TakeSkipped("a"), 0);  // taken
  EXPECT_EQ(limiter.TakeSkipped("b"), 0);
  EXPECT_EQ(limiter.TakeSkipped("never-seen"), 0);

  clock.Advance(std::chrono::seconds(1));  // a new second: a new budget
  EXPECT_TRUE(limiter.Allow("a", 3));
  EXPECT_TRUE(limiter.Allow("a", 3));
  EXPECT_TRUE(limiter.Allow("a", 3));
  EXPECT_FALSE(limiter.Allow("a", 3));
  EXPECT_EQ(limiter.TakeSkipped("a"), 1);
}

TEST(RefusalLogLimiterTest, ZeroLogsNoneAndNegativeLogsAll) {
  FakeClock clock;
  RefusalLogLimiter limiter(&clock);
  EXPECT_FALSE(limiter.Allow("a", 0));
  EXPECT_FALSE(limiter.Allow("a", 0));
  EXPECT_EQ(limiter.TakeSkipped("a"), 2);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow("a", -1));
  EXPECT_EQ(limiter.TakeSkipped("a"), 0);
}

}  // namespace
}  // namespace cinfer
