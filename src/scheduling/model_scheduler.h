// ModelScheduler: the per-model request queue in front of one loaded model.
//
// Submit never blocks: a job goes into a bounded priority queue (higher
// priority first, FIFO within a priority) or is refused at once with
// QUEUE_FULL (503, Retry-After). `instances` worker threads take jobs; a job
// whose deadline passed while it waited is answered TIMEOUT (504) and never
// run. With dynamic batching (max_batch_size > 1), a worker that takes a job
// waits up to max_queue_delay for more jobs with the same input shapes (apart
// from the batch dimension), concatenates their inputs along dimension 0 into
// one engine call (at most max_batch_size rows) and splits every output back
// by rows. An idle scheduler uses no CPU (condition variables, no polling).
// Enqueue times, deadlines, the batching delay and the reported timings are
// read from Options::clock (steady time unless a test injects a fake).
// Thread-safe. The destructor fails queued jobs with UNAVAILABLE and joins
// the workers (waiting for an engine being recreated); it must not run on one
// of its own workers. A throwing engine or job callback fails that batch with
// INTERNAL (500); the worker lives on.
//
// Instances (design §6.3): each worker is an engine instance with a state
// (initialising until its worker thread runs — the constructor returns once
// all are ready; ready ⇄ busy; error → recovering → ready; stopped at the
// end) and counters. All instances start on the model given to the
// constructor. An engine call that fails with a fault of the engine (not of
// the request: see IsEngineFault) counts against its instance; after
// Options::failure_threshold faults in a row the instance leaves service
// (error), waits a back-off, and recreates its engine with Options::recreate
// (recovering); a failed recreation doubles the back-off up to its cap. The
// other instances serve meanwhile (the model is degraded). With no instance
// in service, queued jobs fail and Submit refuses with UNAVAILABLE
// (MODEL_NOT_READY, Retry-After) until one recovers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/monotonic_clock.h"
#include "common/mutex.h"
#include "engines/engine.h"

namespace cinfer {

struct JobResult {
  std::vector<Tensor> outputs;  // this job's rows of every output
  int64_t batch_size = 1;       // rows in the engine call that ran it
  double queue_ms = 0;          // enqueue → taken by a worker
  double infer_ms = 0;          // the engine call
};

// An engine instance's state (design §6.3).
enum class InstanceState { kInitialising, kReady, kBusy, kError, kRecovering, kStopped };
inline constexpr InstanceState kAllInstanceStates[] = {
    InstanceState::kInitialising, InstanceState::kReady,      InstanceState::kBusy,
    InstanceState::kError,        InstanceState::kRecovering, InstanceState::kStopped};
std::string_view InstanceStateName(InstanceState state);  // "ready", ...

struct InstanceStatus {
  int id = 0;
  InstanceState state = InstanceState::kInitialising;
  int64_t runs = 0;                  // engine calls
  int64_t failures = 0;              // engine calls that failed with an engine fault
  int64_t consecutive_failures = 0;  // since its last success or recovery
  int64_t recoveries = 0;            // engines recreated
  std::string last_error;            // the last fault or failed recreation
};

// A served version's state from one snapshot of its instances: "ready" while
// every instance serves (initialising, ready or busy), "degraded" while some
// are out of service (error or recovering), "unavailable" while none serves.
std::string_view ServingStateOf(const std::vector<InstanceStatus>& instances);

// An engine fault: the engine call failed for a reason that is not the
// request's (INTERNAL, UNKNOWN, DATA_LOSS, RESOURCE_EXHAUSTED, UNAVAILABLE,
// ABORTED — and exceptions, which become INTERNAL). Bad inputs are not.
bool IsEngineFault(const absl::Status& status);

struct InferenceJob {
  // Each input has the batch dimension first; `rows` rows (usually 1).
  std::vector<Tensor> inputs;
  int64_t rows = 1;
  int priority = 1;  // 0 low, 1 normal, 2 high (others are clamped)
  // Answered TIMEOUT instead of run when still queued at this time, read on
  // the scheduler's clock (Options::clock). The default, time_point::max(),
  // means no deadline.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Optional: builds `inputs` (e.g. decodes and preprocesses an image) on the
  // worker that takes the job, just before its engine call, so the request
  // needs no other thread. An error (or exception) answers the job with it.
  // Only without dynamic batching (batching needs the inputs while queued):
  // Submit refuses such a job when max_batch_size > 1.
  std::function<absl::Status(std::vector<Tensor>& inputs)> prepare;
  // Called exactly once, on a worker thread (or in the destructor), for every
  // job Submit accepted. A refused job gets Submit's error and no call.
  // Exceptions it throws are logged and dropped, never kill the worker.
  std::function<void(absl::StatusOr<JobResult>)> done;
};

class ModelScheduler {
 public:
  struct Options {
    int instances = 1;           // worker threads
    size_t max_queue = 100;      // queued jobs (not rows)
    int64_t max_batch_size = 0;  // rows per engine call; 0 or 1 = no batching
    std::chrono::microseconds max_queue_delay{0};
    // The steady time the scheduler reads and waits on; must outlive it.
    // Null: the scheduler's own SteadyClock.
    const MonotonicClock* clock = nullptr;
    // Names the model in log lines, e.g. "model 3f2a… version 2".
    std::string name = "model";
    // Engine faults in a row that take an instance out of service (>= 1).
    int failure_threshold = 3;
    // The wait before an instance's first recreation attempt; doubled after
    // each failed attempt, up to recovery_backoff_max.
    std::chrono::milliseconds recovery_backoff{1000};
    std::chrono::milliseconds recovery_backoff_max{60'000};
    // Makes a fresh engine for an instance taken out of service (called on
    // that instance's worker, without locks). Null: the instance goes back to
    // the engine it had.
    std::function<absl::StatusOr<std::unique_ptr<LoadedModel>>()> recreate;
  };
  // `model` must outlive the scheduler.
  ModelScheduler(Options options, const LoadedModel* model);
  ~ModelScheduler();
  ModelScheduler(const ModelScheduler&) = delete;
  ModelScheduler& operator=(const ModelScheduler&) = delete;

