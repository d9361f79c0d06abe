// Rate-limits log lines that repeat: the first line with a given key is
// logged, then at most one per `interval`, which carries the number of lines
// suppressed since the last one (so a full disk logs a few lines per second,
// not one per refused request). Keys are what makes two lines "the same"
// (e.g. status + error code + message, never a request id). Thread-safe; at
// most `max_keys` keys are remembered (the oldest is forgotten first).
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace cinfer {

class RepeatFilter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit RepeatFilter(std::chrono::steady_clock::duration interval = std::chrono::seconds(1),
                        size_t max_keys = 256)
      : interval_(interval), max_keys_(max_keys) {}

  // nullopt: suppress this line. Otherwise log it, with the returned count of
  // lines suppressed since the key was last logged.
  std::optional<uint64_t> Admit(std::string_view key, TimePoint now) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    auto it = entries_.find(std::string(key));
    if (it == entries_.end()) {
      if (entries_.size() >= max_keys_) {
        entries_.erase(order_.front());
        order_.pop_front();
      }
      order_.emplace_back(key);
      entries_.emplace(order_.back(), Entry{now, 0});
      return 0;
    }
    Entry& e = it->second;
    if (now - e.last_logged < interval_) {
      ++e.suppressed;
      return std::nullopt;
    }
    const uint64_t suppressed = e.suppressed;
    e = Entry{now, 0};
    return suppressed;
  }
  std::optional<uint64_t> Admit(std::string_view key) ABSL_LOCKS_EXCLUDED(mu_) {
    return Admit(key, std::chrono::steady_clock::now());
  }

 private:
  struct Entry {
    TimePoint last_logged;
    uint64_t suppressed = 0;
  };
  const std::chrono::steady_clock::duration interval_;
  const size_t max_keys_;
  Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> order_ ABSL_GUARDED_BY(mu_);  // insertion order
};

}  // namespace cinfer
