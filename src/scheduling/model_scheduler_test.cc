#include "scheduling/model_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "common/monotonic_clock.h"
#include "common/status_macros.h"

namespace cinfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Generous: only a guard against hangs, never a timing assertion.
constexpr auto kWait = std::chrono::seconds(30);

Tensor MakeX(const Shape& shape, const std::vector<float>& values, const std::string& name = "x") {
  Tensor t{name, DataType::kFp32, shape, {}};
  t.data.resize(values.size() * sizeof(float));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

std::vector<float> Floats(const Tensor& t) {
  std::vector<float> v(t.data.size() / sizeof(float));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
  return v;
}

// One input "x" FP32 {-1, 2}, one output "y" = x * 2. While the gate is
// closed, Run blocks, so a test can hold workers busy deterministically.
class FakeModel : public LoadedModel {
 public:
  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::vector<std::string> devices() const override { return {"cpu"}; }
  bool SupportsConcurrentRun() const override { return true; }

  absl::StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs) const override {
    std::unique_lock lock(mu_);
    ++calls_;
    ++in_progress_;
    batches_.push_back(inputs.at(0).shape.at(0));
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --in_progress_;
    if (throw_bad_alloc_) throw std::bad_alloc();
    if (!error_.ok()) return error_;
    Tensor y = inputs[0];
    y.name = "y";
    for (size_t i = 0; i < y.data.size() / sizeof(float); ++i) y.As<float>()[i] *= 2;
    if (collapse_output_) {  // always one row, whatever the batch
      y.data.resize(y.data.size() / y.shape[0]);
      y.shape[0] = 1;
    }
    return std::vector<Tensor>{std::move(y)};
  }

  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Fail(absl::Status error) {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }
  // Run throws std::bad_alloc (an engine that allocates too much) while set.
  void ThrowBadAlloc(bool on) {
    std::lock_guard lock(mu_);
    throw_bad_alloc_ = on;
  }
  void CollapseOutput() {
    std::lock_guard lock(mu_);
    collapse_output_ = true;
  }
  // True once `n` Runs are in progress at the same time.
  bool WaitForRuns(int n) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return in_progress_ >= n; });
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<int64_t> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  std::vector<TensorSpec> inputs_{{"x", DataType::kFp32, {-1, 2}}};
  std::vector<TensorSpec> outputs_{{"y", DataType::kFp32, {-1, 2}}};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool open_ = true;
  absl::Status error_;
  bool collapse_output_ = false;
  bool throw_bad_alloc_ = false;
  mutable int calls_ = 0;
  mutable int in_progress_ = 0;
  mutable std::vector<int64_t> batches_;
};

// Collects what every job's `done` received, in completion order.
class Results {
 public:
  std::function<void(absl::StatusOr<JobResult>)> Done(int id) {
    return [this, id](absl::StatusOr<JobResult> result) {
      std::lock_guard lock(mu_);
      ++calls_[id];
      order_.push_back(id);
      results_.insert_or_assign(id, std::move(result));
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return order_.size() >= n; });
  }
  absl::StatusOr<JobResult> Get(int id) {
    std::lock_guard lock(mu_);
    auto it = results_.find(id);
    if (it == results_.end()) return absl::NotFoundError("no result");
    return it->second;
  }
  std::vector<int> order() {
    std::lock_guard lock(mu_);
    return order_;
  }
  std::map<int, int> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> order_;
  std::map<int, absl::StatusOr<JobResult>> results_;
  std::map<int, int> calls_;
};

// The model, the results and a scheduler over them; opens the gate before
// destroying the scheduler so a failed assertion cannot hang the test.
struct Harness {
  explicit Harness(ModelScheduler::Options options)
      : scheduler(std::make_unique<ModelScheduler>(options, &model)) {}
  ~Harness() {
    model.Open();
    scheduler.reset();
  }

  // A job whose input has `shape` and values base, base + 0.25, ...
  InferenceJob Job(int id, float base, int priority = 1, Shape shape = {1, 2}) {
    InferenceJob job;
    std::vector<float> values(shape[0] * shape[1]);
    for (size_t i = 0; i < values.size(); ++i) values[i] = base + 0.25f * i;
    job.inputs.push_back(MakeX(shape, values));
    job.rows = shape[0];
    job.priority = priority;
    job.done = results.Done(id);
    return job;
  }
  // Closes the gate and submits job 0, which then holds one worker in Run.
  bool HoldWorker() {
    model.Close();
    return scheduler->Submit(Job(0, 0)).ok() && model.WaitForRuns(1);
  }

  FakeModel model;
  Results results;
  std::unique_ptr<ModelScheduler> scheduler;
};

