#include "logs/refusal_log_limiter.h"

#include <chrono>
#include <utility>

namespace cinfer {

std::optional<int64_t> RefusalLogLimiter::Allow(std::string_view model_id, int per_second) {
  if (per_second < 0) return 0;
  const int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(clock_->Now().time_since_epoch()).count();
  MutexLock lock(&mu_);
  auto it = windows_.find(model_id);
  if (it == windows_.end()) it = windows_.try_emplace(std::string(model_id)).first;
  Window& w = it->second;
  if (w.second != second) {
    w.second = second;
    w.logged = 0;
  }
  if (w.logged >= per_second) {
    ++w.skipped;
    return std::nullopt;
  }
  ++w.logged;
  return std::exchange(w.skipped, 0);
}

}  // namespace cinfer
