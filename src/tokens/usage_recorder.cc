#include "tokens/usage_recorder.h"

#include <algorithm>
#include <map>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "common/thread_name.h"
#include "spdlog/spdlog.h"

namespace cinfer {

std::vector<TokenUsageIncrement> UsageRecorder::Merge(const std::vector<Pending*>& batch) {
  // Merge increments for the same counter; keep the latest `at`.
  std::map<std::tuple<std::string, std::string, std::string>, TokenUsageIncrement> merged;
  for (const Pending* p : batch) {
    const TokenUsageIncrement& inc = *p->increment;
    auto [it, inserted] = merged.try_emplace({inc.token_id, inc.day, inc.model_id}, inc);
    if (!inserted) {
      it->second.count += inc.count;
      if (inc.at > it->second.at) it->second.at = inc.at;
    }
  }
  std::vector<TokenUsageIncrement> rows;
  rows.reserve(merged.size());
  for (auto& [key, inc] : merged) rows.push_back(std::move(inc));
  return rows;
}

UsageRecorder::UsageRecorder(Options options, TokenStore* store)
    : options_(options),
      store_(store),
      clock_(options.clock != nullptr ? options.clock : &steady_clock_),
      thread_([this] { Run(); }) {}

UsageRecorder::~UsageRecorder() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  queued_cv_.SignalAll();
  stopping_cv_.SignalAll();
  thread_.join();
}

absl::Status UsageRecorder::Record(const TokenUsageIncrement& increment, Deadline deadline) {
  Pending p{&increment, deadline, absl::OkStatus(), false};
  MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("usage recorder is shutting down");
  if (clock_->Now() < open_until_) {
    return absl::UnavailableError("the usage store keeps failing; not tried (breaker open)");
  }
  queue_.push_back(&p);
  queued_cv_.Signal();
  bool expired = false;  // Deadline::max() never expires
  while (!p.done && !expired) expired = clock_->WaitUntil(done_cv_, mu_, deadline);
  if (!p.done) {
    if (auto it = std::find(queue_.begin(), queue_.end(), &p); it != queue_.end()) {
      queue_.erase(it);  // never written: nothing is counted
      return absl::DeadlineExceededError("the usage store did not answer before the deadline");
    }
    while (!p.done) done_cv_.Wait(&mu_);  // in the writer's batch: answered between attempts
  }
  return p.result;
}

void UsageRecorder::Expect(int delta) {
  MutexLock lock(&mu_);
  expected_ = std::max<int64_t>(0, expected_ + delta);
  if (lingering_ && !WorthWaiting()) queued_cv_.Signal();
}

bool UsageRecorder::WorthWaiting() const {
  // Until as many have arrived as are still announced (half of those in
  // flight): a full wait for all of them would leave the model workers idle.
  return expected_ > static_cast<int64_t>(queue_.size()) && queue_.size() < options_.max_batch;
}

bool UsageRecorder::ShouldWake(bool was_empty) const {
  if (!lingering_) return was_empty;  // a busy writer takes it with the next batch
  return !WorthWaiting();
}

void UsageRecorder::Linger() {
  if (options_.linger.count() <= 0 || queue_.empty() || !WorthWaiting()) return;
  Deadline until = clock_->Now() + options_.linger;
  for (const Pending* p : queue_) until = std::min(until, p->deadline);
  lingering_ = true;
  while (!stopping_ && WorthWaiting() && clock_->Now() < until) {
    clock_->WaitUntil(queued_cv_, mu_, until);
  }
  lingering_ = false;
}

void UsageRecorder::RecordAsync(TokenUsageIncrement increment, Deadline deadline, Callback done,
                                bool expected) {
  auto p = std::make_unique<Pending>();
  p->owned = std::move(increment);
  p->increment = &p->owned;
  p->deadline = deadline;
  p->callback = std::move(done);
  absl::Status answer;  // refused, or written on this thread
  {
    MutexLock lock(&mu_);
    if (expected) expected_ = std::max<int64_t>(0, expected_ - 1);
    if (stopping_) {
      answer = absl::UnavailableError("usage recorder is shutting down");
    } else if (clock_->Now() < open_until_) {
      answer = absl::UnavailableError("the usage store keeps failing; not tried (breaker open)");
    } else if (!InlineWrite(*p)) {
      const bool was_empty = queue_.empty();
      queue_.push_back(p.release());
      if (ShouldWake(was_empty)) queued_cv_.Signal();
      return;
    }
  }
  p->callback(std::move(answer));
}

