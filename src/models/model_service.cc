#include "models/model_service.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "engines/model_inspection.h"
#include "engines/tensor_json.h"
#include "models/io_compat.h"
#include "models/model_config.h"
#include "models/model_lifecycle.h"
#include "spdlog/spdlog.h"
#include "storage/audit_writer.h"
#include "text/display_name.h"

namespace cinfer {
namespace {

absl::Status ModelNotFound(std::string_view id) {
  return MakeError(ErrorCode::kModelNotFound, StrCat("no model with id '", id, "'"));
}

absl::Status NameTaken(std::string_view name, std::string_view existing) {
  return MakeError(ErrorCode::kModelNameTaken,
                   name == existing ? StrCat("a model named '", name, "' already exists")
                                    : StrCat("the name '", name, "' looks the same as model '",
                                             existing, "', which already exists"));
}

absl::Status VersionNotFound(std::string_view id, int64_t version) {
  return MakeError(ErrorCode::kVersionNotFound,
                   StrCat("model '", id, "' has no version ", version));
}

absl::Status LoadFailed(std::string_view reason) {
  return MakeError(ErrorCode::kModelLoadFailed, reason);
}

// Loads `path` on `engine` as `config` and `plan` ask; with `warm_up`, runs the
// configured warm-up iterations and a test inference on synthetic inputs.
absl::StatusOr<std::unique_ptr<LoadedModel>> LoadEngine(const Engine& engine,
                                                        const std::string& path,
                                                        const ModelConfig& config,
                                                        const ServingPlan& plan, bool warm_up) {
  auto loaded =
      engine.Load(path, LoadOptions{config.input_shapes, plan.threads, plan.allow_spinning,
                                    config.performance_hint, static_cast<int>(config.streams)});
  if (!loaded.ok()) return LoadFailed(StrCat("load: ", loaded.status().message()));
  if (!warm_up) return loaded;
  auto inputs = SyntheticInputs((*loaded)->inputs(), config.input_shapes);
  if (!inputs.ok()) return LoadFailed(StrCat("warm-up inputs: ", inputs.status().message()));
  for (int64_t i = 0; i <= config.warmup_iterations; ++i) {  // the last run is the test run
    auto outputs = (*loaded)->Run(*inputs);
    if (!outputs.ok()) {
      return LoadFailed(StrCat(i < config.warmup_iterations ? "warm-up" : "test",
                               " inference failed: ", outputs.status().message()));
    }
    if (outputs->size() != (*loaded)->outputs().size()) {
      return LoadFailed(StrCat("test inference returned ", outputs->size(),
                               " outputs, the model declares ", (*loaded)->outputs().size()));
    }
  }
  return loaded;
}

absl::StatusOr<ModelState> StateOf(const ModelRecord& m) {
  auto state = ModelStateFromName(m.status);
  if (!state.has_value())
    return absl::InternalError(StrCat("model ", m.id, " has unknown status '", m.status, "'"));
  return *state;
}

absl::Status CheckEngine(const std::string& engine) {
  if (!engine.empty() && engine != "onnxruntime" && engine != "openvino" && engine != "libtorch" &&
      engine != "opencv") {
    return ValidationError(
        StrCat("unknown engine '", engine, "' (onnxruntime, openvino, libtorch, opencv)"));
  }
  return absl::OkStatus();
}

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::shared_ptr<Mutex> ModelService::LockFor(std::string_view id) {
  MutexLock lock(&locks_mu_);
  auto it = locks_.find(id);
  if (it == locks_.end()) it = locks_.emplace(std::string(id), std::make_shared<Mutex>()).first;
  return it->second;
}

void ModelService::Audit(const Actor& actor, std::string_view action, std::string_view id,
                         nlohmann::json detail) {
  WriteAudit(audit_, *clock_, actor, action, "model", id, detail);
}

absl::Status ModelService::Save(ModelRecord& m) {
  m.updated_at = FormatIso8601(clock_->Now());
  absl::Status st = models_->UpdateModel(m);
  if (absl::IsNotFound(st)) return ModelNotFound(m.id);
  if (absl::IsAlreadyExists(st)) return NameTaken(m.name, m.name);
  return st;
}

absl::StatusOr<nlohmann::json> ModelService::ValidateFile(const ModelUpload& up,
                                                          const std::string& engine,
                                                          ModelConfig& config) {
  ASSIGN_OR_RETURN(nlohmann::json report,
                   validator_->Validate(up.file_path, engine, config.input_shapes));
  nlohmann::json io = {{"inputs", report["inputs"]}, {"outputs", report["outputs"]}};
  RETURN_IF_ERROR(ApplyIoDefaults(io, &config));
  return report;
}

std::string ModelService::VersionFile(const ModelVersionRecord& v) const {
  return StrCat(options_.models_dir, "/", v.model_id, "/v", v.version, "/",
                std::filesystem::path(v.file_path).filename().string());
}

absl::StatusOr<std::string> ModelService::StoreFile(const std::string& model_id, int64_t version,
                                                    const ModelUpload& up,
                                                    const nlohmann::json& report) {
  const std::string dir = StrCat(options_.models_dir, "/", model_id, "/v", version);
  std::error_code ec;
  if (!up.bundle_dir.empty()) {  // a model folder arranged from an archive or several parts
    RETURN_IF_ERROR(EnsureDirectory(StrCat(options_.models_dir, "/", model_id), 0700));
    std::filesystem::rename(up.bundle_dir, dir, ec);
    if (ec) return absl::InternalError(StrCat("cannot store the model files: ", ec.message()));
    return StrCat(dir, "/", std::filesystem::path(up.file_path).filename().string());
  }
  const std::string ext = report.value("format", "") == "torchscript" ? "pt" : "onnx";
  const std::string path = StrCat(dir, "/model.", ext);
  RETURN_IF_ERROR(EnsureDirectory(dir, 0700));
  std::filesystem::rename(up.file_path, path, ec);
  if (ec) {
    std::filesystem::remove_all(dir, ec);
    return absl::InternalError(StrCat("cannot store the model file: ", ec.message()));
  }
  return path;
}

absl::StatusOr<std::vector<ModelRecord>> ModelService::AllModels() {
  std::vector<ModelRecord> all;
  for (int64_t offset = 0;; offset += kListAllPage) {
    ModelFilter f;
    f.offset = offset;
    f.limit = kListAllPage;
    int64_t total = 0;
    ASSIGN_OR_RETURN(auto page, models_->ListModels(f, &total));
    all.insert(all.end(), std::make_move_iterator(page.begin()),
               std::make_move_iterator(page.end()));
    if (static_cast<int64_t>(page.size()) < kListAllPage) return all;
  }
}

absl::Status ModelService::CheckNameFree(std::string_view name, std::string_view except_id) {
  ASSIGN_OR_RETURN(std::vector<ModelRecord> all, AllModels());
  std::vector<std::string> names;
  for (auto& m : all) {
    if (m.id != except_id) names.push_back(std::move(m.name));
  }
  if (auto taken = text::FindConfusable(name, names)) return NameTaken(name, *taken);
  return absl::OkStatus();
}

absl::StatusOr<ModelRecord> ModelService::Create(const ModelUpload& upload, const Actor& actor) {
  ModelUpload up = upload;
  ASSIGN_OR_RETURN(up.name, text::NormalizeDisplayName(up.name, "name"));
  if (up.description.size() > 4096)
    return ValidationError("description must be at most 4096 characters");
  RETURN_IF_ERROR(CheckEngine(up.engine));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfigText(up.config_text));
  RETURN_IF_ERROR(CheckNameFree(up.name, ""));  // early: before the slow validation
  ASSIGN_OR_RETURN(nlohmann::json report, ValidateFile(up, up.engine, config));
  MutexLock names(&names_mu_);
  RETURN_IF_ERROR(CheckNameFree(up.name, ""));

