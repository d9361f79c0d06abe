// LoginThrottle: counts failed logins per username and per client IP over a
// sliding window; once either key has `max_failures` inside the window, further
// attempts are refused until the oldest failure leaves it. Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace cinfer {

class LoginThrottle {
 public:
  struct Options {
    int max_failures = 5;
    std::chrono::seconds window = std::chrono::minutes(5);
    size_t max_tracked_keys = 100'000;  // bounds memory under a spray attack
  };
  LoginThrottle(const Options& options, const Clock* clock) : options_(options), clock_(clock) {}

  // Seconds until an attempt for (username, ip) is allowed; nullopt when allowed now.
  std::optional<int> RetryAfter(const std::string& username, const std::string& ip)
      ABSL_LOCKS_EXCLUDED(mu_);
  void RecordFailure(const std::string& username, const std::string& ip) ABSL_LOCKS_EXCLUDED(mu_);
  // A successful login forgives the username's failures (not the IP's).
  void RecordSuccess(const std::string& username) ABSL_LOCKS_EXCLUDED(mu_);
  // New limits for the next attempt; the failures already recorded are kept.
  void UpdateOptions(const Options& options) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Failures = std::deque<Clock::TimePoint>;
  // `failures` and `map` are by_user_ or by_ip_ (hence the lock).
  std::optional<int> RetryAfterLocked(Failures& failures, Clock::TimePoint now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Prune(Failures& failures, Clock::TimePoint now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Add(std::unordered_map<std::string, Failures>& map, const std::string& key,
           Clock::TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Options options_ ABSL_GUARDED_BY(mu_);
  const Clock* clock_;
  Mutex mu_;
  std::unordered_map<std::string, Failures> by_user_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Failures> by_ip_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cinfer
