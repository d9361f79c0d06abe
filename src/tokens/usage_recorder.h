// UsageRecorder: group commit of token usage. Record() queues an increment and
// blocks until the transaction that contains it has committed (or failed);
// one background thread writes everything queued meanwhile in a single
// TokenStore::RecordTokenUsage call, so N concurrent requests cost one
// transaction, not N. Increments for the same (token, day, model) are merged
// inside a batch. Thread-safe; the destructor writes what is queued, then
// joins (a failed write waiting to be retried gets one last attempt at once).
//
// Faults: a failed transaction (the write lock held by another process, a
// full disk) rolled back, so it is retried every `retry_interval` while its
// waiters' deadlines allow; a waiter whose deadline passes is answered
// DEADLINE_EXCEEDED between attempts (nothing counted). A store failing for
// `breaker_after` opens the breaker: the batch fails, and Record refuses at
// once for `breaker_open`; then the next transaction is the probe.
//
// All of this time (deadlines, the breaker, the retry pause) is Options::clock's.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/monotonic_clock.h"
#include "common/mutex.h"
#include "metrics/metrics.h"
#include "storage/database.h"

namespace cinfer {

class UsageRecorder {
 public:
  struct Options {
    size_t max_batch = 1024;  // increments per transaction
    std::chrono::milliseconds retry_interval{50};
    std::chrono::milliseconds breaker_after{2000};
    std::chrono::milliseconds breaker_open{1000};
    // What deadlines, breaker timing and waits are measured in; null: a
    // SteadyClock of the recorder's own. Deadlines are passed through to
    // TokenStore::RecordTokenUsage as they are, and the SQLite store compares
    // them with std::chrono::steady_clock: with a fake clock, the store gets
    // the fake clock's time points (fine for a fake store, meaningless to a real one).
    const MonotonicClock* clock = nullptr;
    Metrics* metrics = nullptr;  // each transaction's result and time; null: not measured
    // Group commit under load: while more increments are announced with
    // Expect() than are queued, the writer waits up to this long (never past
    // a queued increment's deadline) for them to join the transaction,
    // instead of writing one transaction per request. Zero: write at once.
    // An idle server (nothing announced) never waits.
    std::chrono::microseconds linger{0};
    // An idle recorder (nothing queued or announced, the writer thread not
    // writing, the store not failing) writes an increment on the caller's
    // thread, in one attempt bounded by `inline_budget`: no hand-off to the
    // writer thread and back at low load. A failed attempt wrote nothing and
    // goes to the writer thread like any other increment.
    bool write_inline_when_idle = false;
    std::chrono::milliseconds inline_budget{2};
  };
  using Deadline = MonotonicClock::TimePoint;  // std::chrono::steady_clock's
  UsageRecorder(Options options, TokenStore* store);
  ~UsageRecorder();
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;

  // OK once committed; the store's error otherwise (then nothing was counted).
  // UNAVAILABLE from a failed store or an open breaker, DEADLINE_EXCEEDED
  // when `deadline` passed first; in both cases nothing was counted.
  absl::Status Record(const TokenUsageIncrement& increment, Deadline deadline = Deadline::max())
      ABSL_LOCKS_EXCLUDED(mu_);
  // The same without a waiting thread: `done` gets what Record would return,
  // on the writer thread (or at once, on the caller's, when refused without
  // trying). A queued increment whose deadline passes is answered when the
  // writer next looks (between attempts), not withdrawn at that instant.
  using Callback = std::function<void(absl::Status)>;
  // `expected`: this increment was announced with Expect(1), which it now ends.
  void RecordAsync(TokenUsageIncrement increment, Deadline deadline, Callback done,
                   bool expected = false) ABSL_LOCKS_EXCLUDED(mu_);
  // Announces (+1) that a request will record usage soon, or withdraws (-1)
  // an announcement whose request ends without recording. Only a hint for
  // the linger (Options::linger): a wrong count costs at most one linger.
  void Expect(int delta) ABSL_LOCKS_EXCLUDED(mu_);

  // Transactions written so far, and increments waiting for the next one
  // (for tests and metrics).
  int64_t transactions() const ABSL_LOCKS_EXCLUDED(mu_);
  // Of those, written on the caller's thread (Options::write_inline_when_idle).
  int64_t inline_transactions() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // `result` and `done` are guarded by the recorder's mu_ (not annotated: the
  // analysis cannot name the mutex of the enclosing object).
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
  void Answer(Pending* p, absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Answers DEADLINE_EXCEEDED to the waiters in `batch` whose deadline is not
  // after `now`, and takes them out of it.
  void AnswerExpired(std::vector<Pending*>& batch, Deadline now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The rows of one transaction: increments for the same counter merged.
  static std::vector<TokenUsageIncrement> Merge(const std::vector<Pending*>& batch);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes `p` on the calling thread when the recorder is idle
  // (Options::write_inline_when_idle); true when it was written. Releases mu_
  // while it writes.
  bool InlineWrite(Pending& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One transaction of `rows` (without the lock), timed into the metrics;
  // *after: when it returned.
  absl::Status Write(const std::vector<TokenUsageIncrement>& rows, Deadline deadline,
                     Deadline* after) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits (Options::linger) while announced increments are still to come.
  void Linger() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under load the writer is woken when the last announced increment arrives,
  // not by every one.
  bool ShouldWake(bool was_empty) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the lingering writer should wait for more increments.
  bool WorthWaiting() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `batch` until it succeeds, its waiters' deadlines pass or the
  // breaker opens; answers every waiter. Releases mu_ while it writes and
  // while it waits to retry.
  void WriteBatch(std::vector<Pending*> batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  TokenStore* store_;
  const SteadyClock steady_clock_;
  const MonotonicClock* const clock_;  // options_.clock, else &steady_clock_
  mutable Mutex mu_;
  CondVar queued_cv_;
  CondVar done_cv_;
  CondVar stopping_cv_;  // the destructor ends a retry pause with it
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<Pending*> answered_async_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t transactions_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t expected_ ABSL_GUARDED_BY(mu_) = 0;  // announced, not yet recorded
  bool lingering_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;  // a transaction is being written
  int64_t inline_transactions_ ABSL_GUARDED_BY(mu_) = 0;
  // The first failure of the current run.
  std::optional<Deadline> failing_since_ ABSL_GUARDED_BY(mu_);
  Deadline open_until_ ABSL_GUARDED_BY(mu_){};  // the breaker refuses until then
  std::thread thread_;
};

}  // namespace cinfer
