// SlidingWindow: an exact sliding-window-log rate limiter for one key. At
// most `limit` events are admitted in any interval of length `window`
// (half-open: an event admitted at t stops counting at t + window). It keeps
// the admission times of the admitted events still in the window: at most
// `limit` of them while the limit is unchanged. When the limit is lowered,
// events admitted under the higher limit keep counting until they leave the
// window (they are not dropped, so raising the limit again cannot over-admit).
// Refused events are not recorded. Not thread-safe: the owner locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include "common/clock.h"

namespace cinfer {

class SlidingWindow {
 public:
  struct Decision {
    bool allowed = false;
    int64_t limit = 0;
    int64_t remaining = 0;  // admissions left in the window now (after this one)
    // Until the oldest counted event leaves the window (remaining grows); zero
    // when nothing is counted.
    std::chrono::nanoseconds reset{0};
    // When refused: until an admission would succeed; zero when allowed.
    std::chrono::nanoseconds retry_after{0};
  };

  // Admits the event at `now` if fewer than `limit` events were admitted in
  // (now - window, now]. `limit` may differ between calls (a changed limit
  // applies at once). limit <= 0 refuses everything with retry_after = window.
  // `now` earlier than a recorded time (clock step back) is treated as that
  // time.
  Decision Acquire(Clock::TimePoint now, int64_t limit, std::chrono::nanoseconds window);
  // The same decision without recording anything.
  Decision Peek(Clock::TimePoint now, int64_t limit, std::chrono::nanoseconds window);
  // The window as it stands, for a request that is not counted (e.g. refused
  // for another reason): remaining = limit - counted, reset as above, and
  // allowed / retry_after as Peek's.
  Decision Current(Clock::TimePoint now, int64_t limit, std::chrono::nanoseconds window);
  // Takes back one admission recorded at `at` (a request refused after it was
  // counted, e.g. for its quota). No effect when there is none.
  void Forget(Clock::TimePoint at);

 private:
  void Expire(Clock::TimePoint now, std::chrono::nanoseconds window);
  std::deque<Clock::TimePoint> times_;  // admitted events, oldest first
};

}  // namespace cinfer
