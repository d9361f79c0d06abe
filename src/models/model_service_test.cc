// ModelService over in-memory stores: the model lifecycle as the service
// drives it (create, publish, unpublish, version switch, failed loads, restart
// recovery, refused transitions), asserting the stored rows, the audit log and
// what the ServingRegistry serves after each step. The engine is a fake; the
// validator is the real ModelValidator running a shell script that stands in
// for `cinfer model inspect`.
#include "models/model_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/errors.h"
#include "common/time_format.h"
#include "engines/model_format.h"
#include "engines/model_inspection.h"
#include "metrics/metrics.h"
#include "models/serving_metrics.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// ---------------------------------------------------------------------------
// Fake stores
// ---------------------------------------------------------------------------

// Models and versions in memory, with the SQLite store's contract
// (storage/database.h). Also records every status a model was stored with.
class FakeModelStore final : public ModelStore {
 public:
  absl::Status CreateModel(const ModelRecord& model, const ModelVersionRecord& version) override {
    std::lock_guard lock(mu_);
    if (!create_error_.ok()) return std::exchange(create_error_, absl::OkStatus());
    for (const auto& m : models_) {
      if (m.name == model.name) return absl::AlreadyExistsError("name taken");
    }
    models_.push_back(model);
    versions_[model.id] = {version};
    history_[model.id].push_back(model.status);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<ModelRecord>> FindModel(std::string_view id) override {
    std::lock_guard lock(mu_);
    const ModelRecord* m = FindLocked(id);
    if (m == nullptr) return std::optional<ModelRecord>();
    return std::optional<ModelRecord>(*m);
  }

  absl::StatusOr<std::vector<ModelRecord>> ListModels(const ModelFilter& f,
                                                      int64_t* total) override {
    std::lock_guard lock(mu_);
    if (!list_error_.ok()) return std::exchange(list_error_, absl::OkStatus());
    std::vector<ModelRecord> matching;
    for (auto it = models_.rbegin(); it != models_.rend(); ++it) {  // newest first
      if (!f.status.empty() && it->status != f.status) continue;
      if (!f.engine.empty() && it->engine != f.engine) continue;
      if (!f.name.empty() && it->name.find(f.name) == std::string::npos) continue;
      matching.push_back(*it);
    }
    *total = static_cast<int64_t>(matching.size());
    std::vector<ModelRecord> page;
    for (int64_t i = f.offset; i < *total && i < f.offset + f.limit; ++i) {
      page.push_back(matching[static_cast<size_t>(i)]);
    }
    return page;
  }

  absl::StatusOr<std::vector<ModelVersionRecord>> ListVersions(std::string_view model_id) override {
    std::lock_guard lock(mu_);
    auto it = versions_.find(std::string(model_id));
    if (it == versions_.end()) return std::vector<ModelVersionRecord>();
    std::vector<ModelVersionRecord> out = it->second;
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.version < b.version; });
    return out;
  }

  absl::Status DeleteModel(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto it = std::find_if(models_.begin(), models_.end(), [&](auto& m) { return m.id == id; });
    if (it == models_.end()) return absl::NotFoundError("no such model");
    models_.erase(it);
    versions_.erase(std::string(id));
    return absl::OkStatus();
  }

  absl::Status UpdateModel(const ModelRecord& model) override {
    std::lock_guard lock(mu_);
    if (!update_error_.ok()) return std::exchange(update_error_, absl::OkStatus());
    ModelRecord* m = FindLocked(model.id);
    if (m == nullptr) return absl::NotFoundError("no such model");
    for (const auto& other : models_) {
      if (other.id != model.id && other.name == model.name) {
        return absl::AlreadyExistsError("name taken");
      }
    }
    const std::string created_by = m->created_by, created_at = m->created_at;
    *m = model;
    m->created_by = created_by;  // not mutable columns
    m->created_at = created_at;
    history_[model.id].push_back(model.status);
    return absl::OkStatus();
  }

  absl::Status AddVersion(const ModelVersionRecord& version) override {
    std::lock_guard lock(mu_);
    if (FindLocked(version.model_id) == nullptr) return absl::NotFoundError("no such model");
    auto& versions = versions_[version.model_id];
    for (const auto& v : versions) {
      if (v.version == version.version) return absl::AlreadyExistsError("version exists");
    }
    versions.push_back(version);
    return absl::OkStatus();
  }

  absl::Status UpdateVersionConfig(std::string_view model_id, int64_t version,
                                   std::string_view config) override {
    std::lock_guard lock(mu_);
    auto it = versions_.find(std::string(model_id));
    if (it != versions_.end()) {
      for (auto& v : it->second) {
        if (v.version == version) {
          v.config = std::string(config);
          return absl::OkStatus();
        }
      }
    }
    return absl::NotFoundError("no such version");
  }

  // Test controls and views.
  void FailNextCreate(absl::Status error) {
    std::lock_guard lock(mu_);
    create_error_ = std::move(error);
  }
  void FailNextUpdate(absl::Status error) {
    std::lock_guard lock(mu_);
    update_error_ = std::move(error);
  }
  void FailNextList(absl::Status error) {
    std::lock_guard lock(mu_);
    list_error_ = std::move(error);
  }
  size_t ModelCount() {
    std::lock_guard lock(mu_);
    return models_.size();
  }
  // Every status `id` was stored with, in order.
  std::vector<std::string> StatusHistory(const std::string& id) {
    std::lock_guard lock(mu_);
    return history_[id];
  }

 private:
  ModelRecord* FindLocked(std::string_view id) {
    for (auto& m : models_) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }

  std::mutex mu_;
  std::vector<ModelRecord> models_;  // in insertion order
  std::map<std::string, std::vector<ModelVersionRecord>> versions_;
  std::map<std::string, std::vector<std::string>> history_;
  absl::Status create_error_, update_error_, list_error_;
};