ModelScheduler::Options Batching(int64_t max_batch_size, milliseconds delay) {
  ModelScheduler::Options options;
  options.max_batch_size = max_batch_size;
  options.max_queue_delay = delay;
  return options;
}

// Expects job `id` to have succeeded with its own input (base, shape) * 2.
void ExpectDoubled(Harness& h, int id, float base, const Shape& shape, int64_t batch_size) {
  SCOPED_TRACE(id);
  auto result = h.results.Get(id);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->outputs.size(), 1u);
  const Tensor& y = result->outputs[0];
  EXPECT_EQ(y.name, "y");
  EXPECT_EQ(y.shape, shape);
  std::vector<float> expected(shape[0] * shape[1]);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = 2 * (base + 0.25f * i);
  EXPECT_EQ(Floats(y), expected);
  EXPECT_EQ(result->batch_size, batch_size);
  EXPECT_GE(result->queue_ms, 0);
  EXPECT_GE(result->infer_ms, 0);
}

TEST(ModelSchedulerTest, RunsOneJob) {
  Harness h({});
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 3)).ok());
  ASSERT_TRUE(h.results.WaitFor(1));
  ExpectDoubled(h, 1, 3, {1, 2}, 1);
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{1}));
  EXPECT_EQ(h.scheduler->queued(), 0u);
  EXPECT_EQ(h.scheduler->running(), 0);
}

TEST(ModelSchedulerTest, FullQueueRefusesWithRetryAfter) {
  ModelScheduler::Options options;
  options.max_queue = 2;
  Harness h(options);
  ASSERT_TRUE(h.HoldWorker());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2)).ok());
  EXPECT_EQ(h.scheduler->queued(), 2u);
  absl::Status refused = h.scheduler->Submit(h.Job(3, 3));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOf(refused), "QUEUE_FULL");
  EXPECT_EQ(RetryAfterOf(refused), 1);
  EXPECT_NE(refused.message().find("(2 requests)"), absl::string_view::npos) << refused;

  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(3));
  ExpectDoubled(h, 1, 1, {1, 2}, 1);
  ExpectDoubled(h, 2, 2, {1, 2}, 1);
  EXPECT_EQ(h.results.calls().count(3), 0u);  // a refused job is never answered
}

TEST(ModelSchedulerTest, CancelQueuedFailsWaitingJobsAtOnceAndLetsTheRunningOneFinish) {
  Harness h({});
  ASSERT_TRUE(h.HoldWorker());  // job 0 runs (held at the gate)
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2)).ok());
  const absl::Status down = MakeError(ErrorCode::kShuttingDown, "bye");
  EXPECT_EQ(h.scheduler->CancelQueued(down), 2u);
  ASSERT_TRUE(h.results.WaitFor(2));  // answered without the gate opening
  EXPECT_EQ(ErrorCodeOf(h.results.Get(1).status()), "SHUTTING_DOWN");
  EXPECT_EQ(ErrorCodeOf(h.results.Get(2).status()), "SHUTTING_DOWN");
  EXPECT_EQ(ErrorCodeOf(h.scheduler->Submit(h.Job(3, 3))), "SHUTTING_DOWN");
  EXPECT_EQ(h.scheduler->queued(), 0u);
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(3));
  ExpectDoubled(h, 0, 0, {1, 2}, 1);  // the running job finished normally
}

TEST(ModelSchedulerTest, HigherPriorityRunsFirst) {
  Harness h({});
  ASSERT_TRUE(h.HoldWorker());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1, /*priority=*/0)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2, /*priority=*/1)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(3, 3, /*priority=*/2)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(4, 4, /*priority=*/7)).ok());  // clamped to high
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(5));
  EXPECT_EQ(h.results.order(), (std::vector<int>{0, 3, 4, 2, 1}));
}

TEST(ModelSchedulerTest, ExpiredJobTimesOutWithoutRunning) {
  Harness h({});
  ASSERT_TRUE(h.HoldWorker());
  InferenceJob late = h.Job(1, 1);
  late.deadline = steady_clock::now() - milliseconds(1);
  ASSERT_TRUE(h.scheduler->Submit(std::move(late)).ok());
  InferenceJob timely = h.Job(2, 2);
  timely.deadline = steady_clock::now() + std::chrono::hours(1);
  ASSERT_TRUE(h.scheduler->Submit(std::move(timely)).ok());
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(3));
  auto result = h.results.Get(1);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorCodeOf(result.status()), "TIMEOUT");
  EXPECT_NE(result.status().message().find("in the queue"), absl::string_view::npos);
  ExpectDoubled(h, 2, 2, {1, 2}, 1);
  EXPECT_EQ(h.model.calls(), 2);  // the holder and the timely job only
}

