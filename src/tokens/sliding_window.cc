#include "tokens/sliding_window.h"

#include <algorithm>

namespace cinfer {
namespace {

std::chrono::nanoseconds NonNegative(std::chrono::nanoseconds d) {
  return std::max(d, std::chrono::nanoseconds(0));
}

}  // namespace

void SlidingWindow::Expire(Clock::TimePoint now, std::chrono::nanoseconds window) {
  // An event at t counts in (t - window, t + window): gone once t + window <= now.
  while (!times_.empty() && times_.front() + window <= now) times_.pop_front();
}

SlidingWindow::Decision SlidingWindow::Peek(Clock::TimePoint now, int64_t limit,
                                            std::chrono::nanoseconds window) {
  // A clock step back: judge (and record) at the latest recorded time, so the
  // log stays ordered and nothing counted leaves the window early.
  if (!times_.empty()) now = std::max(now, times_.back());
  Expire(now, window);

  Decision d;
  d.limit = std::max<int64_t>(limit, 0);
  const int64_t count = static_cast<int64_t>(times_.size());
  if (limit <= 0) {
    d.allowed = false;
    d.remaining = 0;
    d.retry_after = NonNegative(window);
    d.reset =
        times_.empty() ? std::chrono::nanoseconds(0) : NonNegative(times_.front() + window - now);
    return d;
  }
  if (count < limit) {
    d.allowed = true;
    d.remaining = limit - count - 1;
    // After this admission the oldest counted event is the front, or this one.
    Clock::TimePoint oldest = times_.empty() ? now : times_.front();
    d.reset = NonNegative(oldest + window - now);
    return d;
  }
  // Refused: `count` events are in the window, all later than now - window.
  // One admission becomes possible once count - limit + 1 of them have left,
  // i.e. when the (count - limit + 1)-th oldest leaves. (count > limit only
  // after the limit was lowered: events admitted under the old limit still
  // count.)
  d.allowed = false;
  d.remaining = 0;
  d.reset = NonNegative(times_.front() + window - now);
  d.retry_after = NonNegative(times_[static_cast<size_t>(count - limit)] + window - now);
  return d;
}

SlidingWindow::Decision SlidingWindow::Acquire(Clock::TimePoint now, int64_t limit,
                                               std::chrono::nanoseconds window) {
  if (!times_.empty()) now = std::max(now, times_.back());
  Decision d = Peek(now, limit, window);
  // With window <= 0 nothing ever counts, so there is nothing to record.
  if (d.allowed && window > std::chrono::nanoseconds(0)) times_.push_back(now);
  return d;
}

SlidingWindow::Decision SlidingWindow::Current(Clock::TimePoint now, int64_t limit,
                                               std::chrono::nanoseconds window) {
  if (!times_.empty()) now = std::max(now, times_.back());
  Decision d = Peek(now, limit, window);
  if (d.allowed) {
    d.remaining += 1;  // Peek counted this request as admitted
    d.reset =
        times_.empty() ? std::chrono::nanoseconds(0) : NonNegative(times_.front() + window - now);
  }
  return d;
}

void SlidingWindow::Forget(Clock::TimePoint at) {
  for (auto it = times_.rbegin(); it != times_.rend(); ++it) {
    if (*it == at) {
      times_.erase(std::next(it).base());
      return;
    }
    if (*it < at) return;
  }
}

}  // namespace cinfer