  const std::string id = NewUuid();
  const std::string now = FormatIso8601(clock_->Now());
  ASSIGN_OR_RETURN(std::string path, StoreFile(id, 1, up, report));
  nlohmann::json io = {{"inputs", report["inputs"]}, {"outputs", report["outputs"]}};
  const std::string config_json = ModelConfigToJson(config).dump();
  ModelRecord m{id,          up.name,      up.description, report.value("engine", ""),
                config_json, io.dump(),    "draft",        std::nullopt,
                1,           std::nullopt, actor.id,       now,
                now};
  ModelVersionRecord v{NewUuid(),
                       id,
                       1,
                       path,
                       up.original_filename,
                       static_cast<int64_t>(up.size_bytes),
                       up.sha256,
                       config_json,
                       io.dump(),
                       actor.id,
                       now};
  absl::Status st = models_->CreateModel(m, v);
  if (!st.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(StrCat(options_.models_dir, "/", id), ec);
    return absl::IsAlreadyExists(st) ? NameTaken(up.name, up.name) : st;
  }
  Audit(actor, "model.create", id,
        {{"name", up.name}, {"engine", m.engine}, {"sha256", up.sha256}});
  return m;
}

absl::StatusOr<ModelRecord> ModelService::Get(std::string_view id) {
  ASSIGN_OR_RETURN(auto m, models_->FindModel(id));
  if (!m.has_value()) return ModelNotFound(id);
  return *std::move(m);
}

absl::StatusOr<std::vector<ModelVersionRecord>> ModelService::Versions(std::string_view id) {
  return models_->ListVersions(id);
}

absl::StatusOr<std::pair<std::vector<ModelRecord>, int64_t>> ModelService::List(
    const ModelFilter& filter) {
  int64_t total = 0;
  ASSIGN_OR_RETURN(auto items, models_->ListModels(filter, &total));
  return std::make_pair(std::move(items), total);
}

std::shared_ptr<const ServedModel> ModelService::Serving(std::string_view id) const {
  return serving_->Find(id);
}

absl::StatusOr<ModelVersionRecord> ModelService::FindVersion(std::string_view id, int64_t version) {
  ASSIGN_OR_RETURN(auto versions, models_->ListVersions(id));
  for (auto& v : versions) {
    if (v.version == version) return std::move(v);
  }
  return VersionNotFound(id, version);
}

absl::StatusOr<std::shared_ptr<ServedModel>> ModelService::LoadVersion(const ModelRecord& m,
                                                                       const ModelVersionRecord& v,
                                                                       bool warm_up) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string file = VersionFile(v);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return LoadFailed(StrCat("the model file of version ", v.version, " is missing (", file, ")"));
  }
  auto config = ParseModelConfigText(v.config);
  if (!config.ok()) return LoadFailed(StrCat("stored config: ", config.status().message()));
  auto engine = engines_->Get(m.engine);
  if (!engine.ok()) return LoadFailed(ToStd(engine.status().message()));
  const ServingPlan plan = PlanServing(*config, options_.cores);
  auto loaded = LoadEngine(**engine, file, *config, plan, warm_up);
  if (!loaded.ok()) return loaded.status();
  // A version's last handle can go away on one of its own workers (a request that
  // finished after an unpublish or a switch): it is then destroyed on a thread of its
  // own, since its scheduler joins its workers.
  std::shared_ptr<ServedModel> served(new ServedModel(), [](ServedModel* m) {
    if (m->scheduler != nullptr && m->scheduler->OnWorkerThread()) {
      std::thread([m] { delete m; }).detach();
    } else {
      delete m;
    }
  });
  served->model_id = m.id;
  served->version = v.version;
  served->engine = m.engine;
  served->config = *std::move(config);
  served->plan = plan;
  served->model = *std::move(loaded);
  if (warm_up) {  // for serving: the request queue and its workers
    ModelScheduler::Options so;
    so.instances = plan.instances;
    so.max_queue = queue_size_.load();
    so.max_batch_size = served->config.max_batch_size;
    so.max_queue_delay = std::chrono::microseconds(served->config.max_queue_delay_us);
    so.name = StrCat("model ", m.id, " version ", v.version);
    // An instance taken out of service gets an engine of its own, loaded and
    // warmed up like this one (the engine registry outlives served versions).
    so.recreate = [engine = *engine, path = file, config = served->config, plan] {
      return LoadEngine(*engine, path, config, plan, /*warm_up=*/true);
    };
    served->scheduler = std::make_unique<ModelScheduler>(so, served->model.get());
  }
  served->loaded_at = FormatIso8601(clock_->Now());
  served->load_ms = MsSince(t0);
  return served;
}