TEST(ModelSchedulerTest, ExpiredJobIsLeftOutOfTheBatch) {
  Harness h(Batching(4, milliseconds(20)));
  ASSERT_TRUE(h.HoldWorker());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1)).ok());
  InferenceJob late = h.Job(2, 2);
  late.deadline = steady_clock::now() - milliseconds(1);
  ASSERT_TRUE(h.scheduler->Submit(std::move(late)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(3, 3)).ok());
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(4));
  EXPECT_EQ(ErrorCodeOf(h.results.Get(2).status()), "TIMEOUT");
  ExpectDoubled(h, 1, 1, {1, 2}, 2);
  ExpectDoubled(h, 3, 3, {1, 2}, 2);
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{1, 2}));
}

TEST(ModelSchedulerTest, BatchesQueuedJobsAndSplitsOutputsBack) {
  Harness h(Batching(4, milliseconds(200)));
  ASSERT_TRUE(h.HoldWorker());
  for (int id = 1; id <= 6; ++id) ASSERT_TRUE(h.scheduler->Submit(h.Job(id, 10.0f * id)).ok());
  EXPECT_EQ(h.scheduler->queued(), 6u);
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(7));
  // The holder alone, then 4 rows, then the remaining 2 after the delay.
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{1, 4, 2}));
  for (int id = 1; id <= 6; ++id) ExpectDoubled(h, id, 10.0f * id, {1, 2}, id <= 4 ? 4 : 2);
}

TEST(ModelSchedulerTest, BatchesMultiRowJobsWithinTheLimit) {
  Harness h(Batching(5, milliseconds(20)));
  ASSERT_TRUE(h.HoldWorker());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1, 1, {2, 2})).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2, 1, {4, 2})).ok());  // does not fit with job 1
  ASSERT_TRUE(h.scheduler->Submit(h.Job(3, 3, 1, {3, 2})).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(4, 4, 1, {1, 2})).ok());
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(5));
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{1, 5, 5}));
  ExpectDoubled(h, 1, 1, {2, 2}, 5);
  ExpectDoubled(h, 3, 3, {3, 2}, 5);
  ExpectDoubled(h, 2, 2, {4, 2}, 5);
  ExpectDoubled(h, 4, 4, {1, 2}, 5);
}

TEST(ModelSchedulerTest, DifferentShapesAreNotBatchedTogether) {
  Harness h(Batching(4, milliseconds(20)));
  ASSERT_TRUE(h.HoldWorker());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1, 1, {1, 2})).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2, 1, {1, 3})).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(3, 3, 1, {1, 2})).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(4, 4, 1, {1, 3})).ok());
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(5));
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{1, 2, 2}));
  ExpectDoubled(h, 1, 1, {1, 2}, 2);
  ExpectDoubled(h, 2, 2, {1, 3}, 2);
  ExpectDoubled(h, 3, 3, {1, 2}, 2);
  ExpectDoubled(h, 4, 4, {1, 3}, 2);
}

TEST(ModelSchedulerTest, RunErrorReachesEveryJobOfTheBatch) {
  Harness h(Batching(4, milliseconds(20)));
  ASSERT_TRUE(h.HoldWorker());
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(h.scheduler->Submit(h.Job(id, id)).ok());
  h.model.Fail(absl::InternalError("engine exploded"));
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(4));
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{1, 3}));
  for (int id = 0; id <= 3; ++id) {
    auto result = h.results.Get(id);
    EXPECT_EQ(result.status(), absl::InternalError("engine exploded")) << id;
  }
}

TEST(ModelSchedulerTest, OutputWithoutTheBatchRowsFailsTheBatch) {
  Harness h(Batching(4, milliseconds(20)));
  h.model.CollapseOutput();
  ASSERT_TRUE(h.HoldWorker());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2)).ok());
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(3));
  ExpectDoubled(h, 0, 0, {1, 2}, 1);  // a one-row call passes its outputs whole
  for (int id : {1, 2}) {
    auto result = h.results.Get(id);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
    EXPECT_NE(result.status().message().find("cannot split a batch of 2"), absl::string_view::npos)
        << result.status();
  }
}

