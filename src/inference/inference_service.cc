#include "inference/inference_service.h"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "absl/base/thread_annotations.h"
#include "common/errors.h"
#include "common/mutex.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "engines/tensor_json.h"
#include "vision/preprocess.h"

namespace cinfer {
namespace {

using Steady = std::chrono::steady_clock;

double MsBetween(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

absl::Status NotPublished(std::string_view id) {
  return MakeError(ErrorCode::kModelNotFound, StrCat("no published model with id '", id, "'"));
}

constexpr size_t kMaxCapturedBytes = 64 * 1024;

std::string Capped(std::string text) {
  if (text.size() > kMaxCapturedBytes) text.resize(kMaxCapturedBytes);
  return text;
}

}  // namespace

struct InferenceService::Pending {
  bool tensors = false;
  cv::Mat image;                      // kept for annotation only
  vision::DecodeBudget::Lease lease;  // the decode budget that `image` holds
  vision::ImageTransform transform;
  double decode_ms = 0;
  double preprocess_ms = 0;
  std::shared_ptr<const InferenceService::Options> options;  // one snapshot per request
};

// One asynchronous inference, shared by the job's callbacks until answered.
struct InferenceService::Call {
  std::string model_id;
  std::shared_ptr<const ServedModel> served;
  std::unique_ptr<InFlight> counted;  // the served version is in use until answered
  InferenceInput input;
  InferenceParams params;
  RequestContext ctx;
  Steady::time_point t0;
  Pending pending;
  Done done;
};

struct InferenceService::PreparePool {
  explicit PreparePool(int threads) : pool(static_cast<size_t>(std::max(1, threads))) {}
  boost::asio::thread_pool pool;
  std::atomic<size_t> queued{0};  // admission: bounded like a scheduler queue
  static constexpr size_t kMaxQueued = 1024;
};

InferenceService::InferenceService(Options options, ServingRegistry* serving, ModelStore* models,
                                   InferenceLogWriter* logs, vision::DecodeBudget* decode_budget,
                                   const vision::ImageCodecs* codecs, const Clock* clock,
                                   int prepare_threads, Metrics* metrics)
    : options_(options),
      serving_(serving),
      models_(models),
      logs_(logs),
      refusal_logs_(clock),
      decode_budget_(decode_budget),
      codecs_(codecs),
      clock_(clock),
      metrics_(metrics),
      prepare_pool_(std::make_unique<PreparePool>(prepare_threads)) {}

InferenceService::~InferenceService() { prepare_pool_->pool.join(); }

absl::StatusOr<std::vector<PublishedModel>> InferenceService::ListPublished() {
  std::vector<PublishedModel> out;
  for (int64_t offset = 0;; offset += 100) {
    ModelFilter f;
    f.status = "published";
    f.offset = offset;
    f.limit = 100;
    int64_t total = 0;
    ASSIGN_OR_RETURN(auto page, models_->ListModels(f, &total));
    for (auto& m : page) {
      if (auto served = serving_->Find(m.id); served != nullptr) {
        out.push_back({std::move(m), std::move(served)});
      }
    }
    if (static_cast<int64_t>(page.size()) < 100) break;
  }
  return out;
}

absl::StatusOr<PublishedModel> InferenceService::GetPublished(std::string_view id) {
  auto served = serving_->Find(id);
  if (served == nullptr) return NotPublished(id);
  ASSIGN_OR_RETURN(auto m, models_->FindModel(id));
  if (!m.has_value() || m->status != "published") return NotPublished(id);
  return PublishedModel{*std::move(m), std::move(served)};
}

Steady::time_point InferenceService::DeadlineOf(const Options& options,
                                                const InferenceParams& params,
                                                Steady::time_point t0) {
  return t0 + (params.timeout_ms.has_value() ? std::chrono::milliseconds(*params.timeout_ms)
                                             : options.default_timeout);
}

absl::StatusOr<Tensor> InferenceService::PrepareImage(const ServedModel& served,
                                                      const std::string& image,
                                                      const InferenceParams& params,
                                                      Steady::time_point t0, Pending& pending) {
  const LoadedModel& model = *served.model;
  const InputSpec& spec = served.config.input;
  if (model.inputs().size() != 1) {
    return ValidationError(StrCat("this model takes ", model.inputs().size(),
                                  " inputs; send them as tensors ({\"inputs\": [...]})"));
  }
  ASSIGN_OR_RETURN(const vision::ImageInfo info, vision::ProbeImage(image));
  const Options& options = *pending.options;
  RETURN_IF_ERROR(vision::CheckDecodeLimits(info, options.decode_limits));  // before waiting
  ASSIGN_OR_RETURN(pending.lease, decode_budget_->Acquire(vision::DecodeMemoryBytes(info),
                                                          DeadlineOf(options, params, t0)));
  const auto d0 = Steady::now();
  ASSIGN_OR_RETURN(pending.image,
                   vision::DecodeImage(*codecs_, image, info, options.decode_limits));
  pending.decode_ms = MsBetween(d0, Steady::now());
  pending.lease.ShrinkTo(static_cast<int64_t>(pending.image.total() * pending.image.elemSize()));
  ASSIGN_OR_RETURN(vision::PreparedImage prepared, vision::PrepareImage(pending.image, spec));
  if (!params.annotate) {  // only annotation needs the decoded image after this
    pending.image.release();
    pending.lease.Release();
  }
  pending.transform = prepared.transform;
  const std::string& name = spec.tensor.empty() ? model.inputs()[0].name : spec.tensor;
  std::vector<Tensor> inputs;  // moved and checked in place: no copy of the pixels
  inputs.push_back(vision::OneRow(std::move(prepared), name));
  RETURN_IF_ERROR(CheckInputs(model.inputs(), inputs));
  return std::move(inputs[0]);
}

absl::Status InferenceService::Postprocess(const ServedModel& served, std::vector<Tensor> outputs,
                                           Pending& pending, const InferenceParams& params,
                                           InferenceOutcome& out) {
  if (pending.tensors) {
    out.result.task = Task::kRaw;
    out.result.outputs = std::move(outputs);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(out.result, vision::Postprocess(outputs, 0, served.config.output, params.post,
                                                   pending.transform));
  if (params.annotate) {
    ASSIGN_OR_RETURN(out.annotated_jpeg,
                     vision::EncodeJpeg(*codecs_, vision::Annotate(pending.image, out.result)));
  }
  return absl::OkStatus();
}

absl::StatusOr<InferenceOutcome> InferenceService::RunDirect(const ServedModel& served,
                                                             const InferenceInput& input,
                                                             const InferenceParams& params) {
  const auto t0 = Steady::now();
  Pending pending;
  pending.options = options_.Get();
  std::vector<Tensor> inputs;
  if (!input.tensors.is_null()) {
    pending.tensors = true;
    ASSIGN_OR_RETURN(inputs, TensorsFromJson(input.tensors, served.model->inputs()));
  } else {
    ASSIGN_OR_RETURN(Tensor tensor, PrepareImage(served, input.image, params, t0, pending));
    inputs.push_back(std::move(tensor));
  }
  InferenceOutcome out;
  out.model_id = served.model_id;
  out.model_version = served.version;
  out.batch_size = 1;
  out.timing.decode = pending.decode_ms;
  out.timing.preprocess = MsBetween(t0, Steady::now());
  const auto i0 = Steady::now();
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, served.model->Run(inputs));
  const auto p0 = Steady::now();
  out.timing.infer = MsBetween(i0, p0);
  RETURN_IF_ERROR(Postprocess(served, std::move(outputs), pending, params, out));
  const auto end = Steady::now();
  out.timing.postprocess = MsBetween(p0, end);
  out.timing.total = MsBetween(t0, end);
  return out;
}

void InferenceService::Measure(const ServedModel& served,
                               const absl::StatusOr<InferenceOutcome>& outcome,
                               double total_ms) const {
  std::string error_code;
  Metrics::Inference m{.model_id = served.model_id, .version = served.version};
  if (outcome.ok()) {
    const InferenceTiming& t = outcome->timing;
    m.queue = t.queue / 1000;
    m.preprocess = (t.decode + t.preprocess) / 1000;
    m.engine = t.infer / 1000;
    m.postprocess = t.postprocess / 1000;
    m.total = total_ms / 1000;
    m.batch_size = static_cast<int>(outcome->batch_size);
  } else {
    error_code = ErrorCodeOf(outcome.status());
    m.error_code = error_code;
  }
  metrics_->InferenceDone(m);
}

void InferenceService::Log(const Options& options, std::string_view model_id,
                           const ServedModel* served, const RequestContext& ctx,
                           const absl::StatusOr<InferenceOutcome>& outcome, double total_ms) {
  if (metrics_ != nullptr && served != nullptr) Measure(*served, outcome, total_ms);
  if (logs_ == nullptr) return;
  int64_t unlogged = 0;  // refusals of this model not logged since its last logged one
  if (HasErrorCode(outcome.status(), ErrorCode::kQueueFull) ||
      HasErrorCode(outcome.status(), ErrorCode::kOverloaded)) {
    const std::optional<int64_t> left_out =
        refusal_logs_.Allow(model_id, options.refusals_logged_per_second);
    if (!left_out.has_value()) return;
    unlogged = *left_out;
  }
  InferenceLogRecord r;
  // r.id: given by the log writer (common/random.h IdSequence, no OpenSSL call per request)
  r.model_id = std::string(model_id);
  if (served != nullptr) r.model_version = served->version;
  r.token_id = ctx.token_id;
  r.request_id = ctx.request_id;
  r.client_ip = ctx.client_ip;
  r.route = ctx.route;
  r.created_at = FormatIso8601(clock_->Now());
  r.total_ms = total_ms;
  if (outcome.ok()) {
    r.status = "ok";
    r.http_status = 200;
    r.queue_ms = outcome->timing.queue;
    r.preprocess_ms = outcome->timing.preprocess;
    r.infer_ms = outcome->timing.infer;
    r.postprocess_ms = outcome->timing.postprocess;
    r.batch_size = outcome->batch_size;
    if (options.capture_payload) {
      r.response_data = Capped(vision::TaskResultToJson(outcome->result)
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  } else {
    r.status = "error";
    r.http_status = HttpStatusFor(outcome.status());
    r.error_code = ErrorCodeOf(outcome.status());
    r.error_message = std::string(ToStd(outcome.status().message()));
    if (unlogged > 0) {
      r.error_message += StrCat(" (", unlogged,
                                " more refusals of this model since the last logged one are not "
                                "logged)");
    }
  }
  logs_->Record(std::move(r));
}

namespace {

// Runs `f`, turning an exception into a 500 for this request (never a dead thread).
template <class F>
auto Guarded(std::string_view stage, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInternal, StrCat(stage, " failed with an exception: ", e.what()));
  } catch (...) {
    return MakeError(ErrorCode::kInternal, StrCat(stage, " failed with an exception"));
  }
}

}  // namespace

absl::Status InferenceService::PrepareInputs(Call& call, std::vector<Tensor>& inputs,
                                             int64_t* rows) {
  const auto p0 = Steady::now();
  const ServedModel& served = *call.served;
  if (!call.input.tensors.is_null()) {
    call.pending.tensors = true;
    ASSIGN_OR_RETURN(inputs, TensorsFromJson(call.input.tensors, served.model->inputs()));
    call.input.tensors = nullptr;
    *rows = inputs.empty() || inputs[0].shape.empty() ? 1 : inputs[0].shape[0];
  } else {
    ASSIGN_OR_RETURN(Tensor tensor,
                     PrepareImage(served, call.input.image, call.params, call.t0, call.pending));
    std::string().swap(call.input.image);  // the encoded bytes are not needed again
    inputs.push_back(std::move(tensor));
    *rows = 1;
  }
  call.pending.preprocess_ms = MsBetween(p0, Steady::now());
  return absl::OkStatus();
}

absl::Status InferenceService::Submit(const std::shared_ptr<Call>& call) {
  const ServedModel& served = *call->served;
  if (served.scheduler == nullptr) return absl::InternalError("model has no scheduler");
  // A closed queue (shutdown) refuses before any decoding is paid for.
  RETURN_IF_ERROR(served.scheduler->Refusal());
  InferenceJob job;
  job.priority = call->params.priority;
  job.deadline = DeadlineOf(*call->pending.options, call->params, call->t0);
  job.done = [this, call](absl::StatusOr<JobResult> result) {
    Outcome out = Guarded("postprocessing", [&] { return FinishCall(*call, std::move(result)); });
    Complete(*call, std::move(out));
  };
  if (!served.scheduler->batching()) {
    job.prepare = [this, call](std::vector<Tensor>& inputs) {
      int64_t rows = 1;
      return PrepareInputs(*call, inputs, &rows);
    };
    return served.scheduler->Submit(std::move(job));
  }
  // Dynamic batching gathers queued jobs by their tensors: prepare them first.
  PreparePool& pool = *prepare_pool_;
  if (pool.queued.fetch_add(1) >= PreparePool::kMaxQueued) {
    pool.queued.fetch_sub(1);
    return WithRetryAfter(
        MakeError(ErrorCode::kQueueFull, "too many images waiting for preprocessing"), 1);
  }
  boost::asio::post(pool.pool, [this, call, job = std::move(job)]() mutable {
    prepare_pool_->queued.fetch_sub(1);
    absl::Status st =
        Guarded("preprocessing", [&] { return PrepareInputs(*call, job.inputs, &job.rows); });
    if (st.ok()) st = call->served->scheduler->Submit(std::move(job));
    if (!st.ok()) Complete(*call, st);
  });
  return absl::OkStatus();
}

InferenceService::Outcome InferenceService::FinishCall(Call& call,
                                                       absl::StatusOr<JobResult> result) {
  ASSIGN_OR_RETURN(JobResult job, std::move(result));
  const auto p0 = Steady::now();
  InferenceOutcome out;
  out.model_id = call.served->model_id;
  out.model_version = call.served->version;
  out.batch_size = job.batch_size;
  RETURN_IF_ERROR(
      Postprocess(*call.served, std::move(job.outputs), call.pending, call.params, out));
  const auto end = Steady::now();
  out.timing.queue = job.queue_ms;
  out.timing.infer = job.infer_ms;
  out.timing.decode = call.pending.decode_ms;
  out.timing.preprocess = call.pending.preprocess_ms;
  out.timing.postprocess = MsBetween(p0, end);
  out.timing.total = MsBetween(call.t0, end);
  return out;
}

void InferenceService::Complete(Call& call, Outcome outcome) {
  Log(*call.pending.options, call.model_id, call.served.get(), call.ctx, outcome,
      MsBetween(call.t0, Steady::now()));
  call.pending.image.release();  // the decoded image and its budget, before answering
  call.pending.lease.Release();
  call.counted.reset();
  Done done = std::move(call.done);
  call.done = nullptr;
  if (done) done(std::move(outcome));
}

void InferenceService::InferAsync(std::string model_id, InferenceInput input,
                                  InferenceParams params, RequestContext ctx, Done done) {
  auto call = std::make_shared<Call>();
  call->t0 = Steady::now();
  call->pending.options = options_.Get();
  call->served = serving_->Find(model_id);
  call->model_id = std::move(model_id);
  call->input = std::move(input);
  call->params = std::move(params);
  call->ctx = std::move(ctx);
  call->done = std::move(done);
  if (call->served == nullptr) return Complete(*call, NotPublished(call->model_id));
  call->counted = std::make_unique<InFlight>(*call->served);
  if (absl::Status st = Submit(call); !st.ok()) Complete(*call, st);
}

void InferenceService::InferBatchAsync(std::string model_id, std::vector<InferenceInput> inputs,
                                       InferenceParams params, RequestContext ctx, BatchDone done) {
  const auto t0 = Steady::now();
  const std::shared_ptr<const Options> options = options_.Get();
  if (inputs.empty()) return done(ValidationError("the batch has no images"));
  if (inputs.size() > options->max_batch_images) {
    return done(ValidationError(StrCat("a batch takes at most ", options->max_batch_images,
                                       " items, got ", inputs.size())));
  }
  std::shared_ptr<const ServedModel> served = serving_->Find(model_id);
  if (served == nullptr) {
    Outcome missing = NotPublished(model_id);
    Log(*options, model_id, nullptr, ctx, missing, MsBetween(t0, Steady::now()));
    return done(missing.status());
  }
  // Every item is queued at once (so the scheduler can batch them) and the
  // last one to finish answers the whole request.
  struct Gather {
    Gather(size_t n, BatchDone d)
        : results(n, absl::InternalError("not answered")), remaining(n), done(std::move(d)) {}
    Mutex mu;
    std::vector<Outcome> results ABSL_GUARDED_BY(mu);
    size_t remaining ABSL_GUARDED_BY(mu);
    BatchDone done ABSL_GUARDED_BY(mu);
  };
  auto gather = std::make_shared<Gather>(inputs.size(), std::move(done));
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto call = std::make_shared<Call>();
    call->t0 = t0;
    call->pending.options = options;
    call->served = served;
    call->counted = std::make_unique<InFlight>(*served);
    call->model_id = model_id;
    call->input = std::move(inputs[i]);
    call->params = params;
    call->ctx = ctx;
    call->done = [gather, i](Outcome r) {
      BatchDone finish;
      std::vector<Outcome> results;
      {
        MutexLock lock(&gather->mu);
        gather->results[i] = std::move(r);
        if (--gather->remaining == 0) {
          finish = std::move(gather->done);
          results = std::move(gather->results);  // every item has answered
        }
      }
      if (finish) finish(std::move(results));
    };
    if (absl::Status st = Submit(call); !st.ok()) Complete(*call, st);
  }
}

}  // namespace cinfer
