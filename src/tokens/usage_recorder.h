// UsageRecorder: group commit of token usage. Record() queues an increment and
// blocks until the transaction that contains it has committed (or failed);
// one background thread writes everything queued meanwhile in a single
// TokenStore::RecordTokenUsage call, so N concurrent requests cost one
// transaction, not N. Increments for the same (token, day, model) are merged
// inside a batch. Thread-safe; the destructor writes what is queued, then
// joins.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "storage/database.h"

namespace cinfer {

class UsageRecorder {
 public:
  struct Options {
    size_t max_batch = 1024;  // increments per transaction
  };
  UsageRecorder(Options options, TokenStore* store);
  ~UsageRecorder();
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;

  // OK once committed; the store's error otherwise (then nothing was counted).
  absl::Status Record(const TokenUsageIncrement& increment);

  // Transactions written so far, and increments waiting for the next one
  // (for tests and metrics).
  int64_t transactions() const;
  size_t queued() const;

 private:
  struct Pending {
    const TokenUsageIncrement* increment;
    absl::Status result;
    bool done = false;
  };
  void Run();

  const Options options_;
  TokenStore* store_;
  mutable std::mutex mu_;
  std::condition_variable queued_cv_;
  std::condition_variable done_cv_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  int64_t transactions_ = 0;
  std::thread thread_;
};

}  // namespace cinfer