TEST(ModelSchedulerTest, DestructorFailsQueuedJobsOnce) {
  Harness h({});
  ASSERT_TRUE(h.HoldWorker());
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(h.scheduler->Submit(h.Job(id, id)).ok());
  ModelScheduler* scheduler = h.scheduler.get();
  std::thread destroyer([&h] { h.scheduler.reset(); });
  // Once Submit says UNAVAILABLE the destructor is stopping; only then let the
  // held Run finish, so the queued jobs are certainly left for the destructor.
  std::set<int> accepted = {0, 1, 2, 3};
  for (int id = 100;; ++id) {
    absl::Status status = scheduler->Submit(h.Job(id, 0));
    if (status.ok()) accepted.insert(id);
    if (ErrorCodeOf(status) == "UNAVAILABLE") break;
    std::this_thread::sleep_for(milliseconds(1));
  }
  h.model.Open();
  destroyer.join();

  ASSERT_TRUE(h.results.WaitFor(accepted.size()));
  ExpectDoubled(h, 0, 0, {1, 2}, 1);  // the worker finished the job it had
  std::map<int, int> calls = h.results.calls();
  EXPECT_EQ(calls.size(), accepted.size());
  for (int id : accepted) {
    EXPECT_EQ(calls[id], 1) << id;
    if (id == 0) continue;
    auto result = h.results.Get(id);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << id;
    EXPECT_NE(result.status().message().find("unloaded"), absl::string_view::npos);
  }
  EXPECT_EQ(h.model.calls(), 1);
}

TEST(ModelSchedulerTest, InstancesRunConcurrently) {
  ModelScheduler::Options options;
  options.instances = 4;
  Harness h(options);
  h.model.Close();
  for (int id = 1; id <= 4; ++id) ASSERT_TRUE(h.scheduler->Submit(h.Job(id, id)).ok());
  ASSERT_TRUE(h.model.WaitForRuns(4));
  EXPECT_EQ(h.scheduler->running(), 4);
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(4));
  for (int id = 1; id <= 4; ++id) ExpectDoubled(h, id, id, {1, 2}, 1);
}

TEST(ConcatRowsTest, JoinsAlongTheFirstDimension) {
  Tensor a = MakeX({1, 2}, {1, 2});
  Tensor b = MakeX({2, 2}, {3, 4, 5, 6});
  auto joined = ConcatRows({&a, &b});
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->name, "x");
  EXPECT_EQ(joined->dtype, DataType::kFp32);
  EXPECT_EQ(joined->shape, (Shape{3, 2}));
  EXPECT_EQ(Floats(*joined), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(ConcatRowsTest, RejectsMismatchedParts) {
  Tensor a = MakeX({1, 2}, {1, 2});
  Tensor other_name = MakeX({1, 2}, {1, 2}, "z");
  Tensor other_dims = MakeX({1, 3}, {1, 2, 3});
  Tensor other_rank = MakeX({1, 2, 1}, {1, 2});
  Tensor scalar = MakeX({}, {1});
  Tensor short_data = MakeX({2, 2}, {1, 2});
  Tensor other_dtype = a;
  other_dtype.dtype = DataType::kInt32;
  EXPECT_FALSE(ConcatRows({}).ok());
  EXPECT_FALSE(ConcatRows({&a, &other_name}).ok());
  EXPECT_FALSE(ConcatRows({&a, &other_dims}).ok());
  EXPECT_FALSE(ConcatRows({&a, &other_rank}).ok());
  EXPECT_FALSE(ConcatRows({&a, &other_dtype}).ok());
  EXPECT_FALSE(ConcatRows({&scalar, &scalar}).ok());
  EXPECT_FALSE(ConcatRows({&a, &short_data}).ok());
}

TEST(SplitRowsTest, SplitsIntoRowGroups) {
  Tensor t = MakeX({3, 2}, {1, 2, 3, 4, 5, 6});
  auto parts = SplitRows(t, {1, 0, 2});
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].shape, (Shape{1, 2}));
  EXPECT_EQ(Floats((*parts)[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ((*parts)[1].shape, (Shape{0, 2}));
  EXPECT_TRUE((*parts)[1].data.empty());
  EXPECT_EQ((*parts)[2].shape, (Shape{2, 2}));
  EXPECT_EQ(Floats((*parts)[2]), (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ((*parts)[2].name, "x");
}

TEST(SplitRowsTest, RejectsRowsThatDoNotAddUp) {
  Tensor t = MakeX({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_FALSE(SplitRows(t, {1, 1}).ok());
  EXPECT_FALSE(SplitRows(t, {2, 2}).ok());
  EXPECT_FALSE(SplitRows(t, {4, -1}).ok());
  EXPECT_FALSE(SplitRows(MakeX({}, {1}), {1}).ok());
  EXPECT_FALSE(SplitRows(MakeX({3, 2}, {1, 2}), {3}).ok());
}

// --- prepare and exceptions ----------------------------------------------------

TEST(ModelSchedulerTest, PrepareBuildsTheInputsOnTheWorker) {
  Harness h({});
  InferenceJob job = h.Job(1, 1.0f);
  std::vector<Tensor> built = std::move(job.inputs);
  job.inputs.clear();
  std::thread::id prepared_on;
  job.prepare = [&built, &prepared_on](std::vector<Tensor>& inputs) {
    prepared_on = std::this_thread::get_id();
    inputs = built;
    return absl::OkStatus();
  };
  ASSERT_TRUE(h.scheduler->Submit(std::move(job)).ok());
  ASSERT_TRUE(h.results.WaitFor(1));
  ExpectDoubled(h, 1, 1.0f, {1, 2}, 1);
  EXPECT_NE(prepared_on, std::this_thread::get_id());
}

TEST(ModelSchedulerTest, AFailingOrThrowingPrepareAnswersOnlyItsJob) {
  Harness h({});
  InferenceJob failing = h.Job(1, 1.0f);
  failing.prepare = [](std::vector<Tensor>&) { return absl::InvalidArgumentError("bad image"); };
  InferenceJob throwing = h.Job(2, 1.0f);
  throwing.prepare = [](std::vector<Tensor>&) -> absl::Status {
    throw std::runtime_error("decoder exploded");
  };
  ASSERT_TRUE(h.scheduler->Submit(std::move(failing)).ok());
  ASSERT_TRUE(h.scheduler->Submit(std::move(throwing)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(3, 3.0f)).ok());
  ASSERT_TRUE(h.results.WaitFor(3));
  EXPECT_EQ(h.results.Get(1).status().code(), absl::StatusCode::kInvalidArgument);
  const absl::Status thrown = h.results.Get(2).status();
  EXPECT_EQ(ErrorCodeOf(thrown), "INTERNAL");
  EXPECT_NE(thrown.message().find("decoder exploded"), std::string_view::npos) << thrown;
  ExpectDoubled(h, 3, 3.0f, {1, 2}, 1);
  EXPECT_EQ(h.model.calls(), 1);  // failed preparations never reach the engine
}

TEST(ModelSchedulerTest, AThrowingEngineFailsItsBatchAndTheWorkerLivesOn) {
  Harness h({});
  h.model.ThrowBadAlloc(true);
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1.0f)).ok());
  ASSERT_TRUE(h.results.WaitFor(1));
  const absl::Status thrown = h.results.Get(1).status();
  EXPECT_EQ(ErrorCodeOf(thrown), "INTERNAL");
  EXPECT_EQ(h.scheduler->running(), 0);
  h.model.ThrowBadAlloc(false);
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2.0f)).ok());
  ASSERT_TRUE(h.results.WaitFor(2));
  ExpectDoubled(h, 2, 2.0f, {1, 2}, 1);
}