bool UsageRecorder::InlineWrite(Pending& p) {
  if (!options_.write_inline_when_idle || expected_ > 0 || !queue_.empty() || writing_ ||
      failing_since_.has_value()) {
    return false;  // others are coming, or the writer thread is at work: group commit
  }
  writing_ = true;
  // One attempt that waits for nobody for long: a busy store sends the
  // increment to the writer thread, which retries it within its deadline.
  const Deadline bound = std::min(p.deadline, clock_->Now() + options_.inline_budget);
  mu_.Unlock();
  Deadline after;
  const absl::Status st = Write({*p.increment}, bound, &after);
  mu_.Lock();
  writing_ = false;
  ++transactions_;
  ++inline_transactions_;
  return st.ok();
}

absl::Status UsageRecorder::Write(const std::vector<TokenUsageIncrement>& rows, Deadline deadline,
                                  Deadline* after) {
  const Deadline before = clock_->Now();
  absl::Status st = store_->RecordTokenUsage(rows, deadline);
  *after = clock_->Now();
  if (options_.metrics != nullptr) {
    options_.metrics->UsageCommit(st.ok(), std::chrono::duration<double>(*after - before).count());
  }
  return st;
}

void UsageRecorder::Answer(Pending* p, absl::Status status) {
  p->result = std::move(status);
  p->done = true;
  if (p->callback) answered_async_.push_back(p);
}

void UsageRecorder::AnswerExpired(std::vector<Pending*>& batch, Deadline now) {
  std::vector<Pending*> left;
  for (Pending* p : batch) {
    if (p->deadline > now) {
      left.push_back(p);
    } else {
      Answer(p, absl::DeadlineExceededError("the usage store did not answer before the deadline"));
    }
  }
  batch.swap(left);
}

int64_t UsageRecorder::transactions() const {
  MutexLock lock(&mu_);
  return transactions_;
}

int64_t UsageRecorder::inline_transactions() const {
  MutexLock lock(&mu_);
  return inline_transactions_;
}

size_t UsageRecorder::queued() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

void UsageRecorder::Run() {
  SetCurrentThreadName("usage-writer");
  MutexLock lock(&mu_);
  for (;;) {
    while (!stopping_ && queue_.empty()) queued_cv_.Wait(&mu_);
    if (queue_.empty()) return;  // stopping, nothing left
    Linger();
    std::vector<Pending*> batch;
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    WriteBatch(std::move(batch));
    if (!answered_async_.empty()) {  // their continuations run without the lock
      std::vector<Pending*> ready;
      ready.swap(answered_async_);
      mu_.Unlock();
      for (Pending* p : ready) {
        std::unique_ptr<Pending> owned(p);
        try {
          owned->callback(owned->result);
        } catch (const std::exception& e) {  // never ends the writer thread
          spdlog::error("usage continuation threw: {}", e.what());
        } catch (...) {
          spdlog::error("usage continuation threw a non-standard exception");
        }
      }
      mu_.Lock();
    }
  }
}

void UsageRecorder::WriteBatch(std::vector<Pending*> batch) {
  for (;;) {
    AnswerExpired(batch, clock_->Now());
    done_cv_.SignalAll();
    if (batch.empty()) return;
    writing_ = true;  // an inline write would wait for this one
    mu_.Unlock();
    std::vector<TokenUsageIncrement> rows = Merge(batch);
    // One attempt never outlives the batch's earliest deadline, so a request
    // is answered at most a retry interval after its own. The deadline goes
    // to the store as it is, in clock_'s terms (see Options::clock).
    Deadline earliest = Deadline::max();
    for (const Pending* p : batch) earliest = std::min(earliest, p->deadline);
    Deadline after;
    absl::Status st = Write(rows, earliest, &after);
    mu_.Lock();
    writing_ = false;
    ++transactions_;
    if (st.ok()) {
      failing_since_.reset();
    } else if (!failing_since_.has_value()) {
      failing_since_ = after;
    }
    const bool give_up = failing_since_.has_value() &&
                         (stopping_ || after - *failing_since_ >= options_.breaker_after);
    if (st.ok() || give_up) {
      if (give_up) open_until_ = after + options_.breaker_open;
      for (Pending* p : batch) Answer(p, st);
      done_cv_.SignalAll();
      return;
    }
    // Rolled back: nothing was counted. Try again shortly, deadlines
    // permitting; the destructor ends the pause at once.
    const Deadline retry_at = after + options_.retry_interval;
    bool due = false;
    while (!stopping_ && !due) due = clock_->WaitUntil(stopping_cv_, mu_, retry_at);
  }
}

}  // namespace cinfer
