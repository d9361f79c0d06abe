// ModelService: the admin side of model management — create (validate an
// uploaded file in the isolated validator, store it under a server-generated
// path, insert its rows), read, list and delete models. Every change goes to
// the audit log. Thread-safe: state lives in the ModelStore and the file tree.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "models/model_validator.h"
#include "storage/database.h"

namespace cinfer {

struct ModelUpload {
  std::string name;
  std::string description;
  std::string engine;       // "" = by content
  std::string config_text;  // JSON; "" = defaults
  std::string file_path;    // the spooled file part; moved into the store on success
  std::string original_filename;
  uint64_t size_bytes = 0;
  std::string sha256;
  std::string actor;     // username, for the audit log
  std::string actor_id;  // user id, stored as created_by
  std::string client_ip;
};

class ModelService {
 public:
  struct Options {
    std::string models_dir;  // <models dir>/<model id>/v<version>/model.<ext>
  };
  ModelService(Options options, ModelStore* models, AuditStore* audit,
               const ModelValidator* validator, const Clock* clock)
      : options_(std::move(options)),
        models_(models),
        audit_(audit),
        validator_(validator),
        clock_(clock) {}

  // 422 VALIDATION_FAILED (name, engine, config), 409 MODEL_NAME_TAKEN,
  // 422 MODEL_REJECTED (the validator's reason). Leaves no row or file behind.
  absl::StatusOr<ModelRecord> Create(const ModelUpload& upload);
  // 404 MODEL_NOT_FOUND.
  absl::StatusOr<ModelRecord> Get(std::string_view id);
  absl::StatusOr<std::vector<ModelVersionRecord>> Versions(std::string_view id);
  absl::StatusOr<std::pair<std::vector<ModelRecord>, int64_t>> List(const ModelFilter& filter);
  // 409 when published; removes rows and files.
  absl::Status Delete(std::string_view id, const std::string& actor, const std::string& client_ip);

 private:
  void Audit(const std::string& actor, std::string_view action, std::string_view id,
             const std::string& ip, std::string detail);

  Options options_;
  ModelStore* models_;
  AuditStore* audit_;
  const ModelValidator* validator_;
  const Clock* clock_;
};

}  // namespace cinfer
