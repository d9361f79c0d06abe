#include "auth/login_throttle.h"

#include <algorithm>

namespace cinfer {

void LoginThrottle::Prune(Failures& failures, Clock::TimePoint now) const {
  while (!failures.empty() && failures.front() + options_.window <= now) failures.pop_front();
}

std::optional<int> LoginThrottle::RetryAfterLocked(Failures& failures, Clock::TimePoint now) {
  Prune(failures, now);
  if (static_cast<int>(failures.size()) < options_.max_failures) return std::nullopt;
  // Allowed again once enough failures have left the window.
  const auto until = failures[failures.size() - options_.max_failures] + options_.window;
  auto secs = std::chrono::ceil<std::chrono::seconds>(until - now).count();
  return static_cast<int>(std::max<int64_t>(1, secs));
}

std::optional<int> LoginThrottle::RetryAfter(const std::string& username, const std::string& ip) {
  MutexLock lock(&mu_);
  const auto now = clock_->Now();
  std::optional<int> result;
  for (auto* map : {&by_user_, &by_ip_}) {
    const std::string& key = map == &by_user_ ? username : ip;
    auto it = map->find(key);
    if (it == map->end()) continue;
    auto wait = RetryAfterLocked(it->second, now);
    if (it->second.empty()) map->erase(it);
    if (wait && (!result || *wait > *result)) result = wait;
  }
  return result;
}

void LoginThrottle::Add(std::unordered_map<std::string, Failures>& map, const std::string& key,
                        Clock::TimePoint now) {
  if (map.size() >= options_.max_tracked_keys && map.find(key) == map.end()) {
    for (auto it = map.begin(); it != map.end();) {
      Prune(it->second, now);
      it = it->second.empty() ? map.erase(it) : std::next(it);
    }
    if (map.size() >= options_.max_tracked_keys) map.erase(map.begin());
  }
  Failures& f = map[key];
  f.push_back(now);
  while (static_cast<int>(f.size()) > options_.max_failures) f.pop_front();
}

void LoginThrottle::RecordFailure(const std::string& username, const std::string& ip) {
  MutexLock lock(&mu_);
  const auto now = clock_->Now();
  Add(by_user_, username, now);
  Add(by_ip_, ip, now);
}

void LoginThrottle::RecordSuccess(const std::string& username) {
  MutexLock lock(&mu_);
  by_user_.erase(username);
}

void LoginThrottle::UpdateOptions(const Options& options) {
  MutexLock lock(&mu_);
  options_ = options;
}

}  // namespace cinfer
