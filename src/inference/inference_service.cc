#include "inference/inference_service.h"

#include <future>

#include "common/errors.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "engines/tensor_json.h"
#include "http/error_response.h"
#include "vision/preprocess.h"

namespace cinfer {
namespace {

using SteadyClock = std::chrono::steady_clock;

double MsBetween(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

absl::Status NotPublished(std::string_view id) {
  return MakeError(absl::StatusCode::kNotFound, "MODEL_NOT_FOUND",
                   StrCat("no published model with id '", id, "'"));
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
  std::future<absl::StatusOr<JobResult>> result;
  std::shared_ptr<const InferenceService::Options> options;  // one snapshot per request
};

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

SteadyClock::time_point InferenceService::DeadlineOf(const Options& options,
                                                     const InferenceParams& params,
                                                     SteadyClock::time_point t0) {
  return t0 + (params.timeout_ms.has_value() ? std::chrono::milliseconds(*params.timeout_ms)
                                             : options.default_timeout);
}

absl::StatusOr<Tensor> InferenceService::PrepareImage(const ServedModel& served,
                                                      const std::string& image,
                                                      const InferenceParams& params,
                                                      SteadyClock::time_point t0,
                                                      Pending& pending) {
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
  const auto d0 = SteadyClock::now();
  ASSIGN_OR_RETURN(pending.image, vision::DecodeImage(image, info, options.decode_limits));
  pending.decode_ms = MsBetween(d0, SteadyClock::now());
  pending.lease.ShrinkTo(static_cast<int64_t>(pending.image.total() * pending.image.elemSize()));
  ASSIGN_OR_RETURN(vision::PreparedImage prepared, vision::PrepareImage(pending.image, spec));
  if (!params.annotate) {  // only annotation needs the decoded image after this
    pending.image.release();
    pending.lease.Release();
  }
  pending.transform = prepared.transform;
  const std::string& name = spec.tensor.empty() ? model.inputs()[0].name : spec.tensor;
  ASSIGN_OR_RETURN(Tensor tensor, vision::StackRows({&prepared}, name));
  RETURN_IF_ERROR(CheckInputs(model.inputs(), {tensor}));
  return tensor;
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
                     vision::EncodeJpeg(vision::Annotate(pending.image, out.result)));
  }
  return absl::OkStatus();
}

absl::StatusOr<InferenceOutcome> InferenceService::RunDirect(const ServedModel& served,
                                                             const InferenceInput& input,
                                                             const InferenceParams& params) {
  const auto t0 = SteadyClock::now();
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
  out.timing.preprocess = MsBetween(t0, SteadyClock::now());
  const auto i0 = SteadyClock::now();
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, served.model->Run(inputs));
  const auto p0 = SteadyClock::now();
  out.timing.infer = MsBetween(i0, p0);
  RETURN_IF_ERROR(Postprocess(served, std::move(outputs), pending, params, out));
  const auto end = SteadyClock::now();
  out.timing.postprocess = MsBetween(p0, end);
  out.timing.total = MsBetween(t0, end);
  return out;
}

absl::StatusOr<std::shared_ptr<InferenceService::Pending>> InferenceService::Start(
    const std::shared_ptr<const ServedModel>& served, const InferenceInput& input,
    const InferenceParams& params, SteadyClock::time_point t0,
    std::shared_ptr<const Options> options) {
  // A closed queue (shutdown) refuses before any decoding is paid for.
  if (served->scheduler != nullptr) RETURN_IF_ERROR(served->scheduler->Refusal());
  auto pending = std::make_shared<Pending>();
  pending->options = std::move(options);
  const LoadedModel& model = *served->model;
  InferenceJob job;
  if (!input.tensors.is_null()) {
    pending->tensors = true;
    ASSIGN_OR_RETURN(job.inputs, TensorsFromJson(input.tensors, model.inputs()));
    job.rows = job.inputs.empty() || job.inputs[0].shape.empty() ? 1 : job.inputs[0].shape[0];
  } else {
    ASSIGN_OR_RETURN(Tensor tensor, PrepareImage(*served, input.image, params, t0, *pending));
    job.inputs.push_back(std::move(tensor));
    job.rows = 1;
  }
  pending->preprocess_ms = MsBetween(t0, SteadyClock::now());
  job.priority = params.priority;
  job.deadline = DeadlineOf(*pending->options, params, t0);
  auto promise = std::make_shared<std::promise<absl::StatusOr<JobResult>>>();
  pending->result = promise->get_future();
  job.done = [promise](absl::StatusOr<JobResult> r) { promise->set_value(std::move(r)); };
  if (served->scheduler == nullptr) return absl::InternalError("model has no scheduler");
  RETURN_IF_ERROR(served->scheduler->Submit(std::move(job)));
  return pending;
}