absl::StatusOr<std::shared_ptr<ServedModel>> ModelService::LoadForServing(
    const ModelRecord& m, const ModelVersionRecord& v) {
  const auto t0 = std::chrono::steady_clock::now();
  auto served = LoadVersion(m, v, /*warm_up=*/true);
  if (options_.metrics != nullptr) {
    // A success reports the span ServedModel::load_ms measured; a failure, the
    // time until it failed.
    const double ms = served.ok() ? (*served)->load_ms : MsSince(t0);
    options_.metrics->ModelLoad(m.id, ms / 1000, served.ok());
  }
  return served;
}

absl::StatusOr<ModelRecord> ModelService::Update(std::string_view id, const ModelPatch& patch,
                                                 const Actor& actor) {
  auto lock = LockFor(id);
  MutexLock guard(lock.get());
  ASSIGN_OR_RETURN(ModelRecord m, Get(id));
  const ModelRecord before = m;
  nlohmann::json fields = nlohmann::json::array();
  if (patch.name.has_value()) {
    ASSIGN_OR_RETURN(m.name, text::NormalizeDisplayName(*patch.name, "name"));
  }
  // A rename holds names_mu_ from its check until it is stored.
  MutexLockMaybe names(patch.name.has_value() ? &names_mu_ : nullptr);
  if (patch.name.has_value()) {
    RETURN_IF_ERROR(CheckNameFree(m.name, m.id));
    fields.push_back("name");
  }
  if (patch.description.has_value()) {
    if (patch.description->size() > 4096)
      return ValidationError("description must be at most 4096 characters");
    m.description = *patch.description;
    fields.push_back("description");
  }
  if (patch.config.has_value()) {
    ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(*patch.config));
    auto io = nlohmann::json::parse(m.io_schema, nullptr, false);
    RETURN_IF_ERROR(ApplyIoDefaults(io.is_discarded() ? nlohmann::json::object() : io, &config));
    m.config = ModelConfigToJson(config).dump();
    fields.push_back("config");
  }
  if (m.config != before.config) {
    RETURN_IF_ERROR(models_->UpdateVersionConfig(id, m.current_version, m.config));
  }
  if (absl::Status st = Save(m); !st.ok()) {
    if (m.config != before.config) {
      (void)models_->UpdateVersionConfig(id, m.current_version, before.config);
    }
    return st;
  }
  Audit(actor, "model.update", m.id, {{"fields", fields}, {"name", m.name}});
  return m;
}