// The audit log in memory, in append order.
class FakeAuditStore final : public AuditStore {
 public:
  absl::Status AppendAudit(const AuditEntry& entry) override {
    std::lock_guard lock(mu_);
    entries_.push_back(entry);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<AuditEntry>> RecentAudit(int limit) override {
    AuditFilter f;
    f.limit = limit;
    int64_t total = 0;
    return QueryAudit(f, &total);
  }
  absl::StatusOr<std::vector<AuditEntry>> QueryAudit(const AuditFilter& f,
                                                     int64_t* total) override {
    std::lock_guard lock(mu_);
    std::vector<AuditEntry> matching;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {  // newest first
      if (!f.actor.empty() && it->actor != f.actor) continue;
      if (!f.action.empty() && it->action.rfind(f.action, 0) != 0) continue;
      if (!f.from.empty() && it->created_at < f.from) continue;
      if (!f.to.empty() && it->created_at >= f.to) continue;
      matching.push_back(*it);
    }
    *total = static_cast<int64_t>(matching.size());
    std::vector<AuditEntry> page;
    for (int64_t i = f.offset; i < *total && i < f.offset + f.limit; ++i) {
      page.push_back(matching[static_cast<size_t>(i)]);
    }
    return page;
  }

  // The rows about `object_id`, oldest first.
  std::vector<AuditEntry> For(const std::string& object_id) {
    std::lock_guard lock(mu_);
    std::vector<AuditEntry> out;
    for (const auto& e : entries_) {
      if (e.object_id == object_id) out.push_back(e);
    }
    return out;
  }
  std::vector<std::string> ActionsFor(const std::string& object_id) {
    std::vector<std::string> out;
    for (const auto& e : For(object_id)) out.push_back(e.action);
    return out;
  }
  size_t Count() {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  std::mutex mu_;
  std::vector<AuditEntry> entries_;
};

// ---------------------------------------------------------------------------
// Fake engine
// ---------------------------------------------------------------------------

// What the fake engine does, shared with the models it loads.
struct FakeEngineControl {
  std::mutex mu;
  absl::Status load_error;  // returned by Load when set
  absl::Status run_error;   // returned by Run when set
  std::vector<std::string> loaded_paths;

  void FailLoads(absl::Status error) {
    std::lock_guard lock(mu);
    load_error = std::move(error);
  }
  void FailRuns(absl::Status error) {
    std::lock_guard lock(mu);
    run_error = std::move(error);
  }
  std::vector<std::string> Loaded() {
    std::lock_guard lock(mu);
    return loaded_paths;
  }
};

// Input "x" FP32 [-1, 2], output "y" = 2x of the same shape.
class FakeLoadedModel final : public LoadedModel {
 public:
  FakeLoadedModel(std::shared_ptr<FakeEngineControl> control, std::string path)
      : control_(std::move(control)), path_(std::move(path)) {}

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::vector<std::string> devices() const override { return {"cpu"}; }
  bool SupportsConcurrentRun() const override { return true; }

  absl::StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs) const override {
    {
      std::lock_guard lock(control_->mu);
      if (!control_->run_error.ok()) return control_->run_error;
    }
    if (absl::Status st = CheckInputs(inputs_, inputs); !st.ok()) return st;
    Tensor y = inputs[0];
    y.name = "y";
    for (size_t i = 0; i < y.data.size() / sizeof(float); ++i) y.As<float>()[i] *= 2;
    return std::vector<Tensor>{std::move(y)};
  }

  const std::string& path() const { return path_; }

 private:
  std::shared_ptr<FakeEngineControl> control_;
  std::string path_;
  std::vector<TensorSpec> inputs_{{"x", DataType::kFp32, {-1, 2}}};
  std::vector<TensorSpec> outputs_{{"y", DataType::kFp32, {-1, 2}}};
};

class FakeEngine final : public Engine {
 public:
  explicit FakeEngine(std::shared_ptr<FakeEngineControl> control) : control_(std::move(control)) {}
  std::string_view name() const override { return "fake"; }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& path,
                                                    const LoadOptions& /*options*/) const override {
    std::lock_guard lock(control_->mu);
    if (!control_->load_error.ok()) return control_->load_error;
    control_->loaded_paths.push_back(path);
    return std::unique_ptr<LoadedModel>(std::make_unique<FakeLoadedModel>(control_, path));
  }

 private:
  std::shared_ptr<FakeEngineControl> control_;
};

// Stands in for `cinfer model inspect PATH [flags]`: the first line of the
// file decides the report. REJECT: the validator rejects it; IO2: output "z"
// instead of "y" (an incompatible version); anything else: the fake model.
constexpr char kInspectScript[] = R"(#!/bin/sh
IFS= read -r kind < "$3"
x='{"name":"x","datatype":"FP32","shape":[-1,2]}'
case "$kind" in
  REJECT*) echo '{"error":{"message":"not a model file: unknown format"}}'; exit 1 ;;
  IO2*) out='{"name":"z","datatype":"FP32","shape":[-1,2]}' ;;
  *) out='{"name":"y","datatype":"FP32","shape":[-1,2]}' ;;
esac
echo "{\"engine\":\"fake\",\"format\":\"onnx\",\"inputs\":[$x],\"outputs\":[$out],\"devices\":[\"cpu\"],\"load_ms\":1,\"test_infer_ms\":1,\"peak_rss_mb\":1}"
)";

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json Detail(const AuditEntry& e) { return nlohmann::json::parse(e.detail); }

class ModelServiceTest : public ::testing::Test {
 protected:
  ModelServiceTest() {
    fs::create_directories(models_dir_);
    {
      std::ofstream script(inspect_, std::ios::binary);
      script << kInspectScript;
    }
    fs::permissions(inspect_, fs::perms::owner_all);
    engines_.Add(std::make_unique<FakeEngine>(control_), {ModelFormat::kOnnx});
    validator_ = std::make_unique<ModelValidator>(
        ModelValidator::Options{inspect_, "", 4096, 30, std::chrono::seconds(30)});
    service_ = NewService(&serving_);
  }

  std::unique_ptr<ModelService> NewService(
      ServingRegistry* serving,
      std::chrono::milliseconds drain_timeout = std::chrono::seconds(10)) {
    ModelService::Options o;
    o.models_dir = models_dir_;
    o.drain_timeout = drain_timeout;
    o.queue_size = 8;
    o.cores = 1;
    o.metrics = &metrics_;
    return std::make_unique<ModelService>(o, &store_, &audit_, validator_.get(), &engines_, serving,
                                          &clock_);
  }

  // A spooled upload holding `content` (its first line steers the fake validator).
  ModelUpload Upload(const std::string& name, const std::string& content = "MODEL\n") {
    ModelUpload up;
    up.name = name;
    up.file_path = dir_.File("upload-" + std::to_string(++uploads_));
    {
      std::ofstream out(up.file_path, std::ios::binary);
      out << content;
    }
    up.original_filename = "model.onnx";
    up.size_bytes = content.size();
    up.sha256 = std::string(64, 'a' + static_cast<char>(uploads_ % 26));
    return up;
  }

  // A created model's id (the test fails when Create does).
  std::string CreateModel(const std::string& name, const std::string& content = "MODEL\n") {
    auto m = service_->Create(Upload(name, content), alice_);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? m->id : std::string();
  }

  ModelRecord Stored(const std::string& id) {
    auto m = store_.FindModel(id);
    EXPECT_TRUE(m.ok() && m->has_value()) << "no stored model " << id;
    return m.ok() && m->has_value() ? **m : ModelRecord{};
  }

