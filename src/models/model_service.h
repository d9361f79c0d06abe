// ModelService: the admin side of model management — create (validate an
// uploaded file in the isolated validator, store it under a server-generated
// path, insert its rows), read, list, update, version, publish, unpublish,
// activate, test and delete models. Every change goes to the audit log.
//
// Lifecycle operations on one model (publish, unpublish, activate, update,
// delete, new versions) are serialised by a per-model lock, so concurrent
// admin calls on the same model each see the state the previous one left;
// ModelLifecycle decides which transitions are legal. Loaded versions live in
// the ServingRegistry; readers never take these locks. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/actor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "engines/engine_registry.h"
#include "metrics/metrics.h"
#include "models/model_config.h"
#include "models/model_validator.h"
#include "models/serving_registry.h"
#include "nlohmann/json.hpp"
#include "storage/database.h"

namespace cinfer {

struct ModelUpload {
  std::string name;
  std::string description;
  std::string engine;       // "" = by content
  std::string config_text;  // JSON; "" = defaults (new model) or the current config (new version)
  std::string file_path;    // the spooled file part; moved into the store on success
  // Multi-file models (api/admin/model_upload_files.h): the staging folder holding
  // file_path and its companions (model.xml + model.bin, ...), moved into the store
  // whole; "" for a single file.
  std::string bundle_dir;
  std::string original_filename;
  uint64_t size_bytes = 0;
  std::string sha256;
};

// PATCH: only the fields given change.
struct ModelPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<nlohmann::json> config;
};

// What a test call runs on: the serving instance, or a version loaded for it.
struct TestTarget {
  std::shared_ptr<const ServedModel> handle;
  bool served = false;
  double load_ms = 0;
};

struct TestRun {
  std::string model_id;
  int64_t version = 0;
  bool served = false;  // ran on the serving instance
  std::vector<Tensor> outputs;
  double load_ms = 0, infer_ms = 0, total_ms = 0;
};

class ModelService {
 public:
  struct Options {
    std::string models_dir;  // <models dir>/<model id>/v<version>/model.<ext>
    // How long unpublish waits for in-flight requests before it reports the
    // model unpublished anyway (the version is still released when they end).
    std::chrono::milliseconds drain_timeout{30'000};
    size_t queue_size = 100;  // per served model (request.queue_size)
    int cores = 1;            // sizes instances/threads a config leaves out (serving_plan.h)
    // Every load of a version for serving (publish, activate, restore) is
    // recorded here, failures included; null records nothing. Must outlive
    // the service.
    Metrics* metrics = nullptr;
  };
  // The page size for reading every model row, page by page.
  static constexpr int64_t kListAllPage = 500;

  ModelService(Options options, ModelStore* models, AuditStore* audit,
               const ModelValidator* validator, const EngineRegistry* engines,
               ServingRegistry* serving, const Clock* clock)
      : options_(std::move(options)),
        queue_size_(options_.queue_size),
        models_(models),
        audit_(audit),
        validator_(validator),
        engines_(engines),
        serving_(serving),
        clock_(clock) {}

  // 422 VALIDATION_FAILED (name, engine, config), 409 MODEL_NAME_TAKEN,
  // 422 MODEL_REJECTED (the validator's reason). Leaves no row or file behind.
  absl::StatusOr<ModelRecord> Create(const ModelUpload& upload, const Actor& actor)
      ABSL_LOCKS_EXCLUDED(names_mu_);
  // 404 MODEL_NOT_FOUND.
  absl::StatusOr<ModelRecord> Get(std::string_view id);
  absl::StatusOr<std::vector<ModelVersionRecord>> Versions(std::string_view id);
  // One page of the models `filter` matches (newest first) and how many match.
  // Any page size is taken here (the admin API allows up to 100); a caller
  // that reads every row pages by kListAllPage.
  absl::StatusOr<std::pair<std::vector<ModelRecord>, int64_t>> List(const ModelFilter& filter);
  // The request queue size of versions loaded for serving after this call.
  void SetQueueSize(size_t queue_size) { queue_size_.store(queue_size); }
  // The version serving `id`, or null.
  std::shared_ptr<const ServedModel> Serving(std::string_view id) const;

