// ServingRegistry: the loaded model versions that receive traffic, as an
// immutable snapshot (model id → served version) swapped atomically.
//
// Readers (request threads) take a handle by copying the snapshot pointer under a
// mutex held only for that copy (a reference-count increment), never across a
// lifecycle operation; the handle pins that version until the request ends. (An earlier
// std::atomic<std::shared_ptr> did the same with libstdc++ 12's internal spinlock, whose
// relaxed unlock ThreadSanitizer reports as a data race; a mutex is as cheap here and
// its ordering is plain.)
// Writers (publish, activate, unpublish — serialised per model by
// ModelService) copy the snapshot, change one entry and swap it in. A
// replaced version is released when its last in-flight request lets go of
// its handle.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "engines/engine.h"
#include "models/model_config.h"
#include "models/serving_plan.h"
#include "scheduling/model_scheduler.h"

namespace cinfer {

// One loaded version of a model: the engine instance and what it was loaded
// with. Immutable once published in the registry, except the in-flight count.
struct ServedModel {
  std::string model_id;
  int64_t version = 0;
  std::string engine;
  ModelConfig config;
  ServingPlan plan;  // the instances and threads it runs with
  std::unique_ptr<LoadedModel> model;
  // The request queue and workers in front of `model` (destroyed first).
  std::unique_ptr<ModelScheduler> scheduler;
  std::string loaded_at;  // ISO 8601
  double load_ms = 0;     // load + warm-up + test inference
  mutable std::atomic<int64_t> in_flight{0};

  ~ServedModel();
};

// ServingStateOf the instances of `m` ("ready" for a version loaded without a
// scheduler).
std::string_view ServingStateName(const ServedModel& m);

// Counts a request against a served version while it runs.
class InFlight {
 public:
  explicit InFlight(const ServedModel& m) : m_(m) { ++m_.in_flight; }
  ~InFlight() { --m_.in_flight; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  const ServedModel& m_;
};

class ServingRegistry {
 public:
  ServingRegistry();

  // The version serving `model_id`, or null: one pointer copy under snapshot_mu_.
  std::shared_ptr<const ServedModel> Find(std::string_view model_id) const;
  // Installs `served` for its model; returns the version it replaced (or null).
  std::shared_ptr<const ServedModel> Put(std::shared_ptr<const ServedModel> served)
      ABSL_LOCKS_EXCLUDED(writers_);
  // Stops serving `model_id`; returns the version removed (or null).
  std::shared_ptr<const ServedModel> Remove(std::string_view model_id)
      ABSL_LOCKS_EXCLUDED(writers_);
  std::vector<std::shared_ptr<const ServedModel>> All() const;
  // Fails the queued jobs of every served model with 503 UNAVAILABLE ("the
  // server is shutting down") and refuses new ones; returns how many.
  size_t CancelQueued() const;

 private:
  using Map = std::map<std::string, std::shared_ptr<const ServedModel>, std::less<>>;
  std::shared_ptr<const Map> Snapshot() const ABSL_LOCKS_EXCLUDED(snapshot_mu_);
  // Only writers replace the snapshot, one at a time.
  void Swap(std::shared_ptr<const Map> next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writers_)
      ABSL_LOCKS_EXCLUDED(snapshot_mu_);

  mutable Mutex snapshot_mu_;  // held only to copy or replace `snapshot_`
  std::shared_ptr<const Map> snapshot_ ABSL_GUARDED_BY(snapshot_mu_);
  Mutex writers_;  // serialises copy-modify-swap among writers only
};

// Blocks until no request holds the version behind `released` any more (its
// last handle is gone), or `timeout` passes. True when drained.
bool WaitForDrain(const std::weak_ptr<const ServedModel>& released,
                  std::chrono::milliseconds timeout);

}  // namespace cinfer