absl::StatusOr<ModelVersionRecord> ModelService::AddVersion(std::string_view id,
                                                            const ModelUpload& up,
                                                            const Actor& actor) {
  ASSIGN_OR_RETURN(ModelRecord m, Get(id));
  ASSIGN_OR_RETURN(ModelConfig config,
                   ParseModelConfigText(up.config_text.empty() ? std::string_view(m.config)
                                                               : std::string_view(up.config_text)));
  // Validation runs in a child process and may take seconds: outside the lock.
  ASSIGN_OR_RETURN(nlohmann::json report, ValidateFile(up, m.engine, config));

  auto lock = LockFor(id);
  MutexLock guard(lock.get());
  ASSIGN_OR_RETURN(m, Get(id));  // it may have gone meanwhile
  ASSIGN_OR_RETURN(auto versions, models_->ListVersions(id));
  int64_t next = 1;
  for (const auto& v : versions) next = std::max(next, v.version + 1);
  ASSIGN_OR_RETURN(std::string path, StoreFile(m.id, next, up, report));
  nlohmann::json io = {{"inputs", report["inputs"]}, {"outputs", report["outputs"]}};
  ModelVersionRecord v{NewUuid(),
                       m.id,
                       next,
                       path,
                       up.original_filename,
                       static_cast<int64_t>(up.size_bytes),
                       up.sha256,
                       ModelConfigToJson(config).dump(),
                       io.dump(),
                       actor.id,
                       FormatIso8601(clock_->Now())};
  if (absl::Status st = models_->AddVersion(v); !st.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(StrCat(options_.models_dir, "/", m.id, "/v", next), ec);
    return absl::IsNotFound(st) ? ModelNotFound(id) : st;
  }
  Audit(actor, "model.version.create", m.id, {{"version", next}, {"sha256", up.sha256}});
  return v;
}