  // Overwrites the stored status, as a crash in the middle of a transition leaves it.
  void ForceStatus(const std::string& id, const std::string& status) {
    ModelRecord m = Stored(id);
    m.status = status;
    ASSERT_TRUE(store_.UpdateModel(m).ok());
  }

  std::string VersionDir(const std::string& id, int64_t version) const {
    return models_dir_ + "/" + id + "/v" + std::to_string(version);
  }

  // Every path under the models dir, relative to it.
  std::vector<std::string> ModelsDirEntries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(models_dir_)) {
      out.push_back(fs::relative(e.path(), models_dir_).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::TempDir dir_;
  const std::string models_dir_ = dir_.File("models");
  const std::string inspect_ = dir_.File("fake-cinfer");
  FakeModelStore store_;
  FakeAuditStore audit_;
  FakeClock clock_;
  std::shared_ptr<FakeEngineControl> control_ = std::make_shared<FakeEngineControl>();
  EngineRegistry engines_;
  std::unique_ptr<ModelValidator> validator_;
  ServingRegistry serving_;
  Metrics metrics_;  // every service NewService makes records its loads here
  std::unique_ptr<ModelService> service_;
  const Actor alice_{"alice", "user-1", "10.0.0.1"};
  int uploads_ = 0;
};

void ExpectCode(const absl::Status& st, std::string_view code, int http) {
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(ErrorCodeOf(st), code) << st;
  EXPECT_EQ(HttpStatusFor(st), http) << st;
}

// What a scrape of `metrics` shows, in the Prometheus text format.
std::string Scrape(const Metrics& metrics) { return metrics.Render(Metrics::Format::kPrometheus); }

// The {"state": ...} details of a MODEL_STATE_CONFLICT.
std::string ConflictState(const absl::Status& st) {
  auto details = DetailsOf(st);
  if (!details.has_value()) return "<no details>";
  return nlohmann::json::parse(*details).value("state", "<no state>");
}

// ---------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------

TEST_F(ModelServiceTest, CreateStoresDraftWithVersionOneAndItsFile) {
  ModelUpload up = Upload("resnet", "MODEL bytes\n");
  const std::string spooled = up.file_path;
  auto created = service_->Create(up, alice_);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string id = created->id;
  const std::string now = FormatIso8601(clock_.Now());

  ModelRecord m = Stored(id);
  EXPECT_EQ(m.name, "resnet");
  EXPECT_EQ(m.engine, "fake");  // from the validator's report
  EXPECT_EQ(m.status, "draft");
  EXPECT_EQ(m.current_version, 1);
  EXPECT_FALSE(m.served_version.has_value());
  EXPECT_FALSE(m.status_reason.has_value());
  EXPECT_EQ(m.created_by, "user-1");
  EXPECT_EQ(m.created_at, now);
  EXPECT_EQ(m.updated_at, now);
  auto io = nlohmann::json::parse(m.io_schema);
  EXPECT_EQ(io["inputs"][0]["name"], "x");
  EXPECT_EQ(io["outputs"][0]["name"], "y");

  auto versions = store_.ListVersions(id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  const ModelVersionRecord& v = versions->front();
  EXPECT_EQ(v.version, 1);
  EXPECT_EQ(v.model_id, id);
  EXPECT_EQ(v.file_path, VersionDir(id, 1) + "/model.onnx");
  EXPECT_EQ(v.original_filename, "model.onnx");
  EXPECT_EQ(v.sha256, up.sha256);
  EXPECT_EQ(v.size_bytes, static_cast<int64_t>(up.size_bytes));
  EXPECT_EQ(v.config, m.config);
  EXPECT_EQ(v.io_schema, m.io_schema);
  // The upload was moved, not copied, into the store.
  EXPECT_EQ(ReadFile(v.file_path), "MODEL bytes\n");
  EXPECT_FALSE(fs::exists(spooled));

  auto rows = audit_.For(id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "model.create");
  EXPECT_EQ(rows[0].actor, "alice");
  EXPECT_EQ(rows[0].object_type, "model");
  EXPECT_EQ(rows[0].client_ip, "10.0.0.1");
  EXPECT_EQ(rows[0].created_at, now);
  EXPECT_EQ(Detail(rows[0])["name"], "resnet");
  EXPECT_EQ(Detail(rows[0])["sha256"], up.sha256);

  EXPECT_EQ(serving_.Find(id), nullptr);  // a draft is not served
  EXPECT_TRUE(control_->Loaded().empty());
  auto got = service_->Get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "draft");
}

TEST_F(ModelServiceTest, RejectedUploadLeavesNoRowNoFileNoAudit) {
  auto st = service_->Create(Upload("broken", "REJECT\n"), alice_);
  ExpectCode(st.status(), "MODEL_REJECTED", 422);
  EXPECT_THAT(std::string(st.status().message()), HasSubstr("unknown format"));
  EXPECT_EQ(store_.ModelCount(), 0u);
  EXPECT_TRUE(ModelsDirEntries().empty());
  EXPECT_EQ(audit_.Count(), 0u);

  // Refused before validation: an unknown engine and a bad name.
  ModelUpload bad_engine = Upload("tf");
  bad_engine.engine = "tensorflow";
  ExpectCode(service_->Create(bad_engine, alice_).status(), "VALIDATION_FAILED", 422);
  ExpectCode(service_->Create(Upload(""), alice_).status(), "VALIDATION_FAILED", 422);
  EXPECT_EQ(store_.ModelCount(), 0u);
  EXPECT_TRUE(ModelsDirEntries().empty());
  EXPECT_EQ(audit_.Count(), 0u);
}

TEST_F(ModelServiceTest, DuplicateNameIsRefusedAndLeavesOneModel) {
  const std::string id = CreateModel("detector");
  ExpectCode(service_->Create(Upload("detector"), alice_).status(), "MODEL_NAME_TAKEN", 409);
  EXPECT_EQ(store_.ModelCount(), 1u);
  EXPECT_THAT(ModelsDirEntries(), ElementsAre(id, id + "/v1", id + "/v1/model.onnx"));
  EXPECT_EQ(audit_.Count(), 1u);
}

TEST_F(ModelServiceTest, StoreFailureOnCreateRemovesTheStoredFile) {
  store_.FailNextCreate(absl::InternalError("disk I/O error"));
  auto st = service_->Create(Upload("unlucky"), alice_);
  EXPECT_EQ(st.status().code(), absl::StatusCode::kInternal) << st.status();
  EXPECT_EQ(store_.ModelCount(), 0u);
  EXPECT_TRUE(ModelsDirEntries().empty());
  EXPECT_EQ(audit_.Count(), 0u);
}

// ---------------------------------------------------------------------------
// Publish / unpublish
// ---------------------------------------------------------------------------

TEST_F(ModelServiceTest, PublishServesTheModelAndUnpublishDrainsIt) {
  const std::string id = CreateModel("classifier");
  const std::string created_at = Stored(id).created_at;
  clock_.Advance(std::chrono::minutes(1));

  auto published = service_->Publish(id, alice_);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->status, "published");
  EXPECT_EQ(published->served_version, 1);
  ModelRecord m = Stored(id);
  EXPECT_EQ(m.status, "published");
  EXPECT_EQ(m.served_version, 1);
  EXPECT_FALSE(m.status_reason.has_value());
  EXPECT_EQ(m.created_at, created_at);
  EXPECT_EQ(m.updated_at, FormatIso8601(clock_.Now()));
  // Through the lifecycle: draft --publish--> loading --loaded--> published.
  EXPECT_THAT(store_.StatusHistory(id), ElementsAre("draft", "loading", "published"));

  std::shared_ptr<const ServedModel> served = serving_.Find(id);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->model_id, id);
  EXPECT_EQ(served->version, 1);
  EXPECT_EQ(served->engine, "fake");
  EXPECT_NE(served->scheduler, nullptr);
  EXPECT_EQ(service_->Serving(id), served);
  EXPECT_THAT(control_->Loaded(), ElementsAre(VersionDir(id, 1) + "/model.onnx"));

  // A test call runs on the serving instance without loading again.
  auto run = service_->Test(id, std::nullopt, nlohmann::json());
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->served);
  EXPECT_EQ(run->version, 1);
  ASSERT_EQ(run->outputs.size(), 1u);
  EXPECT_EQ(run->outputs[0].name, "y");
  EXPECT_EQ(control_->Loaded().size(), 1u);

  EXPECT_THAT(audit_.ActionsFor(id), ElementsAre("model.create", "model.publish"));
  auto publish_row = audit_.For(id).back();
  EXPECT_EQ(Detail(publish_row)["result"], "ok");
  EXPECT_EQ(Detail(publish_row)["version"], 1);

  std::weak_ptr<const ServedModel> watch = served;
  served.reset();
  auto unpublished = service_->Unpublish(id, alice_);
  ASSERT_TRUE(unpublished.ok()) << unpublished.status();
  EXPECT_EQ(unpublished->status, "unpublished");
  m = Stored(id);
  EXPECT_EQ(m.status, "unpublished");
  EXPECT_FALSE(m.served_version.has_value());
  EXPECT_THAT(store_.StatusHistory(id),
              ElementsAre("draft", "loading", "published", "draining", "unpublished"));
  EXPECT_EQ(serving_.Find(id), nullptr);
  EXPECT_EQ(service_->Serving(id), nullptr);
  EXPECT_TRUE(watch.expired());  // the loaded version was released
  EXPECT_THAT(audit_.ActionsFor(id),
              ElementsAre("model.create", "model.publish", "model.unpublish"));
  auto unpublish_row = audit_.For(id).back();
  EXPECT_EQ(Detail(unpublish_row)["drained"], true);
  EXPECT_EQ(Detail(unpublish_row)["in_flight_at_start"], 0);

  // Not served: a test call loads the version for itself.
  run = service_->Test(id, std::nullopt, nlohmann::json());
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FALSE(run->served);
  EXPECT_EQ(control_->Loaded().size(), 2u);

  // unpublished --publish--> loading --loaded--> published again.
  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  EXPECT_EQ(Stored(id).status, "published");
  ASSERT_NE(serving_.Find(id), nullptr);
}