TEST(ModelSchedulerTest, AThrowingCompletionDoesNotKillTheWorker) {
  Harness h({});
  InferenceJob job = h.Job(1, 1.0f);
  job.done = [](absl::StatusOr<JobResult>) { throw std::runtime_error("callback bug"); };
  ASSERT_TRUE(h.scheduler->Submit(std::move(job)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2.0f)).ok());
  ASSERT_TRUE(h.results.WaitFor(1));
  ExpectDoubled(h, 2, 2.0f, {1, 2}, 1);
}

TEST(ModelSchedulerTest, BatchingSchedulersRefuseJobsThatPrepareLate) {
  Harness h(Batching(4, milliseconds(1)));
  EXPECT_TRUE(h.scheduler->batching());
  InferenceJob job = h.Job(1, 1.0f);
  job.prepare = [](std::vector<Tensor>&) { return absl::OkStatus(); };
  EXPECT_FALSE(h.scheduler->Submit(std::move(job)).ok());
  EXPECT_TRUE(h.results.order().empty());
}

// --- an injected clock -----------------------------------------------------------
// These move a FakeMonotonicClock by hand: no assertion depends on how long
// real time takes, real sleeps only poll for what the workers did.

// `options` reading `clock`.
ModelScheduler::Options On(const FakeMonotonicClock& clock, ModelScheduler::Options options = {}) {
  options.clock = &clock;
  return options;
}

// Polls `done` every millisecond of real time; false after 10 s.
bool Eventually(const std::function<bool()>& done) {
  const auto give_up = steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

TEST(ModelSchedulerClockTest, ABatchWaitsForTheDelayOnTheClock) {
  FakeMonotonicClock clock;
  Harness h(On(clock, Batching(4, milliseconds(100))));
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2)).ok());
  // A worker has both in its batch and waits for more until the delay ends.
  ASSERT_TRUE(Eventually([&] { return h.scheduler->queued() == 0; }));
  clock.Advance(milliseconds(99));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(h.model.calls(), 0);  // 1 ms of the delay is left
  clock.Advance(milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return h.model.calls() > 0; }));
  ASSERT_TRUE(h.results.WaitFor(2));
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{2}));
  ExpectDoubled(h, 1, 1, {1, 2}, 2);
  ExpectDoubled(h, 2, 2, {1, 2}, 2);
}

