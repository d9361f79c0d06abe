// TimedMutex: std::timed_mutex with clang thread-safety annotations, for the
// one lock that must be given up at a deadline (Mutex has no timed
// acquire). Everything else uses Mutex.
#pragma once

#include <chrono>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace cinfer {

class ABSL_LOCKABLE TimedMutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  // True when acquired before `deadline`.
  bool TryLockUntil(std::chrono::steady_clock::time_point deadline)
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock_until(deadline);
  }

 private:
  std::timed_mutex mu_;
};

class ABSL_SCOPED_LOCKABLE TimedMutexLock {
 public:
  explicit TimedMutexLock(TimedMutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~TimedMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  TimedMutexLock(const TimedMutexLock&) = delete;
  TimedMutexLock& operator=(const TimedMutexLock&) = delete;

 private:
  TimedMutex* const mu_;
};

}  // namespace cinfer
