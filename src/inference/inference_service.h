// InferenceService: the application side of inference. Resolves a published
// model through the serving registry, submits each request to the model's
// scheduler and answers it from the scheduler's completion: no thread waits
// for an inference. Image decoding and preprocessing (and JSON tensor
// conversion) run on the model's worker just before the engine call; for
// models with dynamic batching, which need the tensors while queued, on a
// small preparation pool instead. Postprocessing runs on the worker after the
// call. One inference-log row per request. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/live_value.h"
#include "logs/inference_log_writer.h"
#include "logs/refusal_log_limiter.h"
#include "metrics/metrics.h"
#include "models/serving_registry.h"
#include "nlohmann/json.hpp"
#include "storage/database.h"
#include "vision/decode_budget.h"
#include "vision/image.h"
#include "vision/postprocess.h"

namespace cinfer {

// Per-request options (query parameters or the JSON `parameters` object).
struct InferenceParams {
  vision::PostprocessParams post;
  int priority = 1;  // 0 low, 1 normal, 2 high
  std::optional<int64_t> timeout_ms;
  bool annotate = false;
};

// One input: an encoded image, or KServe-style JSON tensors.
struct InferenceInput {
  std::string image;       // encoded bytes (JPEG/PNG/WebP/BMP)
  nlohmann::json tensors;  // non-null: {"inputs": [...]}'s list; `image` unused
};

// Who asked, for the inference log.
struct RequestContext {
  std::string request_id;
  std::string client_ip;
  std::optional<std::string> token_id;
  std::string route;  // "infer", "infer/batch", "infer/async"
};

// Milliseconds. `preprocess` includes `decode` (the image decode alone).
struct InferenceTiming {
  double decode = 0, queue = 0, preprocess = 0, infer = 0, postprocess = 0, total = 0;
};

struct InferenceOutcome {
  std::string model_id;
  int64_t model_version = 0;
  vision::TaskResult result;
  std::optional<std::string> annotated_jpeg;
  InferenceTiming timing;
  int64_t batch_size = 0;
};

// A published model as the application API shows it.
struct PublishedModel {
  ModelRecord record;
  std::shared_ptr<const ServedModel> served;
};

class InferenceService {
 public:
  struct Options {
    vision::DecodeLimits decode_limits;
    std::chrono::milliseconds default_timeout{5000};
    size_t max_batch_images = 64;
    bool capture_payload = false;  // inference logs keep request/response summaries
    // Admission refusals (503 QUEUE_FULL / OVERLOADED) logged per model and
    // second; the rest are counted by /metrics only (logs/refusal_log_limiter.h).
    int refusals_logged_per_second = 10;
  };
  // `decode_budget` bounds the memory of concurrent image decodes (shared with
  // every other decoding caller); `codecs` decodes and encodes the images.
  // `prepare_threads` size the pool that prepares inputs for batching models.
  // `metrics` counts every answered request of a served model (null: not measured).
  InferenceService(Options options, ServingRegistry* serving, ModelStore* models,
                   InferenceLogWriter* logs, vision::DecodeBudget* decode_budget,
                   const vision::ImageCodecs* codecs, const Clock* clock, int prepare_threads = 2,
                   Metrics* metrics = nullptr);
  ~InferenceService();  // joins the preparation pool

  // Published models that are being served, newest first.
  absl::StatusOr<std::vector<PublishedModel>> ListPublished();
  // 404 MODEL_NOT_FOUND unless published and served.
  absl::StatusOr<PublishedModel> GetPublished(std::string_view id);

  using Outcome = absl::StatusOr<InferenceOutcome>;
  using BatchOutcome = absl::StatusOr<std::vector<Outcome>>;
  using Done = std::function<void(Outcome)>;
  using BatchDone = std::function<void(BatchOutcome)>;

  // One inference; `done` runs exactly once: on the model's worker, or at once
  // on the calling thread when the request is refused before it is queued.
  // Errors: 404 MODEL_NOT_FOUND (not published), 415/422 for images
  // (vision/image.h), 422 VALIDATION_FAILED for tensors, 503 QUEUE_FULL or
  // OVERLOADED (decode budget spent until the deadline), 504 TIMEOUT, 500
  // INTERNAL when the engine or preprocessing throws.
  void InferAsync(std::string model_id, InferenceInput input, InferenceParams params,
                  RequestContext ctx, Done done);
  // Several inputs; each item succeeds or fails on its own; results in input
  // order. The items are queued together so dynamic batching can merge them.
  // Fails as a whole only when the model is not served or there are too many.
  void InferBatchAsync(std::string model_id, std::vector<InferenceInput> inputs,
                       InferenceParams params, RequestContext ctx, BatchDone done);

  // One input run on `served`'s model directly: no scheduler queue and no
  // inference-log row (the admin test endpoint, which may run a version that
  // is not published). The caller holds `served` for the call.
  absl::StatusOr<InferenceOutcome> RunDirect(const ServedModel& served, const InferenceInput& input,
                                             const InferenceParams& params);

  size_t max_batch_images() const { return options_.Get()->max_batch_images; }
  // When a request that started at `start` must have its answer (its
  // timeout_ms, or request.timeout_ms).
  std::chrono::steady_clock::time_point DeadlineFrom(
      const InferenceParams& params, std::chrono::steady_clock::time_point start) const {
    return DeadlineOf(*options_.Get(), params, start);
  }
  // New settings for requests that start after this call.
  void UpdateOptions(Options options) { options_.Set(std::move(options)); }

 private:
  struct Pending;
  struct Call;
  absl::StatusOr<Tensor> PrepareImage(const ServedModel& served, const std::string& image,
                                      const InferenceParams& params,
                                      std::chrono::steady_clock::time_point t0, Pending& pending);
  absl::Status Postprocess(const ServedModel& served, std::vector<Tensor> outputs, Pending& pending,
                           const InferenceParams& params, InferenceOutcome& out);
  static std::chrono::steady_clock::time_point DeadlineOf(const Options& options,
                                                          const InferenceParams& params,
                                                          std::chrono::steady_clock::time_point t0);
  // Queues `call` on its model's scheduler (preparing on the pool first when
  // the model batches); an error when refused (then nothing will answer it).
  absl::Status Submit(const std::shared_ptr<Call>& call);
  // Fills `inputs` from the call's image or tensors (worker or pool thread).
  absl::Status PrepareInputs(Call& call, std::vector<Tensor>& inputs, int64_t* rows);
  Outcome FinishCall(Call& call, absl::StatusOr<JobResult> job);
  // Logs the call and runs its completion (once).
  void Complete(Call& call, Outcome outcome);
  void Measure(const ServedModel& served, const absl::StatusOr<InferenceOutcome>& outcome,
               double total_ms) const;
  void Log(const Options& options, std::string_view model_id, const ServedModel* served,
           const RequestContext& ctx, const absl::StatusOr<InferenceOutcome>& outcome,
           double total_ms);

  LiveValue<Options> options_;
  ServingRegistry* serving_;
  ModelStore* models_;
  InferenceLogWriter* logs_;
  RefusalLogLimiter refusal_logs_;  // how many refusals reach logs_
  vision::DecodeBudget* decode_budget_;
  const vision::ImageCodecs* codecs_;
  const Clock* clock_;
  Metrics* metrics_;  // per-model counts and stage latencies; null: not measured
  struct PreparePool;
  std::unique_ptr<PreparePool> prepare_pool_;  // batching models only
};

}  // namespace cinfer
