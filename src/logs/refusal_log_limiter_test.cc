#include "logs/refusal_log_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "common/clock.h"

namespace cinfer {
namespace {

TEST(RefusalLogLimiterTest, AllowsThePerSecondBudgetPerModelAndCountsTheRest) {
  FakeClock clock;
  RefusalLogLimiter limiter(&clock);
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.Allow("a", 3).has_value() ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(limiter.Allow("b", 3), 0);  // another model has its own budget

  clock.Advance(std::chrono::seconds(1));  // a new second: a new budget
  EXPECT_EQ(limiter.Allow("a", 3), 7);     // the first logged one counts the 7 left out
  EXPECT_EQ(limiter.Allow("a", 3), 0);
  EXPECT_EQ(limiter.Allow("a", 3), 0);
  EXPECT_EQ(limiter.Allow("a", 3), std::nullopt);
  EXPECT_EQ(limiter.Allow("b", 3), 0);

  clock.Advance(std::chrono::milliseconds(999));  // still the same second
  EXPECT_EQ(limiter.Allow("a", 3), std::nullopt);
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(limiter.Allow("a", 3), 2);
}

TEST(RefusalLogLimiterTest, ZeroLogsNoneAndNegativeLogsAll) {
  FakeClock clock;
  RefusalLogLimiter limiter(&clock);
  EXPECT_EQ(limiter.Allow("a", 0), std::nullopt);
  EXPECT_EQ(limiter.Allow("a", 0), std::nullopt);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.Allow("a", -1), 0);
}

}  // namespace
}  // namespace cinfer