TEST(ModelSchedulerClockTest, ABatchRunsAtTheDeadlineOfAJobInIt) {
  FakeMonotonicClock clock;
  Harness h(On(clock, Batching(4, milliseconds(100))));
  InferenceJob urgent = h.Job(1, 1);
  urgent.deadline = clock.Now() + milliseconds(30);
  ASSERT_TRUE(h.scheduler->Submit(std::move(urgent)).ok());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(2, 2)).ok());
  ASSERT_TRUE(Eventually([&] { return h.scheduler->queued() == 0; }));
  clock.Advance(milliseconds(29));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(h.model.calls(), 0);
  clock.Advance(milliseconds(1));  // at the deadline, not past it: the job still runs
  ASSERT_TRUE(h.results.WaitFor(2));
  EXPECT_EQ(h.model.batches(), (std::vector<int64_t>{2}));
  ExpectDoubled(h, 1, 1, {1, 2}, 2);
  ExpectDoubled(h, 2, 2, {1, 2}, 2);
}

TEST(ModelSchedulerClockTest, AJobWhoseDeadlinePassesInTheQueueTimesOutWithoutRunning) {
  FakeMonotonicClock clock;
  Harness h(On(clock));
  ASSERT_TRUE(h.HoldWorker());
  InferenceJob job = h.Job(1, 1);
  job.deadline = clock.Now() + milliseconds(10);
  ASSERT_TRUE(h.scheduler->Submit(std::move(job)).ok());
  clock.Advance(milliseconds(20));
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(2));
  const absl::Status timed_out = h.results.Get(1).status();
  EXPECT_EQ(timed_out.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorCodeOf(timed_out), "TIMEOUT");
  EXPECT_EQ(timed_out.message(), "waited 20 ms in the queue, past its timeout");
  ExpectDoubled(h, 0, 0, {1, 2}, 1);
  EXPECT_EQ(h.model.calls(), 1);  // the holder only
}

TEST(ModelSchedulerClockTest, ReportsTheQueueWaitAndEngineTimeOnTheClock) {
  FakeMonotonicClock clock;
  Harness h(On(clock));
  ASSERT_TRUE(h.HoldWorker());  // job 0 is in the engine
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1)).ok());
  clock.Advance(milliseconds(25));  // job 1 waits, job 0 runs
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(2));
  ExpectDoubled(h, 0, 0, {1, 2}, 1);
  ExpectDoubled(h, 1, 1, {1, 2}, 1);
  EXPECT_EQ(h.results.Get(0)->queue_ms, 0);
  EXPECT_EQ(h.results.Get(0)->infer_ms, 25);
  EXPECT_EQ(h.results.Get(1)->queue_ms, 25);
  EXPECT_EQ(h.results.Get(1)->infer_ms, 0);
}

// --- engine instances (design §6.3) ------------------------------------------------

// Options for one instance on `clock` that leaves service after `threshold`
// faults in a row and recreates its engine with `recreate`.
ModelScheduler::Options Recovering(
    const FakeMonotonicClock& clock, int threshold,
    std::function<absl::StatusOr<std::unique_ptr<LoadedModel>>()> recreate, int instances = 1) {
  ModelScheduler::Options options = On(clock);
  options.instances = instances;
  options.failure_threshold = threshold;
  options.recovery_backoff = milliseconds(1000);
  options.recovery_backoff_max = milliseconds(3000);
  options.recreate = std::move(recreate);
  return options;
}

// Counts its calls and hands out healthy FakeModels, after `failures` errors.
struct Recreator {
  std::atomic<int> calls{0};
  int failures = 0;
  std::function<absl::StatusOr<std::unique_ptr<LoadedModel>>()> Factory() {
    return [this]() -> absl::StatusOr<std::unique_ptr<LoadedModel>> {
      if (++calls <= failures) return absl::InternalError("the device is gone");
      return std::make_unique<FakeModel>();
    };
  }
};

// Submits job `id` and waits for its answer.
absl::Status RunJob(Harness& h, int id, size_t answers) {
  RETURN_IF_ERROR(h.scheduler->Submit(h.Job(id, static_cast<float>(id))));
  if (!h.results.WaitFor(answers)) return absl::DeadlineExceededError("no answer");
  return h.results.Get(id).status();
}

