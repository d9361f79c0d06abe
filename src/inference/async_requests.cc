#include "inference/async_requests.h"

#include "common/errors.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "common/time_format.h"

namespace cinfer {

AsyncRequests::AsyncRequests(Options options, const Clock* clock)
    : options_(options), clock_(clock) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      SetCurrentThreadName("async-infer");
      Run();
    });
  }
}

void AsyncRequests::UpdateLimits(const Options& options) {
  MutexLock lock(&mu_);
  const int threads = options_.threads;
  options_ = options;
  options_.threads = threads;
  EvictLocked(clock_->Now());
}

AsyncRequests::~AsyncRequests() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (auto& t : threads_) t.join();
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
  cv_.Signal();
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

void AsyncRequests::Run() {
  while (true) {
    std::string id;
    Work work;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (stopping_) return;
      id = std::move(queue_.front());
      queue_.pop_front();
      Entry& e = entries_.at(id);
      e.snap.state = State::kRunning;
      work = std::move(e.work);
    }
    absl::StatusOr<nlohmann::json> result = absl::InternalError("not run");
    try {
      result = work();
    } catch (const std::exception& e) {
      result = MakeError(ErrorCode::kInternal,
                         StrCat("the request failed with an exception: ", e.what()));
    } catch (...) {
      result = MakeError(ErrorCode::kInternal, "the request failed with an exception");
    }
    work = nullptr;  // its input, before the lock
    MutexLock lock(&mu_);
    Entry& e = entries_.at(id);
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
    EvictLocked(now);
  }
}

}  // namespace cinfer
