#include "tokens/sliding_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace cinfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr nanoseconds kMinute = seconds(60);

TEST(SlidingWindowTest, BurstUpToTheLimit) {
  FakeClock clock;
  SlidingWindow w;
  const Clock::TimePoint t0 = clock.Now();
  for (int i = 0; i < 30; ++i) {
    SlidingWindow::Decision d = w.Acquire(clock.Now(), 30, kMinute);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 30);
    EXPECT_EQ(d.remaining, 29 - i);
    EXPECT_EQ(d.retry_after, nanoseconds(0));
    EXPECT_EQ(d.reset, kMinute);  // the oldest (first) event leaves at t0 + 60 s
  }
  SlidingWindow::Decision refused = w.Acquire(clock.Now(), 30, kMinute);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 30);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, kMinute);  // exactly until the first leaves
  EXPECT_EQ(refused.reset, kMinute);

  clock.Advance(seconds(59) + milliseconds(999));
  refused = w.Acquire(clock.Now(), 30, kMinute);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(1));
  EXPECT_EQ(refused.reset, milliseconds(1));

  // Exactly at t0 + 60 s all 30 have left (half-open window).
  clock.Advance(milliseconds(1));
  ASSERT_EQ(clock.Now(), t0 + kMinute);
  SlidingWindow::Decision d = w.Acquire(clock.Now(), 30, kMinute);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 29);
  EXPECT_EQ(d.reset, kMinute);
}

TEST(SlidingWindowTest, PartialExpiry) {
  FakeClock clock;
  SlidingWindow w;
  // Ten events at 0 s, ten at 20 s, ten at 40 s.
  for (int step = 0; step < 3; ++step) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(w.Acquire(clock.Now(), 30, kMinute).allowed);
    if (step < 2) clock.Advance(seconds(20));
  }
  // At 50 s: full; the first ten leave at 60 s.
  clock.Advance(seconds(10));
  SlidingWindow::Decision d = w.Acquire(clock.Now(), 30, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(10));
  EXPECT_EQ(d.reset, seconds(10));

  // At 60 s: the first ten are gone, ten admissions are possible.
  clock.Advance(seconds(10));
  SlidingWindow::Decision peek = w.Peek(clock.Now(), 30, kMinute);
  EXPECT_TRUE(peek.allowed);
  EXPECT_EQ(peek.remaining, 9);
  EXPECT_EQ(peek.reset, seconds(20));  // the events at 20 s leave at 80 s
  for (int i = 0; i < 10; ++i) {
    d = w.Acquire(clock.Now(), 30, kMinute);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 9 - i);
    EXPECT_EQ(d.reset, seconds(20));
  }
  d = w.Acquire(clock.Now(), 30, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.retry_after, seconds(20));
  EXPECT_EQ(d.reset, seconds(20));
}

TEST(SlidingWindowTest, PeekRecordsNothing) {
  FakeClock clock;
  SlidingWindow w;
  SlidingWindow::Decision empty = w.Peek(clock.Now(), 2, kMinute);
  EXPECT_TRUE(empty.allowed);
  EXPECT_EQ(empty.remaining, 1);  // as if admitted
  EXPECT_EQ(empty.reset, kMinute);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(w.Peek(clock.Now(), 2, kMinute).allowed);

  EXPECT_TRUE(w.Acquire(clock.Now(), 2, kMinute).allowed);
  clock.Advance(seconds(15));
  SlidingWindow::Decision p = w.Peek(clock.Now(), 2, kMinute);
  EXPECT_TRUE(p.allowed);
  EXPECT_EQ(p.remaining, 0);
  EXPECT_EQ(p.reset, seconds(45));
  EXPECT_TRUE(w.Acquire(clock.Now(), 2, kMinute).allowed);
  p = w.Peek(clock.Now(), 2, kMinute);
  EXPECT_FALSE(p.allowed);
  EXPECT_EQ(p.retry_after, seconds(45));
  EXPECT_EQ(p.reset, seconds(45));
  SlidingWindow::Decision a = w.Acquire(clock.Now(), 2, kMinute);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.retry_after, p.retry_after);
}

