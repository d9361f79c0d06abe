#include "scheduling/model_scheduler.h"

#include <algorithm>
#include <utility>

#include "common/errors.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "spdlog/spdlog.h"

namespace cinfer {
namespace {

using Clock = std::chrono::steady_clock;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Bytes per row of `t`; an error unless it has rank >= 1 and data matching its shape.
absl::StatusOr<size_t> RowBytes(const Tensor& t) {
  if (t.shape.empty()) {
    return absl::InvalidArgumentError(StrCat("tensor '", t.name, "' has no batch dimension"));
  }
  auto total = ElementCount(t.shape);  // also bounds the sizes below
  if (!total.ok()) return total.status();
  auto row = ElementCount(Shape(t.shape.begin() + 1, t.shape.end()));
  if (!row.ok()) return row.status();
  const size_t bytes = *total * ElementSize(t.dtype);
  if (t.data.size() != bytes) {
    return absl::InvalidArgumentError(StrCat("tensor '", t.name, "' has ", t.data.size(),
                                             " bytes, its shape ", ShapeToString(t.shape),
                                             " needs ", bytes));
  }
  return *row * ElementSize(t.dtype);
}

// A job can share an engine call when each input holds exactly `rows` rows.
bool Batchable(const InferenceJob& job) {
  if (job.rows < 1 || job.inputs.empty()) return false;
  for (const Tensor& t : job.inputs) {
    if (t.shape.empty() || t.shape[0] != job.rows || !RowBytes(t).ok()) return false;
  }
  return true;
}

// Same names, dtypes and dims after the first as the batch's first job.
bool SameLayout(const std::vector<TensorSpec>& layout, const std::vector<Tensor>& inputs) {
  if (layout.size() != inputs.size()) return false;
  for (size_t i = 0; i < layout.size(); ++i) {
    const TensorSpec& a = layout[i];
    const Tensor& b = inputs[i];
    if (a.name != b.name || a.dtype != b.dtype || a.shape.size() != b.shape.size() ||
        !std::equal(a.shape.begin() + 1, a.shape.end(), b.shape.begin() + 1)) {
      return false;
    }
  }
  return true;
}

// Answers a job; an exception from its callback is logged, never propagated
// into the worker (it would end the process).
void Answer(InferenceJob& job, absl::StatusOr<JobResult> result) {
  try {
    job.done(std::move(result));
  } catch (const std::exception& e) {
    spdlog::error("inference completion threw: {}", e.what());
  } catch (...) {
    spdlog::error("inference completion threw a non-standard exception");
  }
}

absl::Status Thrown(std::string_view stage, const char* what) {
  return MakeError(ErrorCode::kInternal, StrCat(stage, " failed with an exception: ", what));
}

std::vector<TensorSpec> LayoutOf(const std::vector<Tensor>& inputs) {
  std::vector<TensorSpec> layout;
  layout.reserve(inputs.size());
  for (const Tensor& t : inputs) layout.push_back({t.name, t.dtype, t.shape});
  return layout;
}

// Runs the job's `prepare` on its inputs (an exception becomes INTERNAL);
// TIMEOUT when its deadline passed on `clock` meanwhile (the engine call
// would be wasted).
absl::Status Prepare(InferenceJob& job, const MonotonicClock& clock) {
  absl::Status prepared;
  try {
    prepared = job.prepare(job.inputs);
  } catch (const std::exception& e) {
    prepared = Thrown("preprocessing", e.what());
  } catch (...) {
    prepared = Thrown("preprocessing", "unknown");
  }
  if (!prepared.ok()) return prepared;
  if (clock.Now() > job.deadline) {
    return MakeError(ErrorCode::kTimeout,
                     "the request's timeout passed while its input was prepared");
  }
  return absl::OkStatus();
}

// The engine call; an exception becomes INTERNAL.
absl::StatusOr<std::vector<Tensor>> RunEngine(const LoadedModel& model,
                                              const std::vector<Tensor>& inputs) {
  absl::StatusOr<std::vector<Tensor>> outputs = absl::InternalError("not run");
  try {
    outputs = model.Run(inputs);
  } catch (const std::exception& e) {
    outputs = Thrown("the engine call", e.what());
  } catch (...) {
    outputs = Thrown("the engine call", "unknown");
  }
  return outputs;
}

// Calls `recreate` (an exception becomes INTERNAL). Null `recreate`: OK with no
// engine (the instance keeps the one it had).
absl::StatusOr<std::unique_ptr<LoadedModel>> Recreate(
    const std::function<absl::StatusOr<std::unique_ptr<LoadedModel>>()>& recreate) {
  if (!recreate) return std::unique_ptr<LoadedModel>();
  try {
    return recreate();
  } catch (const std::exception& e) {
    return Thrown("recreating the engine", e.what());
  } catch (...) {
    return Thrown("recreating the engine", "unknown");
  }
}

// Splits every output of a batched engine call back into the jobs' rows:
// element j holds job j's part of each output, in output order. INTERNAL when
// an output does not have the batch's `total` rows first.
absl::StatusOr<std::vector<std::vector<Tensor>>> SplitOutputs(const std::vector<Tensor>& outputs,
                                                              const std::vector<int64_t>& rows,
                                                              int64_t total) {
  std::vector<std::vector<Tensor>> per_job(rows.size());
  for (const Tensor& output : outputs) {
    if (output.shape.empty() || output.shape[0] != total) {
      return MakeError(ErrorCode::kInternal,
                       StrCat("output ", output.name, " has shape ", ShapeToString(output.shape),
                              ", cannot split a batch of ", total));
    }
    auto parts = SplitRows(output, rows);
    if (!parts.ok()) {
      return MakeError(ErrorCode::kInternal,
                       StrCat("output ", output.name, ": ", parts.status().message()));
    }
    for (size_t j = 0; j < rows.size(); ++j) per_job[j].push_back(std::move((*parts)[j]));
  }
  return per_job;
}

}  // namespace

std::string_view InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kInitialising:
      return "initialising";
    case InstanceState::kReady:
      return "ready";
    case InstanceState::kBusy:
      return "busy";
    case InstanceState::kError:
      return "error";
    case InstanceState::kRecovering:
      return "recovering";
    case InstanceState::kStopped:
      return "stopped";
  }
  return "unknown";
}