TEST_F(ModelServiceTest, UnpublishWaitsForInFlightRequests) {
  const std::string id = CreateModel("busy");
  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  std::shared_ptr<const ServedModel> request = serving_.Find(id);
  ASSERT_NE(request, nullptr);
  auto counted = std::make_unique<InFlight>(*request);
  std::weak_ptr<const ServedModel> watch = request;

  std::atomic<bool> released{false};
  std::thread finisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    released = true;
    counted.reset();
    request.reset();
  });
  auto unpublished = service_->Unpublish(id, alice_);  // drain timeout: 10 s
  const bool released_before_return = released.load();
  finisher.join();
  ASSERT_TRUE(unpublished.ok()) << unpublished.status();
  EXPECT_TRUE(released_before_return) << "Unpublish returned before the request ended";
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(Stored(id).status, "unpublished");
  auto row = audit_.For(id).back();
  EXPECT_EQ(row.action, "model.unpublish");
  EXPECT_EQ(Detail(row)["in_flight_at_start"], 1);
  EXPECT_EQ(Detail(row)["drained"], true);
}

TEST_F(ModelServiceTest, UnpublishPastTheDrainTimeoutStillUnpublishes) {
  auto service = NewService(&serving_, std::chrono::milliseconds(30));
  auto created = service->Create(Upload("stuck"), alice_);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string id = created->id;
  ASSERT_TRUE(service->Publish(id, alice_).ok());
  std::shared_ptr<const ServedModel> request = serving_.Find(id);
  ASSERT_NE(request, nullptr);
  InFlight counted(*request);

  auto unpublished = service->Unpublish(id, alice_);
  ASSERT_TRUE(unpublished.ok()) << unpublished.status();
  EXPECT_EQ(Stored(id).status, "unpublished");
  EXPECT_FALSE(Stored(id).served_version.has_value());
  EXPECT_EQ(serving_.Find(id), nullptr);
  auto row = audit_.For(id).back();
  EXPECT_EQ(row.action, "model.unpublish");
  EXPECT_EQ(Detail(row)["drained"], false);
  EXPECT_EQ(Detail(row)["in_flight_at_start"], 1);
  // The request still finishes on the version it started with.
  auto inputs = SyntheticInputs(request->model->inputs(), {});
  ASSERT_TRUE(inputs.ok());
  EXPECT_TRUE(request->model->Run(*inputs).ok());
}

// ---------------------------------------------------------------------------
// Failed loads
// ---------------------------------------------------------------------------

