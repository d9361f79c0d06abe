// Readiness: whether the service may receive traffic. Startup tasks register
// before the server starts and report when done (loaded or failed). Thread-safe.
#pragma once

#include <atomic>

namespace cinfer {

class Readiness {
 public:
  void AddPending() { ++pending_; }
  void Done() { --pending_; }
  void MarkStarted() { started_ = true; }
  bool IsReady() const { return started_ && pending_ == 0; }

 private:
  std::atomic<int> pending_{0};
  std::atomic<bool> started_{false};
};

}  // namespace cinfer