std::string_view ServingStateOf(const std::vector<InstanceStatus>& instances) {
  const auto out = std::count_if(instances.begin(), instances.end(), [](const InstanceStatus& i) {
    return i.state == InstanceState::kError || i.state == InstanceState::kRecovering ||
           i.state == InstanceState::kStopped;
  });
  if (out == 0) return "ready";
  return out < static_cast<std::ptrdiff_t>(instances.size()) ? "degraded" : "unavailable";
}

bool IsEngineFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

ModelScheduler::ModelScheduler(Options options, const LoadedModel* model)
    : options_(std::move(options)),
      model_(model),
      clock_(options_.clock != nullptr ? options_.clock : &steady_) {
  const int n = std::max(1, options_.instances);
  engines_.assign(n, model_);
  owned_.resize(n);
  {
    MutexLock lock(&mu_);
    instances_.resize(n);
    for (int i = 0; i < n; ++i) instances_[i].id = i;
    serving_ = n;  // initialising instances take jobs as soon as their worker runs
  }
  workers_.reserve(n);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this, i] { Work(i); });
  // Returns with every instance ready: a version is published only then.
  MutexLock lock(&mu_);
  while (std::any_of(instances_.begin(), instances_.end(), [](const InstanceStatus& s) {
    return s.state == InstanceState::kInitialising;
  })) {
    started_.Wait(&mu_);
  }
}

ModelScheduler::~ModelScheduler() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  stop_cv_.SignalAll();
  for (std::thread& worker : workers_) worker.join();
  std::vector<Queued> left;
  {
    MutexLock lock(&mu_);
    left = DrainQueue();
  }
  const absl::Status unloaded = MakeError(ErrorCode::kUnavailable, "the model was unloaded");
  for (Queued& q : left) Answer(q.job, unloaded);
}

std::vector<ModelScheduler::Queued> ModelScheduler::DrainQueue() {
  std::vector<Queued> left;
  for (auto& [priority, fifo] : queue_) {
    for (Queued& q : fifo) left.push_back(std::move(q));
  }
  queue_.clear();
  size_ = 0;
  return left;
}