absl::StatusOr<ModelRecord> ModelService::Activate(std::string_view id, int64_t version,
                                                   const Actor& actor, bool force) {
  auto lock = LockFor(id);
  MutexLock guard(lock.get());
  ASSIGN_OR_RETURN(ModelRecord m, Get(id));
  ASSIGN_OR_RETURN(ModelVersionRecord v, FindVersion(id, version));
  ASSIGN_OR_RETURN(ModelState state, StateOf(m));
  RETURN_IF_ERROR(ModelLifecycle::CheckActivatable(state));
  std::shared_ptr<const ServedModel> previous;
  const ModelRecord before = m;
  if (state == ModelState::kPublished && m.served_version.has_value() &&
      *m.served_version != version) {
    ASSIGN_OR_RETURN(ModelVersionRecord served, FindVersion(id, *m.served_version));
    const std::vector<std::string> differences =
        IoDifferences(nlohmann::json::parse(served.io_schema, nullptr, false),
                      nlohmann::json::parse(v.io_schema, nullptr, false));
    if (!differences.empty() && !force) {
      Audit(actor, "model.version.activate", m.id,
            {{"version", version}, {"result", "refused"}, {"differences", differences}});
      return WithDetails(
          MakeError(ErrorCode::kIncompatibleVersion,
                    StrCat("version ", version, " is not compatible with the served version ",
                           *m.served_version, ": ", Join(differences, "; "),
                           " (send {\"force\": true} to switch anyway)")),
          nlohmann::json{{"served_version", *m.served_version},
                         {"version", version},
                         {"differences", differences}}
              .dump());
    }
  }
  if (state == ModelState::kPublished) {
    auto loaded = LoadForServing(m, v);
    if (!loaded.ok()) {
      Audit(actor, "model.version.activate", m.id,
            {{"version", version},
             {"result", "failed"},
             {"reason", std::string(ToStd(loaded.status().message()))}});
      return loaded.status();
    }
    previous = serving_->Put(*std::move(loaded));
    m.served_version = version;
  }
  m.current_version = version;
  m.config = v.config;
  m.io_schema = v.io_schema;
  if (absl::Status st = Save(m); !st.ok()) {
    if (previous != nullptr) serving_->Put(std::move(previous));  // keep DB and serving in step
    return st;
  }
  Audit(actor, "model.version.activate", m.id,
        {{"version", version},
         {"previous", before.current_version},
         {"result", "ok"},
         {"forced", force}});
  // `previous` is released when its last in-flight request lets go of it.
  return m;
}

absl::StatusOr<ModelRecord> ModelService::Publish(std::string_view id, const Actor& actor) {
  auto lock = LockFor(id);
  MutexLock guard(lock.get());
  ASSIGN_OR_RETURN(ModelRecord m, Get(id));
  ASSIGN_OR_RETURN(ModelState state, StateOf(m));
  ASSIGN_OR_RETURN(ModelState loading, ModelLifecycle::Next(state, ModelEvent::kPublish));
  m.status = std::string(ModelStateName(loading));
  m.status_reason.reset();
  RETURN_IF_ERROR(Save(m));
  absl::StatusOr<std::shared_ptr<ServedModel>> loaded = [&]() {
    auto v = FindVersion(id, m.current_version);
    if (!v.ok())
      return absl::StatusOr<std::shared_ptr<ServedModel>>(LoadFailed(ToStd(v.status().message())));
    return LoadForServing(m, *v);
  }();
  if (!loaded.ok()) {
    ASSIGN_OR_RETURN(ModelState failed, ModelLifecycle::Next(loading, ModelEvent::kLoadFailed));
    m.status = std::string(ModelStateName(failed));
    m.status_reason = std::string(ToStd(loaded.status().message()));
    m.served_version.reset();
    RETURN_IF_ERROR(Save(m));
    Audit(actor, "model.publish", m.id,
          {{"version", m.current_version}, {"result", "failed"}, {"reason", *m.status_reason}});
    return loaded.status();
  }
  ASSIGN_OR_RETURN(ModelState published, ModelLifecycle::Next(loading, ModelEvent::kLoaded));
  serving_->Put(*std::move(loaded));
  m.status = std::string(ModelStateName(published));
  m.served_version = m.current_version;
  if (absl::Status st = Save(m); !st.ok()) {
    serving_->Remove(id);
    return st;
  }
  Audit(actor, "model.publish", m.id, {{"version", m.current_version}, {"result", "ok"}});
  return m;
}