TEST_F(ModelServiceTest, FailedEngineLoadRecordsFailedAndServesNothing) {
  const std::string id = CreateModel("corrupt");
  control_->FailLoads(absl::InternalError("weights are corrupt"));

  auto st = service_->Publish(id, alice_);
  ExpectCode(st.status(), "MODEL_LOAD_FAILED", 422);
  EXPECT_THAT(std::string(st.status().message()), HasSubstr("weights are corrupt"));
  ModelRecord m = Stored(id);
  EXPECT_EQ(m.status, "failed");
  ASSERT_TRUE(m.status_reason.has_value());
  EXPECT_THAT(*m.status_reason, HasSubstr("weights are corrupt"));
  EXPECT_FALSE(m.served_version.has_value());
  EXPECT_THAT(store_.StatusHistory(id), ElementsAre("draft", "loading", "failed"));
  EXPECT_EQ(serving_.Find(id), nullptr);
  auto row = audit_.For(id).back();
  EXPECT_EQ(row.action, "model.publish");
  EXPECT_EQ(Detail(row)["result"], "failed");
  EXPECT_THAT(Detail(row)["reason"].get<std::string>(), HasSubstr("weights are corrupt"));

  // failed --publish--> loading is legal: it fails again, then succeeds once the
  // engine can load it, clearing the reason.
  ExpectCode(service_->Publish(id, alice_).status(), "MODEL_LOAD_FAILED", 422);
  EXPECT_EQ(Stored(id).status, "failed");
  control_->FailLoads(absl::OkStatus());
  auto published = service_->Publish(id, alice_);
  ASSERT_TRUE(published.ok()) << published.status();
  m = Stored(id);
  EXPECT_EQ(m.status, "published");
  EXPECT_FALSE(m.status_reason.has_value());
  EXPECT_EQ(m.served_version, 1);
  ASSERT_NE(serving_.Find(id), nullptr);
}

TEST_F(ModelServiceTest, FailedWarmUpInferenceRecordsFailed) {
  const std::string id = CreateModel("crashy");
  control_->FailRuns(absl::InternalError("kernel exploded"));
  ExpectCode(service_->Publish(id, alice_).status(), "MODEL_LOAD_FAILED", 422);
  ModelRecord m = Stored(id);
  EXPECT_EQ(m.status, "failed");
  ASSERT_TRUE(m.status_reason.has_value());
  EXPECT_THAT(*m.status_reason, HasSubstr("inference failed"));
  EXPECT_THAT(*m.status_reason, HasSubstr("kernel exploded"));
  EXPECT_EQ(serving_.Find(id), nullptr);
}

TEST_F(ModelServiceTest, MissingModelFileFailsThePublishAndTheModelCanBeDeleted) {
  const std::string id = CreateModel("vanished");
  fs::remove(VersionDir(id, 1) + "/model.onnx");
  auto st = service_->Publish(id, alice_);
  ExpectCode(st.status(), "MODEL_LOAD_FAILED", 422);
  ModelRecord m = Stored(id);
  EXPECT_EQ(m.status, "failed");
  ASSERT_TRUE(m.status_reason.has_value());
  EXPECT_THAT(*m.status_reason, HasSubstr("missing"));
  EXPECT_TRUE(control_->Loaded().empty());  // never reached the engine
  EXPECT_EQ(serving_.Find(id), nullptr);

  ASSERT_TRUE(service_->Delete(id, alice_).ok());  // failed models may be deleted
  EXPECT_EQ(store_.ModelCount(), 0u);
  EXPECT_FALSE(fs::exists(models_dir_ + "/" + id));
  EXPECT_EQ(audit_.ActionsFor(id).back(), "model.delete");
  ExpectCode(service_->Get(id).status(), "MODEL_NOT_FOUND", 404);
}

// ---------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------

TEST_F(ModelServiceTest, ActivatingASecondVersionSwitchesWhatIsServed) {
  const std::string id = CreateModel("switcher");
  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  std::shared_ptr<const ServedModel> v1 = serving_.Find(id);
  ASSERT_NE(v1, nullptr);

  auto added = service_->AddVersion(id, Upload("ignored", "MODEL two\n"), alice_);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->version, 2);
  EXPECT_EQ(added->file_path, VersionDir(id, 2) + "/model.onnx");
  EXPECT_EQ(ReadFile(added->file_path), "MODEL two\n");
  auto versions = store_.ListVersions(id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].version, 2);
  // A new version is not current until activated; v1 keeps serving.
  EXPECT_EQ(Stored(id).current_version, 1);
  EXPECT_EQ(serving_.Find(id), v1);
  EXPECT_EQ(Detail(audit_.For(id).back())["version"], 2);
  EXPECT_EQ(audit_.For(id).back().action, "model.version.create");

  clock_.Advance(std::chrono::seconds(5));
  auto activated = service_->Activate(id, 2, alice_);
  ASSERT_TRUE(activated.ok()) << activated.status();
  EXPECT_EQ(activated->current_version, 2);
  EXPECT_EQ(activated->served_version, 2);
  ModelRecord m = Stored(id);
  EXPECT_EQ(m.status, "published");
  EXPECT_EQ(m.current_version, 2);
  EXPECT_EQ(m.served_version, 2);
  EXPECT_EQ(m.updated_at, FormatIso8601(clock_.Now()));

  std::shared_ptr<const ServedModel> v2 = serving_.Find(id);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->version, 2);
  auto* loaded = dynamic_cast<const FakeLoadedModel*>(v2->model.get());
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->path(), VersionDir(id, 2) + "/model.onnx");
  // The replaced version stays alive for the request holding it, then goes.
  EXPECT_EQ(v1->version, 1);
  std::weak_ptr<const ServedModel> old = v1;
  v1.reset();
  EXPECT_TRUE(old.expired());

  auto row = audit_.For(id).back();
  EXPECT_EQ(row.action, "model.version.activate");
  EXPECT_EQ(Detail(row)["result"], "ok");
  EXPECT_EQ(Detail(row)["version"], 2);
  EXPECT_EQ(Detail(row)["previous"], 1);

  // An unknown version, and a version that fails to load: v2 keeps serving.
  ExpectCode(service_->Activate(id, 7, alice_).status(), "VERSION_NOT_FOUND", 404);
  control_->FailLoads(absl::InternalError("out of memory"));
  ExpectCode(service_->Activate(id, 1, alice_).status(), "MODEL_LOAD_FAILED", 422);
  EXPECT_EQ(serving_.Find(id), v2);
  m = Stored(id);
  EXPECT_EQ(m.status, "published");
  EXPECT_EQ(m.current_version, 2);
  EXPECT_EQ(m.served_version, 2);
  row = audit_.For(id).back();
  EXPECT_EQ(row.action, "model.version.activate");
  EXPECT_EQ(Detail(row)["result"], "failed");
  EXPECT_EQ(Detail(row)["version"], 1);
}

