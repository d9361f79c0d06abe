// MonotonicClock: the steady time that deadlines, queue waits and batching
// delays are measured in, injected so tests move it by hand (FakeClock in
// clock.h is its wall-clock sibling). Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "common/mutex.h"

namespace cinfer {

class MonotonicClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~MonotonicClock() = default;
  virtual TimePoint Now() const = 0;
  // Waits on `cv` with `mu` held until signalled or Now() reaches `until`
  // (spurious wake-ups allowed: callers re-check their condition). True when
  // `until` has been reached.
  virtual bool WaitUntil(CondVar& cv, Mutex& mu, TimePoint until) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

class SteadyClock final : public MonotonicClock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  bool WaitUntil(CondVar& cv, Mutex& mu, TimePoint until) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (until == TimePoint::max()) {
      cv.Wait(&mu);
      return false;
    }
    const auto left = until - Now();
    if (left <= TimePoint::duration::zero()) return true;
    cv.WaitWithTimeout(&mu, left);
    return Now() >= until;
  }
};

// Moves only when told to. A waiter polls it every millisecond of real time,
// so Advance() needs no registry of waiters.
class FakeMonotonicClock final : public MonotonicClock {
 public:
  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Advance(std::chrono::nanoseconds d) {
    now_ += std::chrono::duration_cast<TimePoint::duration>(d).count();
  }
  bool WaitUntil(CondVar& cv, Mutex& mu, TimePoint until) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (Now() >= until) return true;
    cv.WaitWithTimeout(&mu, std::chrono::milliseconds(1));
    return Now() >= until;
  }

 private:
  std::atomic<TimePoint::duration::rep> now_{1'000'000'000};  // 1 s after the epoch
};

}  // namespace cinfer