absl::StatusOr<InferenceOutcome> InferenceService::Finish(
    const std::shared_ptr<const ServedModel>& served, Pending& pending,
    const InferenceParams& params, SteadyClock::time_point t0) {
  ASSIGN_OR_RETURN(JobResult job, pending.result.get());
  const auto p0 = SteadyClock::now();
  InferenceOutcome out;
  out.model_id = served->model_id;
  out.model_version = served->version;
  out.batch_size = job.batch_size;
  RETURN_IF_ERROR(Postprocess(*served, std::move(job.outputs), pending, params, out));
  const auto end = SteadyClock::now();
  out.timing.queue = job.queue_ms;
  out.timing.infer = job.infer_ms;
  out.timing.decode = pending.decode_ms;
  out.timing.preprocess = pending.preprocess_ms;
  out.timing.postprocess = MsBetween(p0, end);
  out.timing.total = MsBetween(t0, end);
  return out;
}

void InferenceService::Log(const Options& options, std::string_view model_id,
                           const ServedModel* served, const RequestContext& ctx,
                           const absl::StatusOr<InferenceOutcome>& outcome, double total_ms) {
  if (logs_ == nullptr) return;
  InferenceLogRecord r;
  r.id = NewUuid();
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
    r.http_status = http::HttpStatusFor(outcome.status());
    r.error_code = ErrorCodeOf(outcome.status());
    r.error_message = std::string(ToStd(outcome.status().message()));
  }
  logs_->Record(std::move(r));
}

absl::StatusOr<InferenceOutcome> InferenceService::Infer(std::string_view model_id,
                                                         const InferenceInput& input,
                                                         const InferenceParams& params,
                                                         const RequestContext& ctx) {
  const auto t0 = SteadyClock::now();
  const std::shared_ptr<const Options> options = options_.Get();
  std::shared_ptr<const ServedModel> served = serving_->Find(model_id);
  absl::StatusOr<InferenceOutcome> outcome = [&]() -> absl::StatusOr<InferenceOutcome> {
    if (served == nullptr) return NotPublished(model_id);
    InFlight counted(*served);
    ASSIGN_OR_RETURN(std::shared_ptr<Pending> pending, Start(served, input, params, t0, options));
    return Finish(served, *pending, params, t0);
  }();
  Log(*options, model_id, served.get(), ctx, outcome, MsBetween(t0, SteadyClock::now()));
  return outcome;
}

absl::StatusOr<std::vector<absl::StatusOr<InferenceOutcome>>> InferenceService::InferBatch(
    std::string_view model_id, const std::vector<InferenceInput>& inputs,
    const InferenceParams& params, const RequestContext& ctx) {
  const auto t0 = SteadyClock::now();
  if (inputs.empty()) return ValidationError("the batch has no images");
  const std::shared_ptr<const Options> options = options_.Get();
  if (inputs.size() > options->max_batch_images) {
    return ValidationError(
        StrCat("a batch takes at most ", options->max_batch_images, " items, got ", inputs.size()));
  }
  std::shared_ptr<const ServedModel> served = serving_->Find(model_id);
  if (served == nullptr) {
    absl::StatusOr<InferenceOutcome> missing = NotPublished(model_id);
    Log(*options, model_id, nullptr, ctx, missing, MsBetween(t0, SteadyClock::now()));
    return missing.status();
  }
  InFlight counted(*served);
  // Queue every item first, so the scheduler can batch them, then collect.
  std::vector<absl::StatusOr<std::shared_ptr<Pending>>> started;
  started.reserve(inputs.size());
  for (const auto& input : inputs) started.push_back(Start(served, input, params, t0, options));
  std::vector<absl::StatusOr<InferenceOutcome>> results;
  results.reserve(inputs.size());
  for (auto& s : started) {
    absl::StatusOr<InferenceOutcome> r =
        s.ok() ? Finish(served, **s, params, t0) : absl::StatusOr<InferenceOutcome>(s.status());
    Log(*options, model_id, served.get(), ctx, r, MsBetween(t0, SteadyClock::now()));
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace cinfer