TEST_F(ModelServiceTest, IncompatibleVersionIsRefusedUnlessForced) {
  const std::string id = CreateModel("strict");
  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  ASSERT_TRUE(service_->AddVersion(id, Upload("ignored", "IO2\n"), alice_).ok());

  auto refused = service_->Activate(id, 2, alice_);
  ExpectCode(refused.status(), "INCOMPATIBLE_VERSION", 409);
  auto details = DetailsOf(refused.status());
  ASSERT_TRUE(details.has_value());
  auto d = nlohmann::json::parse(*details);
  EXPECT_EQ(d["served_version"], 1);
  EXPECT_EQ(d["version"], 2);
  EXPECT_FALSE(d["differences"].empty());
  EXPECT_EQ(serving_.Find(id)->version, 1);
  EXPECT_EQ(Stored(id).current_version, 1);
  EXPECT_EQ(control_->Loaded().size(), 1u);  // refused before loading
  EXPECT_EQ(Detail(audit_.For(id).back())["result"], "refused");

  auto forced = service_->Activate(id, 2, alice_, /*force=*/true);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(serving_.Find(id)->version, 2);
  EXPECT_EQ(Stored(id).current_version, 2);
  EXPECT_EQ(Stored(id).served_version, 2);
  EXPECT_EQ(Detail(audit_.For(id).back())["forced"], true);
}

TEST_F(ModelServiceTest, ActivatingOnADraftChangesTheVersionPublishWillServe) {
  const std::string id = CreateModel("staged");
  ASSERT_TRUE(service_->AddVersion(id, Upload("ignored", "MODEL two\n"), alice_).ok());
  auto activated = service_->Activate(id, 2, alice_);
  ASSERT_TRUE(activated.ok()) << activated.status();
  ModelRecord m = Stored(id);
  EXPECT_EQ(m.status, "draft");
  EXPECT_EQ(m.current_version, 2);
  EXPECT_FALSE(m.served_version.has_value());
  EXPECT_TRUE(control_->Loaded().empty());
  EXPECT_EQ(serving_.Find(id), nullptr);

  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  ASSERT_NE(serving_.Find(id), nullptr);
  EXPECT_EQ(serving_.Find(id)->version, 2);
  EXPECT_EQ(Stored(id).served_version, 2);
}

// ---------------------------------------------------------------------------
// Restart
// ---------------------------------------------------------------------------

TEST_F(ModelServiceTest, RestoreServingAfterARestartFinishesInterruptedTransitions) {
  // Published on version 2 while version 3 exists (not current).
  const std::string published = CreateModel("published");
  ASSERT_TRUE(service_->AddVersion(published, Upload("x", "MODEL two\n"), alice_).ok());
  ASSERT_TRUE(service_->Activate(published, 2, alice_).ok());
  ASSERT_TRUE(service_->Publish(published, alice_).ok());
  ASSERT_TRUE(service_->AddVersion(published, Upload("x", "MODEL three\n"), alice_).ok());
  // Stopped while unpublishing, and while publishing.
  const std::string draining = CreateModel("draining");
  ASSERT_TRUE(service_->Publish(draining, alice_).ok());
  ForceStatus(draining, "draining");
  const std::string loading = CreateModel("loading");
  ForceStatus(loading, "loading");
  // A draft, and a published model whose file is gone by the restart.
  const std::string draft = CreateModel("draft");
  const std::string lost = CreateModel("lost");
  ASSERT_TRUE(service_->Publish(lost, alice_).ok());
  fs::remove(VersionDir(lost, 1) + "/model.onnx");

  std::map<std::string, size_t> audit_before;
  for (const auto& id : {published, draining, loading, draft, lost}) {
    audit_before[id] = audit_.For(id).size();
  }
  clock_.Advance(std::chrono::hours(1));

  // The restart: a new service and an empty registry over the same stores.
  ServingRegistry restarted;
  auto service = NewService(&restarted);
  service->RestoreServing();

  // published --restart--> loading --loaded--> published, on the served version.
  ModelRecord m = Stored(published);
  EXPECT_EQ(m.status, "published");
  EXPECT_EQ(m.served_version, 2);
  EXPECT_EQ(m.current_version, 2);
  ASSERT_NE(restarted.Find(published), nullptr);
  EXPECT_EQ(restarted.Find(published)->version, 2);
  EXPECT_EQ(audit_.For(published).size(), audit_before[published]);

  // draining --drained--> unpublished.
  m = Stored(draining);
  EXPECT_EQ(m.status, "unpublished");
  EXPECT_FALSE(m.served_version.has_value());
  EXPECT_EQ(restarted.Find(draining), nullptr);
  ASSERT_EQ(audit_.For(draining).size(), audit_before[draining] + 1);
  AuditEntry row = audit_.For(draining).back();
  EXPECT_EQ(row.action, "model.recovered");
  EXPECT_EQ(row.actor, "system");
  EXPECT_EQ(row.created_at, FormatIso8601(clock_.Now()));
  EXPECT_EQ(Detail(row)["from"], "draining");
  EXPECT_EQ(Detail(row)["to"], "unpublished");

  // loading --load_failed--> failed, with a reason.
  m = Stored(loading);
  EXPECT_EQ(m.status, "failed");
  ASSERT_TRUE(m.status_reason.has_value());
  EXPECT_THAT(*m.status_reason, HasSubstr("publish it again"));
  EXPECT_EQ(restarted.Find(loading), nullptr);
  row = audit_.For(loading).back();
  EXPECT_EQ(row.action, "model.recovered");
  EXPECT_EQ(Detail(row)["from"], "loading");
  EXPECT_EQ(Detail(row)["to"], "failed");

  // A draft stays as it was.
  EXPECT_EQ(Stored(draft).status, "draft");
  EXPECT_EQ(restarted.Find(draft), nullptr);
  EXPECT_EQ(audit_.For(draft).size(), audit_before[draft]);

  // published --restart--> loading --load_failed--> failed, naming the missing file.
  m = Stored(lost);
  EXPECT_EQ(m.status, "failed");
  EXPECT_FALSE(m.served_version.has_value());
  ASSERT_TRUE(m.status_reason.has_value());
  EXPECT_THAT(*m.status_reason, HasSubstr("could not be loaded at startup"));
  EXPECT_THAT(*m.status_reason, HasSubstr("missing"));
  EXPECT_EQ(restarted.Find(lost), nullptr);
  row = audit_.For(lost).back();
  EXPECT_EQ(row.action, "model.load_failed");
  EXPECT_EQ(row.actor, "system");

  EXPECT_EQ(restarted.All().size(), 1u);

  // A second restore changes nothing further.
  const size_t rows = audit_.Count();
  ServingRegistry again;
  NewService(&again)->RestoreServing();
  EXPECT_EQ(audit_.Count(), rows);
  EXPECT_EQ(Stored(draining).status, "unpublished");
  EXPECT_EQ(Stored(loading).status, "failed");
  EXPECT_EQ(Stored(lost).status, "failed");
  EXPECT_EQ(again.All().size(), 1u);
}

