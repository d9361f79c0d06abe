// AsyncRequests: inference requests answered later. Submit queues a piece of
// work (bounded: QUEUE_FULL 503 when too many are pending) and returns a
// request id at once; Get reports queued, running, or the finished result.
// Finished results are kept for `ttl`, at most `max_results` of them and
// `max_result_bytes` in total (the oldest finished go first); after that the
// id is unknown.
//
// No thread waits for the work: it is started (at most `threads` at once, in
// submission order) on the thread that submits or finishes another one, and
// reports its result through the Finish callback it is given, from whatever
// thread its inference completes on. Thread-safe; owns no threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "nlohmann/json.hpp"

namespace cinfer {

class AsyncRequests {
 public:
  struct Options {
    int threads = 2;                        // requests started and not yet finished, at most
    size_t max_pending = 1000;              // queued + running
    size_t max_pending_bytes = 256u << 20;  // their inputs together
    size_t max_results = 1000;              // finished, kept
    size_t max_result_bytes = 256u << 20;
    std::chrono::seconds ttl{600};
  };
  // The work starts the request and returns; it reports the response body
  // (JSON) or an error through `finish`, exactly once, on any thread (also
  // before it returns).
  using Finish = std::function<void(absl::StatusOr<nlohmann::json>)>;
  using Work = std::function<void(Finish finish)>;

  enum class State { kQueued, kRunning, kDone, kFailed };
  struct Snapshot {
    State state = State::kQueued;
    nlohmann::json result;  // kDone
    absl::Status error;     // kFailed
    std::string created_at, finished_at;
    std::string owner;  // who submitted it (the API token id)
  };

  AsyncRequests(Options options, const Clock* clock);
  ~AsyncRequests();  // drops queued work, waits for started work to finish
  AsyncRequests(const AsyncRequests&) = delete;
  AsyncRequests& operator=(const AsyncRequests&) = delete;

  // The new request id, or QUEUE_FULL (503, Retry-After 1) when max_pending
  // requests or max_pending_bytes of inputs (`input_bytes`: what the work
  // holds, e.g. the encoded image) are pending. `owner` is kept in the
  // snapshot so only its submitter reads the result. Work that throws fails
  // with INTERNAL; the pool lives on.
  absl::StatusOr<std::string> Submit(Work work, std::string owner = "", size_t input_bytes = 0)
      ABSL_LOCKS_EXCLUDED(mu_);
  // New bounds (all but `threads`): admission checks use them from now on;
  // kept results beyond them are evicted, and new results get the new ttl.
  void UpdateLimits(const Options& options) ABSL_LOCKS_EXCLUDED(mu_);
  // nullopt: unknown or expired.
  std::optional<Snapshot> Get(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);
  static std::string_view StateName(State state);

 private:
  struct Entry {
    Snapshot snap;
    Work work;
    Clock::TimePoint expires{};
    size_t bytes = 0;        // the kept result
    size_t input_bytes = 0;  // while pending
  };
  // Starts queued work while fewer than `threads` run; one caller at a time
  // does it (the others return at once), so a finish called from inside the
  // work never recurses.
  void Dispatch() ABSL_LOCKS_EXCLUDED(mu_);
  void Finished(const std::string& id, absl::StatusOr<nlohmann::json> result)
      ABSL_LOCKS_EXCLUDED(mu_);
  void EvictLocked(Clock::TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Options options_ ABSL_GUARDED_BY(mu_);
  const Clock* clock_;
  Mutex mu_;
  CondVar cv_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);     // ids waiting to run
  std::deque<std::string> finished_ ABSL_GUARDED_BY(mu_);  // ids in finishing order
  size_t pending_ ABSL_GUARDED_BY(mu_) = 0;
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t result_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;  // started, not finished
  bool dispatching_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cinfer