TEST(SlidingWindowTest, RefusedEventsAreNotRecorded) {
  FakeClock clock;
  SlidingWindow w;
  EXPECT_TRUE(w.Acquire(clock.Now(), 1, kMinute).allowed);
  for (int i = 0; i < 59; ++i) {
    clock.Advance(seconds(1));
    EXPECT_FALSE(w.Acquire(clock.Now(), 1, kMinute).allowed);
  }
  clock.Advance(seconds(1));
  SlidingWindow::Decision d = w.Acquire(clock.Now(), 1, kMinute);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
}

TEST(SlidingWindowTest, EmptyWindowHasNoReset) {
  FakeClock clock;
  SlidingWindow w;
  EXPECT_TRUE(w.Acquire(clock.Now(), 5, kMinute).allowed);
  clock.Advance(kMinute);
  // Everything left; Peek reports the state as if this request were admitted.
  SlidingWindow::Decision d = w.Peek(clock.Now(), 5, kMinute);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 4);
  EXPECT_EQ(d.reset, kMinute);
  // With a zero limit nothing is admitted, and nothing is counted.
  d = w.Peek(clock.Now(), 0, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reset, nanoseconds(0));
}

TEST(SlidingWindowTest, NonPositiveLimitRefusesEverything) {
  FakeClock clock;
  SlidingWindow w;
  for (int64_t limit : {0, -1, -100}) {
    SlidingWindow::Decision d = w.Acquire(clock.Now(), limit, kMinute);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 0);  // reported as 0
    EXPECT_EQ(d.remaining, 0);
    EXPECT_EQ(d.retry_after, kMinute);
    EXPECT_EQ(d.reset, nanoseconds(0));
  }
  // Counted events keep their reset.
  EXPECT_TRUE(w.Acquire(clock.Now(), 3, kMinute).allowed);
  clock.Advance(seconds(10));
  SlidingWindow::Decision d = w.Acquire(clock.Now(), 0, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, kMinute);
  EXPECT_EQ(d.reset, seconds(50));
  // The refusals recorded nothing: two more fit under 3.
  EXPECT_TRUE(w.Acquire(clock.Now(), 3, kMinute).allowed);
  EXPECT_TRUE(w.Acquire(clock.Now(), 3, kMinute).allowed);
  EXPECT_FALSE(w.Acquire(clock.Now(), 3, kMinute).allowed);
}

TEST(SlidingWindowTest, LoweredLimitAppliesAtOnceAndOldEventsStillCount) {
  FakeClock clock;
  SlidingWindow w;
  // 30 events, one per second from 0 s to 29 s.
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(w.Acquire(clock.Now(), 30, kMinute).allowed);
    clock.Advance(seconds(1));
  }
  // At 30 s the limit drops to 10: 30 counted, so 21 must leave before one
  // more fits; the 21st oldest (at 20 s) leaves at 80 s.
  SlidingWindow::Decision d = w.Acquire(clock.Now(), 10, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 10);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.retry_after, seconds(50));
  EXPECT_EQ(d.reset, seconds(30));  // the oldest (at 0 s) leaves at 60 s

  clock.Advance(seconds(50) - nanoseconds(1));
  EXPECT_FALSE(w.Acquire(clock.Now(), 10, kMinute).allowed);
  clock.Advance(nanoseconds(1));
  d = w.Acquire(clock.Now(), 10, kMinute);  // at 80 s: 9 counted (21 s..29 s)
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_FALSE(w.Acquire(clock.Now(), 10, kMinute).allowed);
}