  // OK: queued, `job.done` will be called. QUEUE_FULL (kUnavailable, 503,
  // Retry-After 1) when the queue is full; UNAVAILABLE when stopping.
  absl::Status Submit(InferenceJob job) ABSL_LOCKS_EXCLUDED(mu_);
  // Shutdown past its limit: fails every queued job at once with `status` and
  // refuses new ones with it; running jobs finish. Returns the jobs failed.
  size_t CancelQueued(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  // What Submit would refuse every job with now (after CancelQueued), or OK.
  absl::Status Refusal() const ABSL_LOCKS_EXCLUDED(mu_);

  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t running() const;
  // Every instance's state and counters, by id.
  std::vector<InstanceStatus> Instances() const ABSL_LOCKS_EXCLUDED(mu_);
  // Instances in service (initialising, ready or busy).
  int serving() const ABSL_LOCKS_EXCLUDED(mu_);
  // True on one of this scheduler's worker threads (where it must not be destroyed).
  bool OnWorkerThread() const;
  // True with dynamic batching (jobs then cannot use `prepare`).
  bool batching() const { return options_.max_batch_size > 1; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Queued {
    InferenceJob job;
    Clock::time_point enqueued;
    uint64_t seq = 0;
    Clock::time_point taken;  // set when a worker removes it from the queue
  };
  void Work(int instance) ABSL_LOCKS_EXCLUDED(mu_);
  // Under the lock: counts the engine call's outcome (if one was made) against
  // `instance`, and takes it out of service and recovers it after too many
  // faults in a row.
  void Record(int instance, const std::optional<absl::Status>& engine)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under the lock (released while waiting and recreating): back-off and
  // recreation until the instance serves again or the scheduler stops.
  void Recover(int instance) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under the lock: takes every queued job out (to be answered without it).
  std::vector<Queued> DrainQueue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetState(int instance, InstanceState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under the lock: takes the next job that has not expired plus, with
  // batching, compatible jobs (waiting up to max_queue_delay). Expired jobs
  // met on the way go to `expired`. Empty when the queue ran dry.
  std::vector<Queued> TakeBatch(std::vector<Queued>* expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under the lock: moves unexpired jobs whose inputs match `layout` (apart
  // from dim 0) into `batch` while the rows fit; returns the rows in `batch`.
  int64_t Gather(const std::vector<TensorSpec>& layout, int64_t rows, std::vector<Queued>* batch,
                 std::vector<Queued>* expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Without the lock: runs the batch on `engine` and answers every job in it.
  // Returns the engine call's status, or nothing when no call was made.
  std::optional<absl::Status> RunBatch(const LoadedModel& engine, std::vector<Queued> batch)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The inputs of a batch of several jobs joined along dimension 0, input by input.
  static absl::StatusOr<std::vector<Tensor>> ConcatInputs(const std::vector<Queued>& batch);

  Options options_;
  const LoadedModel* model_;
  // Per instance, touched only by that instance's worker: its engine (model_
  // until recreated) and the recreated engine it owns.
  std::vector<const LoadedModel*> engines_;
  std::vector<std::unique_ptr<LoadedModel>> owned_;
  SteadyClock steady_;                 // the clock when Options::clock is null
  const MonotonicClock* const clock_;  // options_.clock or &steady_
  mutable Mutex mu_;
  CondVar cv_;
  CondVar stop_cv_;  // instances waiting out a back-off: woken only to stop
  CondVar started_;  // the constructor waits on it for every worker to start
  // priority → FIFO
  std::map<int, std::deque<Queued>, std::greater<>> queue_ ABSL_GUARDED_BY(mu_);
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // CancelQueued's status: Submit refuses with it
  std::optional<absl::Status> cancelled_ ABSL_GUARDED_BY(mu_);
  std::vector<InstanceStatus> instances_ ABSL_GUARDED_BY(mu_);
  int serving_ ABSL_GUARDED_BY(mu_) = 0;  // instances not in error, recovering or stopped
  std::atomic<int64_t> running_{0};
  std::vector<std::thread> workers_;
};

// Concatenates tensors (same name, dtype and dims after the first) along
// dimension 0; splits a tensor back into row groups. Exposed for tests.
absl::StatusOr<Tensor> ConcatRows(const std::vector<const Tensor*>& parts);
absl::StatusOr<std::vector<Tensor>> SplitRows(const Tensor& tensor,
                                              const std::vector<int64_t>& rows);

}  // namespace cinfer
