// LoginThrottle: counts failed logins per username and per client IP over a
// sliding window; once either key has `max_failures` inside the window, further
// attempts are refused until the oldest failure leaves it. Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"

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
  std::optional<int> RetryAfter(const std::string& username, const std::string& ip);
  void RecordFailure(const std::string& username, const std::string& ip);
  // A successful login forgives the username's failures (not the IP's).
  void RecordSuccess(const std::string& username);
  // New limits for the next attempt; the failures already recorded are kept.
  void UpdateOptions(const Options& options);

 private:
  using Failures = std::deque<Clock::TimePoint>;
  std::optional<int> RetryAfterLocked(Failures& failures, Clock::TimePoint now);
  void Prune(Failures& failures, Clock::TimePoint now) const;
  void Add(std::unordered_map<std::string, Failures>& map, const std::string& key,
           Clock::TimePoint now);

  Options options_;
  const Clock* clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Failures> by_user_;
  std::unordered_map<std::string, Failures> by_ip_;
};

}  // namespace cinfer