TEST(SlidingWindowTest, RaisedLimitAppliesAtOnce) {
  FakeClock clock;
  SlidingWindow w;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w.Acquire(clock.Now(), 5, kMinute).allowed);
  EXPECT_FALSE(w.Acquire(clock.Now(), 5, kMinute).allowed);
  SlidingWindow::Decision d = w.Acquire(clock.Now(), 8, kMinute);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2);
  EXPECT_TRUE(w.Acquire(clock.Now(), 8, kMinute).allowed);
  EXPECT_TRUE(w.Acquire(clock.Now(), 8, kMinute).allowed);
  EXPECT_FALSE(w.Acquire(clock.Now(), 8, kMinute).allowed);
  // Lowering and raising again does not forget the 8 counted events.
  EXPECT_FALSE(w.Acquire(clock.Now(), 2, kMinute).allowed);
  EXPECT_FALSE(w.Acquire(clock.Now(), 8, kMinute).allowed);
  EXPECT_TRUE(w.Acquire(clock.Now(), 9, kMinute).allowed);
}

TEST(SlidingWindowTest, ClockSteppingBackIsTreatedAsTheLatestRecordedTime) {
  SlidingWindow w;
  const Clock::TimePoint t0 = FakeClock().Now();
  ASSERT_TRUE(w.Acquire(t0, 2, kMinute).allowed);
  ASSERT_TRUE(w.Acquire(t0 + seconds(30), 2, kMinute).allowed);
  // Ten seconds back: judged at t0 + 30 s, so nothing leaves early.
  SlidingWindow::Decision d = w.Acquire(t0 + seconds(20), 2, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(30));  // the first leaves at t0 + 60 s
  EXPECT_EQ(d.reset, seconds(30));
  // A big step back.
  d = w.Acquire(t0 - std::chrono::hours(24), 2, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(30));

  // Back to normal: at t0 + 60 s one fits.
  d = w.Acquire(t0 + kMinute, 2, kMinute);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reset, seconds(30));  // the event at t0 + 30 s
  d = w.Acquire(t0 + seconds(95), 2, kMinute);
  EXPECT_TRUE(d.allowed);                       // the t0 + 30 s event left at t0 + 90 s
  d = w.Acquire(t0 + seconds(70), 2, kMinute);  // treated as t0 + 95 s
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(25));  // the t0 + 60 s event leaves at t0 + 120 s
}

TEST(SlidingWindowTest, AdmissionDuringAStepBackIsRecordedAtTheLatestTime) {
  SlidingWindow w;
  const Clock::TimePoint t0 = FakeClock().Now();
  ASSERT_TRUE(w.Acquire(t0 + seconds(10), 2, kMinute).allowed);
  SlidingWindow::Decision d = w.Acquire(t0, 2, kMinute);  // recorded at t0 + 10 s
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.reset, kMinute);
  d = w.Acquire(t0 + seconds(70) - nanoseconds(1), 2, kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, nanoseconds(1));
  d = w.Acquire(t0 + seconds(70), 2, kMinute);  // both left together
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 1);
}

TEST(SlidingWindowTest, NonPositiveWindowCountsNothing) {
  FakeClock clock;
  SlidingWindow w;
  for (int i = 0; i < 10; ++i) {
    SlidingWindow::Decision d = w.Acquire(clock.Now(), 1, nanoseconds(0));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.reset, nanoseconds(0));
  }
  EXPECT_EQ(w.Acquire(clock.Now(), 0, nanoseconds(0)).retry_after, nanoseconds(0));
}

