// ModelService at startup: removing model files no row names, and loading
// the published models again (finishing transitions a stop interrupted).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/strings.h"
#include "models/model_lifecycle.h"
#include "models/model_service.h"
#include "spdlog/spdlog.h"

namespace cinfer {

int ModelService::RemoveOrphanFiles() {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code ec;
  auto remove = [&](const fs::path& dir) {
    spdlog::warn(
        "removing {}: no model or version in the database names it (left by a stop "
        "during an upload or a delete)",
        dir.string());
    fs::remove_all(dir, ec);
    ++removed;
  };
  for (const auto& model_dir : fs::directory_iterator(options_.models_dir, ec)) {
    if (!model_dir.is_directory()) continue;
    const std::string id = model_dir.path().filename().string();
    auto model = models_->FindModel(id);
    if (!model.ok()) return removed;  // the database is unreadable: touch nothing
    if (!model->has_value()) {
      remove(model_dir.path());
      continue;
    }
    auto versions = models_->ListVersions(id);
    if (!versions.ok()) return removed;
    std::vector<std::string> known;
    for (const auto& v : *versions) known.push_back(StrCat("v", v.version));
    for (const auto& version_dir : fs::directory_iterator(model_dir.path(), ec)) {
      const std::string name = version_dir.path().filename().string();
      if (std::find(known.begin(), known.end(), name) == known.end()) remove(version_dir.path());
    }
  }
  return removed;
}

// A published model at start-up: published --restart--> loading, then --loaded--> published
// (true: serving again, nothing to store) or --load_failed--> failed, recorded in `m`.
bool ModelService::RestartServing(ModelRecord& m, const Actor& system) {
  auto loading = ModelLifecycle::Next(ModelState::kPublished, ModelEvent::kRestart);
  if (!loading.ok()) return false;
  const int64_t version = m.served_version.value_or(m.current_version);
  auto v = FindVersion(m.id, version);
  auto loaded = v.ok() ? LoadForServing(m, *v)
                       : absl::StatusOr<std::shared_ptr<ServedModel>>(
                             MakeError(ErrorCode::kModelLoadFailed, ToStd(v.status().message())));
  if (loaded.ok()) {  // --loaded--> published: the stored state stays as it is
    serving_->Put(*std::move(loaded));
    spdlog::info("model {} ({}) version {} serving again", m.id, m.name, version);
    return true;
  }
  auto failed = ModelLifecycle::Next(*loading, ModelEvent::kLoadFailed);
  m.status = std::string(ModelStateName(failed.value_or(ModelState::kFailed)));
  m.status_reason = StrCat("could not be loaded at startup: ", loaded.status().message());
  m.served_version.reset();
  spdlog::error("model {} ({}): {}", m.id, m.name, *m.status_reason);
  Audit(system, "model.load_failed", m.id, {{"version", version}, {"reason", *m.status_reason}});
  return false;
}

void ModelService::RestoreServing() {
  const Actor system{"system", "", ""};
  auto all = AllModels();
  if (!all.ok()) {
    spdlog::error("cannot list models to restore serving: {}", all.status().message());
    return;
  }
  for (ModelRecord& m : *all) {
    auto lock = LockFor(m.id);
    MutexLock guard(lock.get());
    auto fresh = Get(m.id);
    if (!fresh.ok()) continue;
    m = *std::move(fresh);
    const std::optional<ModelState> state = ModelStateFromName(m.status);
    if (!state.has_value()) continue;
    if (*state == ModelState::kDraining || *state == ModelState::kLoading) {
      // A stop in the middle of a transition: finish it the safe way (the drain is over;
      // the load did not happen), through the lifecycle, and say so.
      const ModelEvent finish =
          *state == ModelState::kDraining ? ModelEvent::kDrained : ModelEvent::kLoadFailed;
      auto to = ModelLifecycle::Next(*state, finish);
      if (!to.ok()) continue;
      spdlog::warn("model {} ({}) was {} when the server stopped; it is now {}", m.id, m.name,
                   m.status, ModelStateName(*to));
      Audit(system, "model.recovered", m.id,
            {{"from", m.status}, {"to", ModelStateName(*to)}, {"version", m.current_version}});
      m.status = std::string(ModelStateName(*to));
      m.served_version.reset();
      if (*to == ModelState::kFailed)
        m.status_reason =
            "the server stopped while this model was being published; publish it again";
    } else if (*state == ModelState::kPublished) {
      if (RestartServing(m, system)) continue;
    } else {
      continue;
    }
    if (absl::Status st = Save(m); !st.ok())
      spdlog::error("model {}: cannot store its state: {}", m.id, st.message());
  }
}

}  // namespace cinfer
