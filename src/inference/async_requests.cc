#include "inference/async_requests.h"

#include <atomic>
#include <memory>

#include "common/errors.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_format.h"

namespace cinfer {

AsyncRequests::AsyncRequests(Options options, const Clock* clock)
    : options_(options), clock_(clock) {}

void AsyncRequests::UpdateLimits(const Options& options) {
  MutexLock lock(&mu_);
  const int threads = options_.threads;
  options_ = options;
  options_.threads = threads;
  EvictLocked(clock_->Now());
}

AsyncRequests::~AsyncRequests() {
  MutexLock lock(&mu_);
  stopping_ = true;
  while (running_ > 0) cv_.Wait(&mu_);  // their Finish callbacks point here
}

std::string_view AsyncRequests::StateName(State state) {
  switch (state) {
    case State::kQueued:
      return "queued";
    case State::kRunning:
      return "running";
    case State::kDone:
      return "done";
    case State::kFailed:
      return "failed";
  }
  return "unknown";
}

absl::StatusOr<std::string> AsyncRequests::Submit(Work work, std::string owner,
                                                  size_t input_bytes) {
  std::string id = NewUuid();
  {
    MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the server is stopping");
    if (pending_ >= options_.max_pending) {
      return WithRetryAfter(
          MakeError(ErrorCode::kQueueFull,
                    StrCat("too many asynchronous requests pending (", pending_, ")")),
          1);
    }
    if (input_bytes > 0 && pending_bytes_ + input_bytes > options_.max_pending_bytes) {
      return WithRetryAfter(MakeError(ErrorCode::kQueueFull,
                                      StrCat("asynchronous requests hold ", pending_bytes_ >> 20,
                                             " MiB of inputs; the limit is ",
                                             options_.max_pending_bytes >> 20, " MiB")),
                            1);
    }
    Entry e;
    e.input_bytes = input_bytes;
    e.work = std::move(work);
    e.snap.created_at = FormatIso8601(clock_->Now());
    e.snap.owner = std::move(owner);
    entries_.emplace(id, std::move(e));
    queue_.push_back(id);
    ++pending_;
    pending_bytes_ += input_bytes;
  }
  Dispatch();
  return id;
}

std::optional<AsyncRequests::Snapshot> AsyncRequests::Get(const std::string& id) {
  MutexLock lock(&mu_);
  EvictLocked(clock_->Now());
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.snap;
}

void AsyncRequests::EvictLocked(Clock::TimePoint now) {
  while (!finished_.empty()) {
    auto it = entries_.find(finished_.front());
    if (it == entries_.end()) {
      finished_.pop_front();
      continue;
    }
    const bool too_many = finished_.size() > options_.max_results;
    const bool too_big = result_bytes_ > options_.max_result_bytes;
    if (!too_many && !too_big && it->second.expires > now) break;
    result_bytes_ -= it->second.bytes;
    entries_.erase(it);
    finished_.pop_front();
  }
}

void AsyncRequests::Dispatch() {
  {
    MutexLock lock(&mu_);
    // The running dispatcher sees this caller's change: it decides to stop
    // under the same lock the change was made under.
    if (dispatching_) return;
    dispatching_ = true;
  }
  while (true) {
    std::string id;
    Work work;
    {
      MutexLock lock(&mu_);
      const size_t limit = static_cast<size_t>(std::max(1, options_.threads));
      if (stopping_ || queue_.empty() || running_ >= limit) {
        dispatching_ = false;
        return;
      }
      id = std::move(queue_.front());
      queue_.pop_front();
      Entry& e = entries_.at(id);
      e.snap.state = State::kRunning;
      work = std::move(e.work);
      ++running_;
    }
    auto once = std::make_shared<std::atomic<bool>>(false);
    Finish finish = [this, id, once](absl::StatusOr<nlohmann::json> result) {
      if (!once->exchange(true)) Finished(id, std::move(result));
    };
    try {
      work(finish);
    } catch (const std::exception& e) {
      finish(MakeError(ErrorCode::kInternal,
                       StrCat("the request failed with an exception: ", e.what())));
    } catch (...) {
      finish(MakeError(ErrorCode::kInternal, "the request failed with an exception"));
    }
  }
}

void AsyncRequests::Finished(const std::string& id, absl::StatusOr<nlohmann::json> result) {
  {
    MutexLock lock(&mu_);
    Entry& e = entries_.at(id);
    e.work = nullptr;
    if (result.ok()) {
      e.snap.state = State::kDone;
      e.bytes = result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
      e.snap.result = *std::move(result);
    } else {
      e.snap.state = State::kFailed;
      e.snap.error = result.status();
      e.bytes = result.status().message().size() + 64;
    }
    const auto now = clock_->Now();
    e.snap.finished_at = FormatIso8601(now);
    e.expires = now + options_.ttl;
    result_bytes_ += e.bytes;
    finished_.push_back(id);
    --pending_;
    pending_bytes_ -= e.input_bytes;
    --running_;
    EvictLocked(now);
    if (stopping_) {
      cv_.SignalAll();
      return;
    }
  }
  Dispatch();
}

}  // namespace cinfer
