// RefusalLogLimiter: how many admission refusals (503 QUEUE_FULL / OVERLOADED)
// of one model reach the inference log each second.
//
// A client that retries a full queue without backing off can send thousands of
// requests a second that are refused in microseconds; a log row for each would
// cost more than the refusal itself (the log writer's inserts took 12 % of the
// server's CPU in bench/peer_bench.py --queue-size 16 at c=64) and would push
// the useful history out of the row cap (logs.max_rows) within minutes. The
// first `per_second` refusals of a model in each wall-clock second are logged;
// the rest are counted by /metrics only (cinfer_inference_errors_total) and
// their number goes into the next row logged for that model.
//
// Thread-safe. Does not own the clock, which must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace cinfer {

class RefusalLogLimiter {
 public:
  explicit RefusalLogLimiter(const Clock* clock) : clock_(clock) {}

  // Whether this refusal of `model_id` gets a log row under a budget of
  // `per_second` rows per model and second (< 0: every one; 0: none): nullopt
  // when it does not, else how many of the model's refusals were left out
  // since its last logged one.
  std::optional<int64_t> Allow(std::string_view model_id, int per_second) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Window {
    int64_t second = 0;   // wall-clock second of `logged`
    int64_t logged = 0;   // rows allowed in that second
    int64_t skipped = 0;  // refusals left out since the last logged one
  };
  const Clock* clock_;
  Mutex mu_;
  std::map<std::string, Window, std::less<>> windows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cinfer
