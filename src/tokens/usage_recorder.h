// UsageRecorder: group commit of token usage. Record() queues an increment and
// blocks until the transaction that contains it has committed (or failed);
// one background thread writes everything queued meanwhile in a single
// TokenStore::RecordTokenUsage call, so N concurrent requests cost one
// transaction, not N. Increments for the same (token, day, model) are merged
// inside a batch. Thread-safe; the destructor writes what is queued, then
// joins.
//
// Faults: a failed transaction (the write lock held by another process, a
// full disk) rolled back, so it is retried every `retry_interval` while its
// waiters' deadlines allow; a waiter whose deadline passes is answered
// DEADLINE_EXCEEDED between attempts (nothing counted). A store failing for
// `breaker_after` opens the breaker: the batch fails, and Record refuses at
// once for `breaker_open`; then the next transaction is the probe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "storage/database.h"

namespace cinfer {

class UsageRecorder {
 public:
  struct Options {
    size_t max_batch = 1024;  // increments per transaction
    std::chrono::milliseconds retry_interval{50};
    std::chrono::milliseconds breaker_after{2000};
    std::chrono::milliseconds breaker_open{1000};
  };
  using Deadline = std::chrono::steady_clock::time_point;
  UsageRecorder(Options options, TokenStore* store);
  ~UsageRecorder();
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;

  // OK once committed; the store's error otherwise (then nothing was counted).
  // UNAVAILABLE from a failed store or an open breaker, DEADLINE_EXCEEDED
  // when `deadline` passed first; in both cases nothing was counted.
  absl::Status Record(const TokenUsageIncrement& increment, Deadline deadline = Deadline::max());
  // The same without a waiting thread: `done` gets what Record would return,
  // on the writer thread (or at once, on the caller's, when refused without
  // trying). A queued increment whose deadline passes is answered when the
  // writer next looks (between attempts), not withdrawn at that instant.
  using Callback = std::function<void(absl::Status)>;
  void RecordAsync(TokenUsageIncrement increment, Deadline deadline, Callback done);

  // Transactions written so far, and increments waiting for the next one
  // (for tests and metrics).
  int64_t transactions() const;
  size_t queued() const;

 private:
  struct Pending {
    const TokenUsageIncrement* increment;
    Deadline deadline;
    absl::Status result;
    bool done = false;
    // RecordAsync: the Pending is heap-allocated, owns its increment and is
    // deleted once `callback` has run.
    TokenUsageIncrement owned = {};
    Callback callback = {};
  };
  // Under the lock: records `p`'s answer; async ones are run by Run without the lock.
  void Answer(Pending* p, absl::Status status);
  std::vector<Pending*> answered_async_;  // guarded by mu_
  void Run();
  // Writes `batch` until it succeeds, its waiters' deadlines pass or the
  // breaker opens; answers every waiter. Called with `lock` held.
  void WriteBatch(std::unique_lock<std::mutex>& lock, std::vector<Pending*> batch);

  const Options options_;
  TokenStore* store_;
  mutable std::mutex mu_;
  std::condition_variable queued_cv_;
  std::condition_variable done_cv_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  int64_t transactions_ = 0;
  std::optional<Deadline> failing_since_;  // guarded by mu_: first failure of the current run
  Deadline open_until_{};                  // guarded by mu_: the breaker refuses until then
  std::thread thread_;
};

}  // namespace cinfer
