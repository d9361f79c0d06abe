#include "auth/login_throttle.h"

#include <gtest/gtest.h>

namespace cinfer {
namespace {

using std::chrono::seconds;

TEST(LoginThrottleTest, LocksAUserAfterMaxFailuresUntilTheWindowPasses) {
  FakeClock clock;
  LoginThrottle t({.max_failures = 5, .window = seconds(300)}, &clock);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(t.RetryAfter("admin", "ip" + std::to_string(i)).has_value());
    t.RecordFailure("admin", "ip" + std::to_string(i));
    clock.Advance(seconds(10));
  }
  EXPECT_FALSE(t.RetryAfter("admin", "ip9").has_value());
  t.RecordFailure("admin", "ip4");
  // First failure was at t=0, now t=40: allowed again at t=300.
  auto wait = t.RetryAfter("admin", "ip9");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 260);
  EXPECT_FALSE(t.RetryAfter("bob", "ip9").has_value());
  clock.Advance(seconds(260));
  EXPECT_FALSE(t.RetryAfter("admin", "ip9").has_value());
}

TEST(LoginThrottleTest, LocksAnIpAcrossUsernames) {
  FakeClock clock;
  LoginThrottle t({.max_failures = 5, .window = seconds(300)}, &clock);
  for (int i = 0; i < 5; ++i) t.RecordFailure("user" + std::to_string(i), "10.0.0.1");
  EXPECT_TRUE(t.RetryAfter("fresh-user", "10.0.0.1").has_value());
  EXPECT_FALSE(t.RetryAfter("fresh-user", "10.0.0.2").has_value());
}

TEST(LoginThrottleTest, SuccessForgivesTheUserButNotTheIp) {
  FakeClock clock;
  LoginThrottle t({.max_failures = 3, .window = seconds(60)}, &clock);
  t.RecordFailure("admin", "a");
  t.RecordFailure("admin", "b");
  t.RecordSuccess("admin");
  t.RecordFailure("admin", "c");
  EXPECT_FALSE(t.RetryAfter("admin", "d").has_value());
}

TEST(LoginThrottleTest, TrackedKeysAreBounded) {
  FakeClock clock;
  LoginThrottle t({.max_failures = 2, .window = seconds(60), .max_tracked_keys = 10}, &clock);
  for (int i = 0; i < 100; ++i) t.RecordFailure("u" + std::to_string(i), "ip" + std::to_string(i));
  // Still works for the most recent key.
  t.RecordFailure("u99", "ip99");
  EXPECT_TRUE(t.RetryAfter("u99", "x").has_value());
}

}  // namespace
}  // namespace cinfer