InstanceState StateOf(const ModelScheduler& s, int instance = 0) {
  return s.Instances().at(instance).state;
}

TEST(ModelSchedulerInstanceTest, InstancesStartReadyAndCountTheirRuns) {
  Harness h({});
  ASSERT_TRUE(RunJob(h, 1, 1).ok());
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kReady; }));
  const InstanceStatus s = h.scheduler->Instances().at(0);
  EXPECT_EQ(s.runs, 1);
  EXPECT_EQ(s.failures, 0);
  EXPECT_EQ(h.scheduler->serving(), 1);
  EXPECT_EQ(InstanceStateName(InstanceState::kRecovering), "recovering");
}

TEST(ModelSchedulerInstanceTest, AnInstanceIsBusyWhileItsEngineRuns) {
  Harness h({});
  ASSERT_TRUE(h.HoldWorker());
  EXPECT_EQ(StateOf(*h.scheduler), InstanceState::kBusy);
  EXPECT_EQ(h.scheduler->serving(), 1);  // busy instances are in service
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(1));
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kReady; }));
}

TEST(ModelSchedulerInstanceTest, RepeatedEngineFaultsTakeTheInstanceOutUntilItIsRecreated) {
  FakeMonotonicClock clock;
  Recreator recreator;
  Harness h(Recovering(clock, 3, recreator.Factory()));
  h.model.Fail(absl::InternalError("CUDA error: an illegal memory access"));
  EXPECT_EQ(ErrorCodeOf(RunJob(h, 1, 1)), "INTERNAL");
  EXPECT_EQ(ErrorCodeOf(RunJob(h, 2, 2)), "INTERNAL");
  ASSERT_TRUE(Eventually([&] { return h.scheduler->Instances()[0].failures == 2; }));
  EXPECT_EQ(StateOf(*h.scheduler), InstanceState::kReady);  // two in a row: still serving
  EXPECT_EQ(ErrorCodeOf(RunJob(h, 3, 3)), "INTERNAL");
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kError; }));
  EXPECT_EQ(h.scheduler->serving(), 0);
  InstanceStatus s = h.scheduler->Instances()[0];
  EXPECT_EQ(s.runs, 3);
  EXPECT_EQ(s.consecutive_failures, 3);
  EXPECT_EQ(s.last_error, "CUDA error: an illegal memory access");

  // Out of service: refused at once, never queued for a dead engine.
  const absl::Status refused = h.scheduler->Submit(h.Job(4, 4));
  EXPECT_EQ(ErrorCodeOf(refused), "MODEL_NOT_READY");
  EXPECT_EQ(RetryAfterOf(refused), 1);

  clock.Advance(milliseconds(999));
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(recreator.calls, 0);  // the back-off is not over
  clock.Advance(milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kReady; }));
  EXPECT_EQ(recreator.calls, 1);
  s = h.scheduler->Instances()[0];
  EXPECT_EQ(s.recoveries, 1);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_EQ(s.failures, 3);

  // The instance now runs its recreated engine, not the broken one.
  ASSERT_TRUE(RunJob(h, 5, 4).ok());
  ExpectDoubled(h, 5, 5, {1, 2}, 1);
  EXPECT_EQ(h.model.calls(), 3);
}

TEST(ModelSchedulerInstanceTest, FailedRecreationsBackOffExponentiallyUpToTheCap) {
  FakeMonotonicClock clock;
  Recreator recreator;
  recreator.failures = 3;
  Harness h(Recovering(clock, 1, recreator.Factory()));
  h.model.Fail(absl::UnknownError("engine crashed"));
  EXPECT_EQ(RunJob(h, 1, 1).code(), absl::StatusCode::kUnknown);
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kError; }));
  // Attempts at 1 s, then 1 + 2 = 3 s, then 3 + 3 (capped from 4) = 6 s, then 6 + 3 = 9 s.
  const std::pair<int, int> steps[] = {{1000, 1}, {2000, 2}, {3000, 3}, {3000, 4}};
  for (const auto& step : steps) {
    const int wait = step.first, calls = step.second;  // clang 14: no captured bindings
    clock.Advance(milliseconds(wait - 1));
    std::this_thread::sleep_for(milliseconds(20));
    EXPECT_EQ(recreator.calls, calls - 1) << "after " << wait - 1 << " ms";
    clock.Advance(milliseconds(1));
    ASSERT_TRUE(Eventually([&] { return recreator.calls == calls; })) << calls;
    ASSERT_TRUE(Eventually([&] {
      const InstanceState st = StateOf(*h.scheduler);
      return st == InstanceState::kError || st == InstanceState::kReady;
    }));
  }
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kReady; }));
  EXPECT_EQ(h.scheduler->Instances()[0].recoveries, 1);
}