absl::Status ModelScheduler::Submit(InferenceJob job) {
  {
    MutexLock lock(&mu_);
    if (stopping_) {
      return MakeError(ErrorCode::kUnavailable, "the model is being unloaded");
    }
    if (cancelled_.has_value()) return *cancelled_;
    if (job.prepare && options_.max_batch_size > 1) {
      return absl::InternalError("a job with `prepare` cannot join a batching scheduler");
    }
    if (serving_ == 0) {
      return WithRetryAfter(
          MakeError(ErrorCode::kModelNotReady,
                    "no instance of this model is serving: its engines are being recreated"),
          static_cast<int>(std::max<int64_t>(1, options_.recovery_backoff.count() / 1000)));
    }
    if (size_ >= options_.max_queue) {
      return WithRetryAfter(
          MakeError(ErrorCode::kQueueFull,
                    StrCat("the queue of this model is full (", options_.max_queue, " requests)")),
          1);
    }
    const int priority = std::clamp(job.priority, 0, 2);
    queue_[priority].push_back(Queued{std::move(job), clock_->Now(), seq_++, {}});
    ++size_;
  }
  // A worker gathering a batch also waits on cv_ and may not take this job
  // (other shapes, no room): wake the idle workers too.
  if (options_.max_batch_size > 1) {
    cv_.SignalAll();
  } else {
    cv_.Signal();
  }
  return absl::OkStatus();
}

size_t ModelScheduler::CancelQueued(const absl::Status& status) {
  std::vector<Queued> left;
  {
    MutexLock lock(&mu_);
    cancelled_ = status;
    left = DrainQueue();
  }
  for (Queued& q : left) Answer(q.job, status);
  return left.size();
}

absl::Status ModelScheduler::Refusal() const {
  MutexLock lock(&mu_);
  return cancelled_.value_or(absl::OkStatus());
}

size_t ModelScheduler::queued() const {
  MutexLock lock(&mu_);
  return size_;
}

int64_t ModelScheduler::running() const { return running_.load(); }

std::vector<InstanceStatus> ModelScheduler::Instances() const {
  MutexLock lock(&mu_);
  return instances_;
}

int ModelScheduler::serving() const {
  MutexLock lock(&mu_);
  return serving_;
}

void ModelScheduler::SetState(int instance, InstanceState state) {
  InstanceStatus& s = instances_[instance];
  const auto in_service = [](InstanceState st) {
    return st == InstanceState::kInitialising || st == InstanceState::kReady ||
           st == InstanceState::kBusy;
  };
  serving_ += static_cast<int>(in_service(state)) - static_cast<int>(in_service(s.state));
  s.state = state;
}

bool ModelScheduler::OnWorkerThread() const {
  const std::thread::id self = std::this_thread::get_id();
  for (const std::thread& worker : workers_) {  // fixed after construction
    if (worker.get_id() == self) return true;
  }
  return false;
}

void ModelScheduler::Work(int instance) {
  SetCurrentThreadName(StrCat("model-worker-", instance));
  mu_.Lock();
  SetState(instance, InstanceState::kReady);
  started_.SignalAll();
  while (true) {
    while (!stopping_ && size_ == 0) cv_.Wait(&mu_);
    if (stopping_) break;
    std::vector<Queued> expired;
    std::vector<Queued> batch = TakeBatch(&expired);
    if (!batch.empty()) SetState(instance, InstanceState::kBusy);
    mu_.Unlock();
    for (Queued& q : expired) {
      Answer(q.job, MakeError(ErrorCode::kTimeout,
                              StrCat("waited ", static_cast<int64_t>(Millis(q.taken - q.enqueued)),
                                     " ms in the queue, past its timeout")));
    }
    expired.clear();  // the jobs' captured state is released without the lock
    if (batch.empty()) {
      mu_.Lock();
      continue;
    }
    const std::optional<absl::Status> engine = RunBatch(*engines_[instance], std::move(batch));
    mu_.Lock();
    Record(instance, engine);
  }
  SetState(instance, InstanceState::kStopped);
  mu_.Unlock();
}

void ModelScheduler::Record(int instance, const std::optional<absl::Status>& engine) {
  InstanceStatus& s = instances_[instance];
  if (engine.has_value()) ++s.runs;
  if (!engine.has_value() || !IsEngineFault(*engine)) {
    s.consecutive_failures = 0;
    SetState(instance, InstanceState::kReady);
    return;
  }
  ++s.failures;
  ++s.consecutive_failures;
  s.last_error = ToStd(engine->message());
  if (s.consecutive_failures < std::max(1, options_.failure_threshold)) {
    SetState(instance, InstanceState::kReady);
    return;
  }
  spdlog::warn("{}: engine instance {} failed {} times in a row ({}): taken out of service",
               options_.name, instance, s.consecutive_failures, s.last_error);
  Recover(instance);
}