absl::StatusOr<ModelRecord> ModelService::Unpublish(std::string_view id, const Actor& actor) {
  auto lock = LockFor(id);
  MutexLock guard(lock.get());
  ASSIGN_OR_RETURN(ModelRecord m, Get(id));
  ASSIGN_OR_RETURN(ModelState state, StateOf(m));
  ASSIGN_OR_RETURN(ModelState draining, ModelLifecycle::Next(state, ModelEvent::kUnpublish));
  m.status = std::string(ModelStateName(draining));
  RETURN_IF_ERROR(Save(m));
  std::shared_ptr<const ServedModel> removed = serving_->Remove(id);
  const int64_t in_flight = removed != nullptr ? removed->in_flight.load() : 0;
  std::weak_ptr<const ServedModel> watch = removed;
  removed.reset();
  const bool drained = WaitForDrain(watch, options_.drain_timeout);
  if (!drained)
    spdlog::warn("model {}: in-flight requests still running after the drain timeout", m.id);
  ASSIGN_OR_RETURN(ModelState unpublished, ModelLifecycle::Next(draining, ModelEvent::kDrained));
  m.status = std::string(ModelStateName(unpublished));
  m.served_version.reset();
  RETURN_IF_ERROR(Save(m));
  Audit(actor, "model.unpublish", m.id, {{"in_flight_at_start", in_flight}, {"drained", drained}});
  return m;
}

absl::Status ModelService::Delete(std::string_view id, const Actor& actor) {
  {
    auto lock = LockFor(id);
    MutexLock guard(lock.get());
    ASSIGN_OR_RETURN(ModelRecord m, Get(id));
    ASSIGN_OR_RETURN(ModelState state, StateOf(m));
    RETURN_IF_ERROR(ModelLifecycle::CheckDeletable(state));
    absl::Status st = models_->DeleteModel(id);
    if (absl::IsNotFound(st)) return ModelNotFound(id);
    RETURN_IF_ERROR(st);
    std::error_code ec;
    std::filesystem::remove_all(StrCat(options_.models_dir, "/", m.id), ec);
    if (ec) spdlog::warn("could not remove files of model {}: {}", m.id, ec.message());
    Audit(actor, "model.delete", m.id, {{"name", m.name}});
  }
  MutexLock lock(&locks_mu_);
  if (auto it = locks_.find(id); it != locks_.end()) locks_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<TestTarget> ModelService::AcquireTestTarget(std::string_view id,
                                                           std::optional<int64_t> version) {
  ASSIGN_OR_RETURN(ModelRecord m, Get(id));
  TestTarget target;
  if (m.status == "published" && (!version.has_value() || version == m.served_version)) {
    target.handle = serving_->Find(id);
    if (target.handle == nullptr) {
      return WithRetryAfter(
          MakeError(ErrorCode::kModelNotReady, "the model is being loaded; try again shortly"), 1);
    }
    target.served = true;
    return target;
  }
  ASSIGN_OR_RETURN(ModelVersionRecord v, FindVersion(id, version.value_or(m.current_version)));
  const auto l0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(target.handle, LoadVersion(m, v, /*warm_up=*/false));
  target.load_ms = MsSince(l0);
  return target;
}

absl::StatusOr<TestRun> ModelService::Test(std::string_view id, std::optional<int64_t> version,
                                           const nlohmann::json& inputs) {
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(TestTarget target, AcquireTestTarget(id, version));
  const std::shared_ptr<const ServedModel>& handle = target.handle;
  TestRun run;
  run.model_id = handle->model_id;
  run.served = target.served;
  run.load_ms = target.load_ms;
  InFlight counted(*handle);
  run.version = handle->version;
  std::vector<Tensor> tensors;
  if (inputs.is_null()) {
    ASSIGN_OR_RETURN(tensors,
                     SyntheticInputs(handle->model->inputs(), handle->config.input_shapes));
  } else {
    ASSIGN_OR_RETURN(tensors, TensorsFromJson(inputs, handle->model->inputs()));
  }
  const auto i0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(run.outputs, handle->model->Run(tensors));
  run.infer_ms = MsSince(i0);
  run.total_ms = MsSince(t0);
  return run;
}

}  // namespace cinfer