  // 422 VALIDATION_FAILED naming the field, 409 MODEL_NAME_TAKEN. A config
  // change is stored on the model and its current version; a served version
  // picks it up when it is next published or activated.
  absl::StatusOr<ModelRecord> Update(std::string_view id, const ModelPatch& patch,
                                     const Actor& actor) ABSL_LOCKS_EXCLUDED(names_mu_);
  // A further version; the file must be readable by the model's engine.
  // 422 MODEL_REJECTED, leaving nothing behind.
  absl::StatusOr<ModelVersionRecord> AddVersion(std::string_view id, const ModelUpload& upload,
                                                const Actor& actor);
  // Makes `version` current. For a published model it is loaded, warmed up
  // and test-run before traffic moves to it; on failure the old version keeps
  // serving (422 MODEL_LOAD_FAILED). 404 VERSION_NOT_FOUND.
  // On a published model, a version whose inputs or outputs differ from the
  // served version's (models/io_compat.h) is refused with 409
  // INCOMPATIBLE_VERSION (details: the differences) unless `force`.
  absl::StatusOr<ModelRecord> Activate(std::string_view id, int64_t version, const Actor& actor,
                                       bool force = false);
  // Loads, warms up and test-runs the current version; published on success,
  // failed with the reason otherwise (422 MODEL_LOAD_FAILED).
  absl::StatusOr<ModelRecord> Publish(std::string_view id, const Actor& actor);
  // Stops new requests, waits for in-flight ones (up to drain_timeout).
  absl::StatusOr<ModelRecord> Unpublish(std::string_view id, const Actor& actor);
  // 409 when published; removes rows and files.
  absl::Status Delete(std::string_view id, const Actor& actor) ABSL_LOCKS_EXCLUDED(locks_mu_);

  // One inference without publishing. `inputs` is a JSON list of tensors
  // (tensor_json.h), or null for deterministic synthetic inputs. Runs on the
  // serving instance when the model is published and `version` is unset or
  // the served one; otherwise loads the version for this call.
  absl::StatusOr<TestRun> Test(std::string_view id, std::optional<int64_t> version,
                               const nlohmann::json& inputs);
  // The instance Test runs on (same rule), for callers that run it themselves
  // (the image form of the test endpoint). 503 MODEL_NOT_READY while loading.
  absl::StatusOr<TestTarget> AcquireTestTarget(std::string_view id, std::optional<int64_t> version);

  // At startup: loads every published model again; a model left `loading` by
  // a crash becomes failed, one left `draining` becomes unpublished. A model
  // that cannot be loaded (file missing, load error) becomes failed with the
  // reason. Blocks until done; the caller runs it in the background.
  void RestoreServing();

  // At startup, before requests are served: removes model directories and
  // version directories under the models dir that no database row names (a
  // crash between moving an upload into place and committing its row leaves
  // one). Returns how many it removed.
  int RemoveOrphanFiles();

 private:
  // The lock of model `id`, made on first use.
  std::shared_ptr<Mutex> LockFor(std::string_view id) ABSL_LOCKS_EXCLUDED(locks_mu_);
  // Every model record, read page by page.
  absl::StatusOr<std::vector<ModelRecord>> AllModels();
  // MODEL_NAME_TAKEN when a model other than `except_id` has a name confusable
  // with `name` (text/display_name.h).
  absl::Status CheckNameFree(std::string_view name, std::string_view except_id);
  void Audit(const Actor& actor, std::string_view action, std::string_view id,
             nlohmann::json detail);
  absl::StatusOr<ModelVersionRecord> FindVersion(std::string_view id, int64_t version);
  // Loads `v` with its config: the file, the engine, warm-up and one test
  // inference. MODEL_LOAD_FAILED with the reason.
  // Where version `v`'s file is now: its file name (model.onnx, model.pt) in
  // <models_dir>/<id>/v<version>/, whatever directory the row recorded, so a
  // data directory restored or moved to another path still serves its models.
  std::string VersionFile(const ModelVersionRecord& v) const;
  absl::StatusOr<std::shared_ptr<ServedModel>> LoadVersion(const ModelRecord& m,
                                                           const ModelVersionRecord& v,
                                                           bool warm_up);
  // LoadVersion with warm-up, for serving: records the load, or its failure,
  // in options_.metrics.
  absl::StatusOr<std::shared_ptr<ServedModel>> LoadForServing(const ModelRecord& m,
                                                              const ModelVersionRecord& v);
  absl::Status Save(ModelRecord& m);
  // RestoreServing's published model (model_restore.cc): true when it serves again;
  // false when it failed to load, with `m` set to failed (for the caller to store).
  bool RestartServing(ModelRecord& m, const Actor& system);
  absl::StatusOr<nlohmann::json> ValidateFile(const ModelUpload& upload, const std::string& engine,
                                              ModelConfig& config);
  absl::StatusOr<std::string> StoreFile(const std::string& model_id, int64_t version,
                                        const ModelUpload& upload, const nlohmann::json& report);

  Options options_;
  std::atomic<size_t> queue_size_;  // options_.queue_size, changed at run time
  ModelStore* models_;
  AuditStore* audit_;
  const ModelValidator* validator_;
  const EngineRegistry* engines_;
  ServingRegistry* serving_;
  const Clock* clock_;
  // Held from a name check until the name is stored. It guards rows in the
  // database, not members, so nothing here is ABSL_GUARDED_BY it.
  Mutex names_mu_;
  Mutex locks_mu_;
  // The per-model locks (held across a lifecycle operation on that model).
  std::map<std::string, std::shared_ptr<Mutex>, std::less<>> locks_ ABSL_GUARDED_BY(locks_mu_);
};

}  // namespace cinfer
