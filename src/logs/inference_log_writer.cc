#include "logs/inference_log_writer.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "common/time_format.h"
#include "spdlog/spdlog.h"

namespace cinfer {
namespace {

using Steady = std::chrono::steady_clock;

InferenceLogWriter::Options Normalized(InferenceLogWriter::Options o) {
  o.queue_capacity = std::max<size_t>(o.queue_capacity, 1);
  o.max_batch = std::max<size_t>(o.max_batch, 1);
  o.flush_interval = std::max(o.flush_interval, std::chrono::milliseconds(0));
  o.purge_interval = std::max(o.purge_interval, std::chrono::seconds(1));
  return o;
}

}  // namespace

InferenceLogWriter::InferenceLogWriter(Options options, InferenceLogStore* store,
                                       const Clock* clock)
    : options_(Normalized(options)),
      store_(store),
      clock_(clock),
      retention_days_(options_.retention_days),
      max_rows_(options_.max_rows),
      thread_([this] { Run(); }) {}

void InferenceLogWriter::UpdateRetention(int retention_days, int64_t max_rows) {
  MutexLock lock(&mu_);
  retention_days_ = retention_days;
  max_rows_ = max_rows;
  purge_requested_ = true;
  wake_.Signal();
}

InferenceLogWriter::~InferenceLogWriter() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.Signal();
  thread_.join();
}

void InferenceLogWriter::Record(InferenceLogRecord record) {
  if (record.id.empty()) record.id = ids_.NextUuid();
  if (record.created_at.empty()) record.created_at = FormatIso8601(clock_->Now());
  bool wake = false;
  {
    MutexLock lock(&mu_);
    if (stopping_ || queue_.size() >= options_.queue_capacity) {
      ++dropped_;
      return;
    }
    if (queue_.empty()) oldest_ = Steady::now();
    queue_.push_back(std::move(record));
    // The thread sleeps without a flush deadline while the queue is empty.
    wake = queue_.size() == 1 || queue_.size() == options_.max_batch;
  }
  if (wake) wake_.Signal();
}

size_t InferenceLogWriter::queued() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

void InferenceLogWriter::Flush() {
  MutexLock lock(&mu_);
  const uint64_t ticket = ++flush_requested_;
  wake_.Signal();
  while (flush_done_ < ticket) flushed_.Wait(&mu_);
}

bool InferenceLogWriter::WakeDue(bool was_empty) const {
  return stopping_ || purge_requested_ || queue_.size() >= options_.max_batch ||
         flush_requested_ > flush_done_ || (was_empty && !queue_.empty());
}

void InferenceLogWriter::Run() {
  SetCurrentThreadName("log-writer");
  Purge();
  Steady::time_point next_purge = Steady::now() + options_.purge_interval;
  mu_.Lock();
  while (true) {
    const bool was_empty = queue_.empty();
    const Steady::time_point deadline =
        was_empty ? next_purge : std::min(next_purge, oldest_ + options_.flush_interval);
    while (!WakeDue(was_empty)) {
      const Steady::time_point now = Steady::now();
      if (now >= deadline) break;
      wake_.WaitWithTimeout(&mu_, deadline - now);
    }
    const bool due = !queue_.empty() && Steady::now() >= oldest_ + options_.flush_interval;
    if (stopping_ || due || queue_.size() >= options_.max_batch || flush_requested_ > flush_done_) {
      const uint64_t ticket = flush_requested_;
      const bool stop = stopping_;
      WriteQueued(queue_.size());
      flush_done_ = std::max(flush_done_, ticket);
      flushed_.SignalAll();
      if (stop) {
        mu_.Unlock();
        return;  // Record() drops once stopping_ is set: the queue is empty
      }
    }
    if (purge_requested_ || Steady::now() >= next_purge) {
      purge_requested_ = false;
      mu_.Unlock();
      Purge();
      mu_.Lock();
      next_purge = Steady::now() + options_.purge_interval;
    }
  }
}

void InferenceLogWriter::WriteQueued(size_t n) {
  const Steady::time_point started = Steady::now();
  while (n > 0) {
    const size_t take = std::min(n, options_.max_batch);
    std::vector<InferenceLogRecord> batch;
    batch.reserve(take);
    for (size_t i = 0; i < take; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    n -= take;
    mu_.Unlock();
    // A failed append rolled back; retry it for a while (another process may
    // hold the write lock for a moment) before the rows are dropped.
    const Steady::time_point give_up = Steady::now() + options_.retry_for;
    absl::Status st = store_->AppendInferenceLogs(batch);
    while (!st.ok() && Steady::now() < give_up && !Stopping()) {
      std::this_thread::sleep_for(options_.retry_interval);
      st = store_->AppendInferenceLogs(batch);
    }
    if (st.ok()) {
      written_ += take;
    } else {
      dropped_ += take;
      spdlog::warn("inference log write failed; {} records dropped: {}", take, st.ToString());
    }
    mu_.Lock();
  }
  // Whatever arrived meanwhile has waited at most since the write began.
  if (!queue_.empty()) oldest_ = started;
}

bool InferenceLogWriter::Stopping() {
  MutexLock lock(&mu_);
  return stopping_;
}

void InferenceLogWriter::Purge() {
  int retention_days = 0;
  int64_t max_rows = 0;
  {
    MutexLock lock(&mu_);
    retention_days = retention_days_;
    max_rows = max_rows_;
  }
  std::string cutoff;
  if (retention_days > 0) {
    cutoff = FormatIso8601(clock_->Now() - std::chrono::hours(24) * retention_days);
  }
  if (cutoff.empty() && max_rows <= 0) return;
  absl::StatusOr<int64_t> deleted = store_->PurgeInferenceLogs(cutoff, max_rows);
  if (!deleted.ok()) {
    spdlog::warn("inference log purge failed: {}", deleted.status().ToString());
  } else if (*deleted > 0) {
    spdlog::info("purged {} inference log rows (created before {} or beyond the newest {})",
                 *deleted, cutoff.empty() ? "-" : cutoff, max_rows);
  }
}

}  // namespace cinfer