void ModelScheduler::Recover(int instance) {
  SetState(instance, InstanceState::kError);
  auto backoff = options_.recovery_backoff;
  auto until = clock_->Now() + backoff;  // counted from the moment it left service
  if (serving_ == 0) {                   // nobody would take the queued jobs until a recovery
    std::vector<Queued> left = DrainQueue();
    mu_.Unlock();
    const absl::Status none = MakeError(ErrorCode::kModelNotReady,
                                        "no instance of this model is serving: its engines failed");
    for (Queued& q : left) Answer(q.job, none);
    left.clear();
    mu_.Lock();
  }
  while (!stopping_) {
    while (!stopping_ && clock_->Now() < until) clock_->WaitUntil(stop_cv_, mu_, until);
    if (stopping_) return;
    SetState(instance, InstanceState::kRecovering);
    mu_.Unlock();
    absl::StatusOr<std::unique_ptr<LoadedModel>> fresh = Recreate(options_.recreate);
    if (fresh.ok() && *fresh != nullptr) {
      owned_[instance] = *std::move(fresh);  // the old one is released without the lock
      engines_[instance] = owned_[instance].get();
    }
    mu_.Lock();
    InstanceStatus& s = instances_[instance];
    if (fresh.ok()) {
      ++s.recoveries;
      s.consecutive_failures = 0;
      SetState(instance, InstanceState::kReady);
      spdlog::info("{}: engine instance {} recovered", options_.name, instance);
      return;
    }
    s.last_error = StrCat("recreating the engine: ", fresh.status().message());
    SetState(instance, InstanceState::kError);
    backoff = std::min(backoff * 2, options_.recovery_backoff_max);
    until = clock_->Now() + backoff;
    spdlog::warn("{}: engine instance {}: {} (next attempt in {} ms)", options_.name, instance,
                 s.last_error, backoff.count());
  }
}

std::vector<ModelScheduler::Queued> ModelScheduler::TakeBatch(std::vector<Queued>* expired) {
  std::vector<Queued> batch;
  const auto now = clock_->Now();
  for (auto& [priority, fifo] : queue_) {
    while (batch.empty() && !fifo.empty()) {
      Queued q = std::move(fifo.front());
      fifo.pop_front();
      --size_;
      q.taken = now;
      (q.job.deadline < now ? expired : &batch)->push_back(std::move(q));
    }
  }
  const int64_t max_rows = options_.max_batch_size;
  if (batch.empty() || max_rows <= 1 || !Batchable(batch[0].job)) return batch;
  const std::vector<TensorSpec> layout = LayoutOf(batch[0].job.inputs);
  int64_t rows = Gather(layout, batch[0].job.rows, &batch, expired);
  const auto wait_end = now + options_.max_queue_delay;
  while (rows < max_rows && !stopping_) {
    // Never wait past the deadline of a job already in the batch.
    auto until = wait_end;
    for (const Queued& q : batch) until = std::min(until, q.job.deadline);
    if (clock_->Now() >= until) break;
    clock_->WaitUntil(cv_, mu_, until);  // woken by Submit, or at `until`
    rows = Gather(layout, rows, &batch, expired);
  }
  return batch;
}

int64_t ModelScheduler::Gather(const std::vector<TensorSpec>& layout, int64_t rows,
                               std::vector<Queued>* batch, std::vector<Queued>* expired) {
  const int64_t max_rows = options_.max_batch_size;
  const auto now = clock_->Now();
  for (auto& [priority, fifo] : queue_) {
    for (auto it = fifo.begin(); it != fifo.end() && rows < max_rows;) {
      InferenceJob& job = it->job;
      if (job.deadline < now) {
        it->taken = now;
        expired->push_back(std::move(*it));
      } else if (job.rows <= max_rows - rows && Batchable(job) && SameLayout(layout, job.inputs)) {
        rows += job.rows;
        it->taken = now;
        batch->push_back(std::move(*it));
      } else {
        ++it;
        continue;
      }
      it = fifo.erase(it);
      --size_;
    }
  }
  return rows;
}

absl::StatusOr<std::vector<Tensor>> ModelScheduler::ConcatInputs(const std::vector<Queued>& batch) {
  std::vector<Tensor> concatenated;
  for (size_t i = 0; i < batch[0].job.inputs.size(); ++i) {
    std::vector<const Tensor*> parts;
    for (const Queued& q : batch) parts.push_back(&q.job.inputs[i]);
    auto joined = ConcatRows(parts);
    if (!joined.ok()) return joined.status();
    concatenated.push_back(std::move(*joined));
  }
  return concatenated;
}

