#include "tokens/usage_recorder.h"

#include <algorithm>
#include <map>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "spdlog/spdlog.h"

namespace cinfer {

UsageRecorder::UsageRecorder(Options options, TokenStore* store)
    : options_(options), store_(store), thread_([this] { Run(); }) {}

UsageRecorder::~UsageRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_all();
  thread_.join();
}

absl::Status UsageRecorder::Record(const TokenUsageIncrement& increment, Deadline deadline) {
  Pending p{&increment, deadline, absl::OkStatus(), false};
  std::unique_lock lock(mu_);
  if (stopping_) return absl::UnavailableError("usage recorder is shutting down");
  if (std::chrono::steady_clock::now() < open_until_) {
    return absl::UnavailableError("the usage store keeps failing; not tried (breaker open)");
  }
  queue_.push_back(&p);
  queued_cv_.notify_one();
  const auto done = [&] { return p.done; };
  if (deadline == Deadline::max()) {
    done_cv_.wait(lock, done);
  } else if (!done_cv_.wait_until(lock, deadline, done)) {
    if (auto it = std::find(queue_.begin(), queue_.end(), &p); it != queue_.end()) {
      queue_.erase(it);  // never written: nothing is counted
      return absl::DeadlineExceededError("the usage store did not answer before the deadline");
    }
    done_cv_.wait(lock, done);  // in the writer's batch: answered between attempts
  }
  return p.result;
}

void UsageRecorder::RecordAsync(TokenUsageIncrement increment, Deadline deadline, Callback done) {
  auto p = std::make_unique<Pending>();
  p->owned = std::move(increment);
  p->increment = &p->owned;
  p->deadline = deadline;
  p->callback = std::move(done);
  absl::Status refused;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      refused = absl::UnavailableError("usage recorder is shutting down");
    } else if (std::chrono::steady_clock::now() < open_until_) {
      refused = absl::UnavailableError("the usage store keeps failing; not tried (breaker open)");
    } else {
      queue_.push_back(p.release());
      queued_cv_.notify_one();
      return;
    }
  }
  p->callback(std::move(refused));
}

void UsageRecorder::Answer(Pending* p, absl::Status status) {
  p->result = std::move(status);
  p->done = true;
  if (p->callback) answered_async_.push_back(p);
}

int64_t UsageRecorder::transactions() const {
  std::lock_guard lock(mu_);
  return transactions_;
}

size_t UsageRecorder::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void UsageRecorder::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    queued_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::vector<Pending*> batch;
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    WriteBatch(lock, std::move(batch));
    if (!answered_async_.empty()) {  // their continuations run without the lock
      std::vector<Pending*> ready;
      ready.swap(answered_async_);
      lock.unlock();
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
      lock.lock();
    }
  }
}

void UsageRecorder::WriteBatch(std::unique_lock<std::mutex>& lock, std::vector<Pending*> batch) {
  auto answer = [this](Pending* p, absl::Status st) { Answer(p, std::move(st)); };
  for (;;) {
    const Deadline now = std::chrono::steady_clock::now();
    std::erase_if(batch, [&](Pending* p) {
      if (p->deadline > now) return false;
      answer(p, absl::DeadlineExceededError("the usage store did not answer before the deadline"));
      return true;
    });
    done_cv_.notify_all();
    if (batch.empty()) return;
    lock.unlock();
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
    // One attempt never outlives the batch's earliest deadline, so a request
    // is answered at most a retry interval after its own.
    Deadline earliest = Deadline::max();
    for (const Pending* p : batch) earliest = std::min(earliest, p->deadline);
    absl::Status st = store_->RecordTokenUsage(rows, earliest);
    lock.lock();
    ++transactions_;
    const Deadline after = std::chrono::steady_clock::now();
    if (st.ok()) {
      failing_since_.reset();
    } else if (!failing_since_.has_value()) {
      failing_since_ = after;
    }
    const bool give_up = failing_since_.has_value() &&
                         (stopping_ || after - *failing_since_ >= options_.breaker_after);
    if (st.ok() || give_up) {
      if (give_up) open_until_ = after + options_.breaker_open;
      for (Pending* p : batch) answer(p, st);
      done_cv_.notify_all();
      return;
    }
    // Rolled back: nothing was counted. Try again shortly, deadlines permitting.
    lock.unlock();
    std::this_thread::sleep_for(options_.retry_interval);
    lock.lock();
  }
}

}  // namespace cinfer