TEST(ModelSchedulerInstanceTest, TheOtherInstancesServeWhileOneRecovers) {
  FakeMonotonicClock clock;
  Recreator recreator;
  Harness h(Recovering(clock, 1, recreator.Factory(), /*instances=*/2));
  h.model.Fail(absl::InternalError("engine fault"));
  EXPECT_EQ(ErrorCodeOf(RunJob(h, 1, 1)), "INTERNAL");
  ASSERT_TRUE(Eventually([&] { return h.scheduler->serving() == 1; }));
  h.model.Fail(absl::OkStatus());
  ASSERT_TRUE(RunJob(h, 2, 2).ok());  // the healthy instance (still on the shared engine)
  ExpectDoubled(h, 2, 2, {1, 2}, 1);
  int errors = 0, ready = 0;
  for (const InstanceStatus& s : h.scheduler->Instances()) {
    errors += s.state == InstanceState::kError;
    ready += s.state == InstanceState::kReady || s.state == InstanceState::kBusy;
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(ready, 1);
  EXPECT_EQ(ServingStateOf(h.scheduler->Instances()), "degraded");
  EXPECT_EQ(recreator.calls, 0);
}

TEST(ModelSchedulerInstanceTest, QueuedJobsFailWhenTheLastInstanceLeavesService) {
  FakeMonotonicClock clock;
  Recreator recreator;
  Harness h(Recovering(clock, 1, recreator.Factory()));
  h.model.Fail(absl::InternalError("engine fault"));
  ASSERT_TRUE(h.HoldWorker());
  ASSERT_TRUE(h.scheduler->Submit(h.Job(1, 1)).ok());  // waits behind job 0
  h.model.Open();
  ASSERT_TRUE(h.results.WaitFor(2));
  EXPECT_EQ(ErrorCodeOf(h.results.Get(0).status()), "INTERNAL");
  EXPECT_EQ(ErrorCodeOf(h.results.Get(1).status()), "MODEL_NOT_READY");
  EXPECT_EQ(h.model.calls(), 1);  // job 1 never reached the engine
}

TEST(ModelSchedulerInstanceTest, BadRequestsDoNotCountAgainstTheInstance) {
  FakeMonotonicClock clock;
  Recreator recreator;
  Harness h(Recovering(clock, 1, recreator.Factory()));
  h.model.Fail(absl::InvalidArgumentError("input x has the wrong shape"));
  EXPECT_EQ(RunJob(h, 1, 1).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Eventually([&] { return h.scheduler->Instances()[0].runs == 1; }));
  EXPECT_EQ(StateOf(*h.scheduler), InstanceState::kReady);
  EXPECT_EQ(h.scheduler->Instances()[0].failures, 0);
  EXPECT_FALSE(IsEngineFault(absl::DeadlineExceededError("x")));
  EXPECT_TRUE(IsEngineFault(absl::ResourceExhaustedError("out of device memory")));
}

TEST(ModelSchedulerInstanceTest, WithoutARecreateTheInstanceReturnsToItsEngine) {
  FakeMonotonicClock clock;
  Harness h(Recovering(clock, 1, nullptr));
  h.model.Fail(absl::InternalError("transient"));
  EXPECT_EQ(ErrorCodeOf(RunJob(h, 1, 1)), "INTERNAL");
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kError; }));
  h.model.Fail(absl::OkStatus());
  clock.Advance(milliseconds(1000));
  ASSERT_TRUE(Eventually([&] { return StateOf(*h.scheduler) == InstanceState::kReady; }));
  ASSERT_TRUE(RunJob(h, 2, 2).ok());
  EXPECT_EQ(h.model.calls(), 2);  // the same engine
}

TEST(ModelSchedulerInstanceTest, DestroyingDuringTheBackOffDoesNotWaitForIt) {
  FakeMonotonicClock clock;
  Recreator recreator;
  auto h = std::make_unique<Harness>(Recovering(clock, 1, recreator.Factory()));
  h->model.Fail(absl::InternalError("engine fault"));
  EXPECT_EQ(ErrorCodeOf(RunJob(*h, 1, 1)), "INTERNAL");
  ASSERT_TRUE(Eventually([&] { return StateOf(*h->scheduler) == InstanceState::kError; }));
  h.reset();  // the fake clock never reaches the end of the back-off
  EXPECT_EQ(recreator.calls, 0);
}

}  // namespace
}  // namespace cinfer
