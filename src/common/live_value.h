// A value that a configuration change can replace while readers use it.
// Readers take one immutable snapshot per operation (Get) and keep using it,
// so an operation never mixes old and new settings; Set publishes a new one.
#pragma once

#include <memory>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace cinfer {

template <typename T>
class LiveValue {
 public:
  explicit LiveValue(T initial) : current_(std::make_shared<const T>(std::move(initial))) {}

  std::shared_ptr<const T> Get() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return current_;
  }
  void Set(T next) ABSL_LOCKS_EXCLUDED(mu_) {
    auto fresh = std::make_shared<const T>(std::move(next));
    MutexLock lock(&mu_);
    current_ = std::move(fresh);
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const T> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cinfer