std::optional<absl::Status> ModelScheduler::RunBatch(const LoadedModel& engine,
                                                     std::vector<Queued> batch) {
  std::vector<int64_t> rows;
  int64_t total = 0;
  for (const Queued& q : batch) {
    rows.push_back(q.job.rows);
    total += q.job.rows;
  }
  // Answers every job with `status`; returns `engine`, the engine call's status.
  auto fail_all = [&batch](const absl::Status& status,
                           std::optional<absl::Status> engine = std::nullopt) {
    for (Queued& q : batch) Answer(q.job, status);
    return engine;
  };
  if (batch.size() == 1 && batch[0].job.prepare) {
    if (absl::Status prepared = Prepare(batch[0].job, *clock_); !prepared.ok())
      return fail_all(prepared);
  }

  std::vector<Tensor> concatenated;
  if (batch.size() > 1) {
    auto joined = ConcatInputs(batch);
    if (!joined.ok()) return fail_all(joined.status());
    concatenated = *std::move(joined);
  }
  ++running_;
  const auto start = clock_->Now();
  absl::StatusOr<std::vector<Tensor>> outputs =
      RunEngine(engine, batch.size() > 1 ? concatenated : batch[0].job.inputs);
  const double infer_ms = Millis(clock_->Now() - start);
  --running_;
  if (!outputs.ok()) return fail_all(outputs.status(), outputs.status());

  std::vector<JobResult> results(batch.size());
  for (size_t j = 0; j < batch.size(); ++j) {
    results[j].batch_size = total;
    results[j].queue_ms = Millis(batch[j].taken - batch[j].enqueued);
    results[j].infer_ms = infer_ms;
  }
  if (batch.size() == 1) {
    results[0].outputs = std::move(*outputs);
  } else {
    auto split = SplitOutputs(*outputs, rows, total);
    if (!split.ok()) return fail_all(split.status(), absl::OkStatus());
    for (size_t j = 0; j < batch.size(); ++j) results[j].outputs = std::move((*split)[j]);
  }
  for (size_t j = 0; j < batch.size(); ++j) Answer(batch[j].job, std::move(results[j]));
  return absl::OkStatus();
}

absl::StatusOr<Tensor> ConcatRows(const std::vector<const Tensor*>& parts) {
  if (parts.empty() || parts[0] == nullptr) {
    return absl::InvalidArgumentError("nothing to concatenate");
  }
  const Tensor& first = *parts[0];
  int64_t rows = 0;
  size_t bytes = 0;
  for (const Tensor* part : parts) {
    if (part == nullptr) return absl::InvalidArgumentError("nothing to concatenate");
    auto row_bytes = RowBytes(*part);
    if (!row_bytes.ok()) return row_bytes.status();
    if (part->name != first.name || part->dtype != first.dtype ||
        part->shape.size() != first.shape.size() ||
        !std::equal(part->shape.begin() + 1, part->shape.end(), first.shape.begin() + 1)) {
      return absl::InvalidArgumentError(
          StrCat("cannot concatenate tensor '", part->name, "' ", DataTypeName(part->dtype),
                 ShapeToString(part->shape), " with '", first.name, "' ", DataTypeName(first.dtype),
                 ShapeToString(first.shape)));
    }
    rows += part->shape[0];
    bytes += part->data.size();
  }
  Tensor out{first.name, first.dtype, first.shape, {}};  // rank >= 1, checked above
  out.shape[0] = rows;
  out.data.reserve(bytes);
  for (const Tensor* part : parts) {
    out.data.insert(out.data.end(), part->data.begin(), part->data.end());
  }
  return out;
}

absl::StatusOr<std::vector<Tensor>> SplitRows(const Tensor& tensor,
                                              const std::vector<int64_t>& rows) {
  auto row_bytes = RowBytes(tensor);
  if (!row_bytes.ok()) return row_bytes.status();
  int64_t sum = 0;
  for (int64_t r : rows) {
    if (r < 0) return absl::InvalidArgumentError(StrCat("cannot split off ", r, " rows"));
    sum += r;
  }
  if (sum != tensor.shape[0]) {
    return absl::InvalidArgumentError(StrCat("rows sum to ", sum, ", tensor '", tensor.name,
                                             "' has shape ", ShapeToString(tensor.shape)));
  }
  std::vector<Tensor> out;
  out.reserve(rows.size());
  size_t offset = 0;
  for (int64_t r : rows) {
    Tensor part{tensor.name, tensor.dtype, tensor.shape, {}};
    part.shape[0] = r;
    const size_t n = *row_bytes * static_cast<size_t>(r);
    part.data.assign(tensor.data.begin() + offset, tensor.data.begin() + offset + n);
    offset += n;
    out.push_back(std::move(part));
  }
  return out;
}

}  // namespace cinfer