// Random traffic over ~10 minutes. Checks, over all admitted events, that no
// 60 s window holds more than 30, that every refusal happened when exactly 30
// were in the window, and that retry_after / remaining / reset agree with a
// brute-force count.
TEST(SlidingWindowTest, RandomizedNeverExceedsTheLimit) {
  constexpr int64_t kLimit = 30;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    // Bursty gaps: mostly short, sometimes zero, sometimes long. Short gaps
    // are multiples of 50 ms so that events often leave the window exactly at
    // a later event's time (the half-open boundary).
    std::uniform_int_distribution<int> kind(0, 99);
    std::uniform_int_distribution<int64_t> short_gap_steps(0, 20);
    std::uniform_int_distribution<int64_t> long_gap_ms(0, 70000);
    FakeClock clock;
    const Clock::TimePoint start = clock.Now();
    SlidingWindow w;
    std::vector<Clock::TimePoint> admitted;
    int refusals = 0;
    auto in_window = [&](Clock::TimePoint now) {
      return std::count_if(admitted.begin(), admitted.end(),
                           [&](Clock::TimePoint t) { return t <= now && now < t + kMinute; });
    };
    while (clock.Now() - start < std::chrono::minutes(10)) {
      int k = kind(rng);
      if (k >= 30)
        clock.Advance(milliseconds(k == 99 ? long_gap_ms(rng) : 50 * short_gap_steps(rng)));
      const Clock::TimePoint now = clock.Now();
      const int64_t before = in_window(now);
      SlidingWindow::Decision d = w.Acquire(now, kLimit, kMinute);
      if (d.allowed) {
        ASSERT_LT(before, kLimit);
        EXPECT_EQ(d.remaining, kLimit - before - 1);
        EXPECT_EQ(d.retry_after, nanoseconds(0));
        admitted.push_back(now);
      } else {
        ++refusals;
        ASSERT_EQ(before, kLimit) << "seed " << seed;
        EXPECT_EQ(d.remaining, 0);
        // retry_after is exactly when one admission becomes possible.
        ASSERT_GT(d.retry_after, nanoseconds(0));
        EXPECT_EQ(in_window(now + d.retry_after - nanoseconds(1)), kLimit);
        EXPECT_LT(in_window(now + d.retry_after), kLimit);
      }
      // reset: until the oldest counted event leaves the window.
      const int64_t counted = in_window(now);
      if (counted > 0) {
        EXPECT_GT(d.reset, nanoseconds(0));
        EXPECT_EQ(in_window(now + d.reset - nanoseconds(1)), counted);
        EXPECT_LT(in_window(now + d.reset), counted);
      }
    }
    // No interval [t, t + 60 s) holds more than 30 admitted events: for sorted
    // times it suffices that the event 30 places later is >= 60 s later.
    ASSERT_TRUE(std::is_sorted(admitted.begin(), admitted.end()));
    for (size_t i = 0; i + kLimit < admitted.size(); ++i) {
      ASSERT_GE(admitted[i + kLimit] - admitted[i], kMinute) << "seed " << seed << " at " << i;
    }
    EXPECT_GT(refusals, 0) << "seed " << seed;  // the traffic did hit the limit
    EXPECT_GT(admitted.size(), static_cast<size_t>(kLimit)) << "seed " << seed;
  }
}

TEST(SlidingWindowTest, CurrentCountsNothingAndForgetTakesAnAdmissionBack) {
  SlidingWindow w;
  const Clock::TimePoint t0(seconds(1000));
  const seconds window(60);
  auto empty = w.Current(t0, 3, window);
  EXPECT_TRUE(empty.allowed);
  EXPECT_EQ(empty.remaining, 3);
  EXPECT_EQ(empty.reset, nanoseconds(0));
  ASSERT_TRUE(w.Acquire(t0, 3, window).allowed);
  ASSERT_TRUE(w.Acquire(t0 + seconds(10), 3, window).allowed);
  auto now = w.Current(t0 + seconds(20), 3, window);
  EXPECT_EQ(now.remaining, 1);
  EXPECT_EQ(now.reset, seconds(40));
  EXPECT_EQ(w.Current(t0 + seconds(20), 3, window).remaining, 1);  // still nothing counted
  w.Forget(t0 + seconds(10));
  EXPECT_EQ(w.Current(t0 + seconds(20), 3, window).remaining, 2);
  w.Forget(t0 + seconds(5));  // never admitted: no effect
  EXPECT_EQ(w.Current(t0 + seconds(20), 3, window).remaining, 2);
  ASSERT_TRUE(w.Acquire(t0 + seconds(20), 3, window).allowed);
  ASSERT_TRUE(w.Acquire(t0 + seconds(20), 3, window).allowed);
  auto full = w.Current(t0 + seconds(30), 3, window);
  EXPECT_FALSE(full.allowed);
  EXPECT_EQ(full.remaining, 0);
  EXPECT_EQ(full.retry_after, seconds(30));
}

}  // namespace
}  // namespace cinfer