TEST_F(ModelServiceTest, RemoveOrphanFilesKeepsOnlyWhatRowsName) {
  const std::string id = CreateModel("kept");
  fs::create_directories(VersionDir(id, 9));                  // a version no row names
  fs::create_directories(models_dir_ + "/no-such-model/v1");  // a model no row names
  EXPECT_EQ(service_->RemoveOrphanFiles(), 2);
  EXPECT_THAT(ModelsDirEntries(), ElementsAre(id, id + "/v1", id + "/v1/model.onnx"));
  EXPECT_EQ(service_->RemoveOrphanFiles(), 0);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

TEST_F(ModelServiceTest, UnknownIdIsModelNotFound) {
  const std::string missing = "00000000-0000-0000-0000-000000000000";
  ExpectCode(service_->Get(missing).status(), "MODEL_NOT_FOUND", 404);
  ExpectCode(service_->Publish(missing, alice_).status(), "MODEL_NOT_FOUND", 404);
  ExpectCode(service_->Unpublish(missing, alice_).status(), "MODEL_NOT_FOUND", 404);
  ExpectCode(service_->Activate(missing, 1, alice_).status(), "MODEL_NOT_FOUND", 404);
  ModelPatch patch;
  patch.description = "x";
  ExpectCode(service_->Update(missing, patch, alice_).status(), "MODEL_NOT_FOUND", 404);
  ExpectCode(service_->Delete(missing, alice_), "MODEL_NOT_FOUND", 404);
  ExpectCode(service_->AddVersion(missing, Upload("x"), alice_).status(), "MODEL_NOT_FOUND", 404);
  ExpectCode(service_->Test(missing, std::nullopt, nlohmann::json()).status(), "MODEL_NOT_FOUND",
             404);
  EXPECT_EQ(store_.ModelCount(), 0u);
  EXPECT_EQ(audit_.Count(), 0u);
  EXPECT_TRUE(ModelsDirEntries().empty());
}

TEST_F(ModelServiceTest, IllegalTransitionsAreStateConflicts) {
  const std::string id = CreateModel("transitions");

  auto st = service_->Unpublish(id, alice_).status();
  ExpectCode(st, "MODEL_STATE_CONFLICT", 409);
  EXPECT_EQ(ConflictState(st), "draft");
  EXPECT_EQ(Stored(id).status, "draft");

  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  std::shared_ptr<const ServedModel> served = serving_.Find(id);
  ASSERT_NE(served, nullptr);
  st = service_->Publish(id, alice_).status();
  ExpectCode(st, "MODEL_STATE_CONFLICT", 409);
  EXPECT_EQ(ConflictState(st), "published");
  st = service_->Delete(id, alice_);
  ExpectCode(st, "MODEL_STATE_CONFLICT", 409);
  EXPECT_EQ(ConflictState(st), "published");
  // Refused transitions change nothing: still published, served by the same
  // instance (not reloaded), the file in place, nothing audited.
  EXPECT_EQ(Stored(id).status, "published");
  EXPECT_EQ(serving_.Find(id), served);
  EXPECT_EQ(control_->Loaded().size(), 1u);
  EXPECT_TRUE(fs::exists(VersionDir(id, 1) + "/model.onnx"));
  EXPECT_THAT(audit_.ActionsFor(id), ElementsAre("model.create", "model.publish"));
  served.reset();  // no request holds it: the unpublish need not wait

  ASSERT_TRUE(service_->Unpublish(id, alice_).ok());
  st = service_->Unpublish(id, alice_).status();
  ExpectCode(st, "MODEL_STATE_CONFLICT", 409);
  EXPECT_EQ(ConflictState(st), "unpublished");

  // No version switch while a transition is under way.
  for (const char* busy : {"loading", "draining"}) {
    ForceStatus(id, busy);
    st = service_->Activate(id, 1, alice_).status();
    ExpectCode(st, "MODEL_STATE_CONFLICT", 409);
    EXPECT_EQ(ConflictState(st), busy);
    st = service_->Delete(id, alice_);
    ExpectCode(st, "MODEL_STATE_CONFLICT", 409);
    EXPECT_EQ(ConflictState(st), busy);
  }
  ForceStatus(id, "unpublished");

  ASSERT_TRUE(service_->Delete(id, alice_).ok());
  EXPECT_EQ(store_.ModelCount(), 0u);
  EXPECT_TRUE(ModelsDirEntries().empty());
  EXPECT_EQ(audit_.ActionsFor(id).back(), "model.delete");
  ExpectCode(service_->Publish(id, alice_).status(), "MODEL_NOT_FOUND", 404);
}

TEST_F(ModelServiceTest, StoreFailuresKeepTheStoredStateAndServingInStep) {
  const std::string id = CreateModel("flaky-db");
  // Publish: the write of `loading` fails, so nothing is loaded or served.
  store_.FailNextUpdate(absl::InternalError("database is locked"));
  EXPECT_EQ(service_->Publish(id, alice_).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Stored(id).status, "draft");
  EXPECT_TRUE(control_->Loaded().empty());
  EXPECT_EQ(serving_.Find(id), nullptr);

  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  std::shared_ptr<const ServedModel> v1 = serving_.Find(id);
  ASSERT_NE(v1, nullptr);

  // Activate: v2 loads, but storing the switch fails: v1 is put back.
  ASSERT_TRUE(service_->AddVersion(id, Upload("x", "MODEL two\n"), alice_).ok());
  store_.FailNextUpdate(absl::InternalError("database is locked"));
  EXPECT_EQ(service_->Activate(id, 2, alice_).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(serving_.Find(id), v1);
  EXPECT_EQ(Stored(id).current_version, 1);
  EXPECT_EQ(Stored(id).served_version, 1);

  // Unpublish: the write of `draining` fails, so it keeps serving.
  store_.FailNextUpdate(absl::InternalError("database is locked"));
  EXPECT_EQ(service_->Unpublish(id, alice_).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Stored(id).status, "published");
  EXPECT_EQ(serving_.Find(id), v1);
  EXPECT_THAT(audit_.ActionsFor(id),
              ElementsAre("model.create", "model.publish", "model.version.create"));
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

TEST_F(ModelServiceTest, APublishRecordsOneLoadAndATestLoadNone) {
  const std::string id = CreateModel("measured");
  const std::string load_count =
      "cinfer_model_load_duration_seconds_count{model_id=\"" + id + "\"} ";
  EXPECT_THAT(Scrape(metrics_), Not(HasSubstr(load_count)));

  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  std::string text = Scrape(metrics_);
  EXPECT_THAT(text, HasSubstr(load_count + "1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_model_load_duration_seconds_sum{model_id=\"" + id + "\"} "));
  EXPECT_THAT(text, Not(HasSubstr("cinfer_model_load_failures_total{model_id=\"" + id + "\"}")));

  // A test call on an unpublished model loads it without warm-up: not a load for serving.
  ASSERT_TRUE(service_->Unpublish(id, alice_).ok());
  ASSERT_TRUE(service_->Test(id, std::nullopt, nlohmann::json()).ok());
  EXPECT_EQ(control_->Loaded().size(), 2u);
  EXPECT_THAT(Scrape(metrics_), HasSubstr(load_count + "1\n"));

  // Activating a version of a published model loads it for serving.
  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  ASSERT_TRUE(service_->AddVersion(id, Upload("x", "MODEL two\n"), alice_).ok());
  ASSERT_TRUE(service_->Activate(id, 2, alice_).ok());
  EXPECT_THAT(Scrape(metrics_), HasSubstr(load_count + "3\n"));
}

TEST_F(ModelServiceTest, AFailedLoadRecordsOneFailure) {
  const std::string restored = CreateModel("restored");
  ASSERT_TRUE(service_->Publish(restored, alice_).ok());
  const std::string broken = CreateModel("broken");
  control_->FailLoads(absl::InternalError("weights are corrupt"));

  ExpectCode(service_->Publish(broken, alice_).status(), "MODEL_LOAD_FAILED", 422);
  std::string text = Scrape(metrics_);
  EXPECT_THAT(text, HasSubstr("cinfer_model_load_failures_total{model_id=\"" + broken + "\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("cinfer_model_load_duration_seconds_count{model_id=\"" + broken +
                                  "\"}")));
  EXPECT_THAT(text,
              Not(HasSubstr("cinfer_model_load_failures_total{model_id=\"" + restored + "\"}")));

  // At a restart the published model fails to load again: one failure for it;
  // the failed one is not loaded, so it keeps its single failure.
  ServingRegistry restarted;
  NewService(&restarted)->RestoreServing();
  EXPECT_EQ(Stored(restored).status, "failed");
  text = Scrape(metrics_);
  EXPECT_THAT(text,
              HasSubstr("cinfer_model_load_failures_total{model_id=\"" + restored + "\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_model_load_failures_total{model_id=\"" + broken + "\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_model_load_duration_seconds_count{model_id=\"" + restored +
                              "\"} 1\n"));
}

TEST_F(ModelServiceTest, ServingCollectorReportsServedVersionsAndEveryModel) {
  metrics_.AddCollector(ServingCollector(&serving_, service_.get()));
  const std::string id = CreateModel("counted");
  const std::string draft = CreateModel("sketch");
  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  const std::string version = "{model_id=\"" + id + "\",version=\"1\"} ";
  const std::string info = "cinfer_model_info{model_id=\"" + id +
                           "\",model=\"counted\",status=\"published\",engine=\"fake\","
                           "current_version=\"1\"} 1\n";

  std::string text = Scrape(metrics_);
  EXPECT_THAT(text, HasSubstr("cinfer_model_queue_depth" + version + "0\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_model_in_flight" + version + "0\n"));
  const std::string one_instance =  // cores = 1
      "cinfer_model_instances{model_id=\"" + id + "\",version=\"1\",state=";
  EXPECT_THAT(text, HasSubstr(one_instance + "\"ready\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(one_instance + "\"error\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_model_degraded" + version + "0\n"));
  EXPECT_THAT(text, HasSubstr(info));
  EXPECT_THAT(text, HasSubstr("cinfer_model_info{model_id=\"" + draft +
                              "\",model=\"sketch\",status=\"draft\",engine=\"fake\","
                              "current_version=\"1\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("cinfer_model_queue_depth{model_id=\"" + draft + "\"")));

  {
    std::shared_ptr<const ServedModel> request = serving_.Find(id);
    ASSERT_NE(request, nullptr);
    InFlight counted(*request);
    EXPECT_THAT(Scrape(metrics_), HasSubstr("cinfer_model_in_flight" + version + "1\n"));
  }
  EXPECT_THAT(Scrape(metrics_), HasSubstr("cinfer_model_in_flight" + version + "0\n"));

  // A list that fails leaves only the model rows out of that scrape.
  store_.FailNextList(absl::InternalError("database is locked"));
  text = Scrape(metrics_);
  EXPECT_THAT(text, Not(HasSubstr("cinfer_model_info{")));
  EXPECT_THAT(text, HasSubstr("cinfer_model_queue_depth" + version + "0\n"));
  EXPECT_THAT(Scrape(metrics_), HasSubstr(info));
}

// An engine that keeps failing takes the serving instance out; after the
// scheduler's back-off (1 s) the service's recreate hook loads and warms up a
// fresh engine from the version's file, and the version serves again.
TEST_F(ModelServiceTest, AServedVersionWhoseEngineKeepsFailingIsReloadedForTheInstance) {
  const std::string id = CreateModel("flaky");
  ASSERT_TRUE(service_->Publish(id, alice_).ok());
  std::shared_ptr<const ServedModel> served = serving_.Find(id);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(ServingStateName(*served), "ready");
  control_->FailRuns(absl::InternalError("device lost"));
  for (int i = 0; i < 3; ++i) {  // the default threshold: 3 faults in a row
    std::promise<absl::Status> answer;
    InferenceJob job;
    job.inputs.push_back(Tensor{"x", DataType::kFp32, {1, 2}, std::vector<std::byte>(8)});
    job.done = [&answer](absl::StatusOr<JobResult> r) { answer.set_value(r.status()); };
    ASSERT_TRUE(served->scheduler->Submit(std::move(job)).ok());
    EXPECT_EQ(answer.get_future().get().code(), absl::StatusCode::kInternal);
  }
  auto state_is = [&](std::string_view want) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (ServingStateName(*served) != want) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  };
  ASSERT_TRUE(state_is("unavailable"));  // its only instance (cores = 1) is out
  EXPECT_EQ(served->scheduler->Instances()[0].last_error, "device lost");
  control_->FailRuns(absl::OkStatus());
  ASSERT_TRUE(state_is("ready"));
  EXPECT_EQ(served->scheduler->Instances()[0].recoveries, 1);
  EXPECT_EQ(control_->Loaded().size(), 2u);  // publish, then the recreated instance
  EXPECT_EQ(control_->Loaded()[1], control_->Loaded()[0]);
  auto run = service_->Test(id, std::nullopt, nlohmann::json());
  ASSERT_TRUE(run.ok()) << run.status();
}

}  // namespace
}  // namespace cinfer
