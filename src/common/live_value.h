// A value that a configuration change can replace while readers use it.
// Readers take one immutable snapshot per operation (Get) and keep using it,
// so an operation never mixes old and new settings; Set publishes a new one.
#pragma once

#include <memory>
#include <mutex>

namespace cinfer {

template <typename T>
class LiveValue {
 public:
  explicit LiveValue(T initial) : current_(std::make_shared<const T>(std::move(initial))) {}

  std::shared_ptr<const T> Get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void Set(T next) {
    auto fresh = std::make_shared<const T>(std::move(next));
    std::lock_guard lock(mu_);
    current_ = std::move(fresh);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_;
};

}  // namespace cinfer
