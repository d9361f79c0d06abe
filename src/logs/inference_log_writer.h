// InferenceLogWriter: takes inference log records off the request path and
// writes them to an InferenceLogStore in batches from one background thread,
// and keeps the log bounded (retention by age and by row count).
//
// Record() never waits for the database: it appends to a bounded in-memory
// queue under a short lock and, when the queue is full, drops the record and
// counts it. The thread waits on a condition variable and wakes when
// `max_batch` records are queued, when `flush_interval` has passed since the
// last write, on Flush() and on destruction. Failed writes are logged and their
// records counted as dropped (no retries). Purges run once at start and then
// every `purge_interval`, with the cutoff taken from the injected Clock.
//
// Thread-safe. Does not own the store or the clock; both must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/random.h"
#include "storage/database.h"

namespace cinfer {

class InferenceLogWriter {
 public:
  struct Options {
    size_t queue_capacity = 100000;  // records waiting to be written; at least 1
    size_t max_batch = 500;          // records per AppendInferenceLogs call; at least 1
    std::chrono::milliseconds flush_interval{200};  // longest a record waits in the queue
    int retention_days = 30;                        // <= 0: no purge by age
    int64_t max_rows = 1000000;                     // <= 0: no cap on the row count
    std::chrono::seconds purge_interval{600};
    // A failed batch is retried this long (every retry_interval) before its
    // rows are dropped and counted.
    std::chrono::milliseconds retry_for{3000};
    std::chrono::milliseconds retry_interval{100};
  };

  InferenceLogWriter(Options options, InferenceLogStore* store, const Clock* clock);
  // Writes everything still queued, then joins the thread.
  ~InferenceLogWriter();
  InferenceLogWriter(const InferenceLogWriter&) = delete;
  InferenceLogWriter& operator=(const InferenceLogWriter&) = delete;

  // Queues `record`. An empty id gets a random one and an empty created_at
  // the clock's time. Never blocks on the database.
  void Record(InferenceLogRecord record) ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until every record queued before the call has been handed to the
  // store (written or counted as dropped) and the initial purge has run.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_);
  // New retention; a purge with it runs soon (not only at the next interval).
  void UpdateRetention(int retention_days, int64_t max_rows) ABSL_LOCKS_EXCLUDED(mu_);

  // Records lost to a full queue, a failed write or shutdown.
  uint64_t dropped() const { return dropped_.load(); }
  // Records handed to the store in successful writes (the store may still skip
  // some, e.g. those of deleted models).
  uint64_t written() const { return written_.load(); }
  // Records waiting to be written.
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  IdSequence ids_;  // of records queued without an id
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the writer thread has a reason to wake before its deadline.
  bool WakeDue(bool was_empty) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the `n` oldest queued records in batches. Called with mu_ held;
  // releases it while writing.
  void WriteQueued(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Purge() ABSL_LOCKS_EXCLUDED(mu_);
  bool Stopping() ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  InferenceLogStore* const store_;
  const Clock* const clock_;

  mutable Mutex mu_;
  CondVar wake_;     // the writer thread waits here
  CondVar flushed_;  // Flush() callers wait here
  std::deque<InferenceLogRecord> queue_ ABSL_GUARDED_BY(mu_);
  // About when queue_.front() arrived.
  std::chrono::steady_clock::time_point oldest_ ABSL_GUARDED_BY(mu_);
  uint64_t flush_requested_ ABSL_GUARDED_BY(mu_) = 0;  // Flush() tickets handed out
  uint64_t flush_done_ ABSL_GUARDED_BY(mu_) = 0;       // tickets whose records are written
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool purge_requested_ ABSL_GUARDED_BY(mu_) = false;
  int retention_days_ ABSL_GUARDED_BY(mu_);  // options_ holds the initial values
  int64_t max_rows_ ABSL_GUARDED_BY(mu_);

  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace cinfer
