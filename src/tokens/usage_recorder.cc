#include "tokens/usage_recorder.h"

#include <map>
#include <tuple>
#include <vector>

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

absl::Status UsageRecorder::Record(const TokenUsageIncrement& increment) {
  Pending p{&increment, absl::OkStatus(), false};
  std::unique_lock lock(mu_);
  if (stopping_) return absl::UnavailableError("usage recorder is shutting down");
  queue_.push_back(&p);
  queued_cv_.notify_one();
  done_cv_.wait(lock, [&] { return p.done; });
  return p.result;
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
    absl::Status st = store_->RecordTokenUsage(rows);
    lock.lock();
    ++transactions_;
    for (Pending* p : batch) {
      p->result = st;
      p->done = true;
    }
    done_cv_.notify_all();
  }
}

}  // namespace cinfer
