#include "models/model_service.h"

#include <filesystem>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "models/model_config.h"
#include "models/model_lifecycle.h"
#include "spdlog/spdlog.h"

namespace cinfer {
namespace {

absl::Status ModelNotFound(std::string_view id) {
  return MakeError(absl::StatusCode::kNotFound, "MODEL_NOT_FOUND",
                   StrCat("no model with id '", id, "'"));
}

absl::Status NameTaken(std::string_view name) {
  return MakeError(absl::StatusCode::kAlreadyExists, "MODEL_NAME_TAKEN",
                   StrCat("a model named '", name, "' already exists"));
}

absl::Status CheckName(const std::string& name) {
  if (Trim(name).empty() || name.size() > 128)
    return ValidationError("name must be 1 to 128 characters");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return ValidationError("name must not contain control characters");
  }
  return absl::OkStatus();
}

}  // namespace

void ModelService::Audit(const std::string& actor, std::string_view action, std::string_view id,
                         const std::string& ip, std::string detail) {
  AuditEntry e{FormatIso8601(clock_->Now()),
               actor,
               std::string(action),
               "model",
               std::string(id),
               ip,
               std::move(detail)};
  if (absl::Status st = audit_->AppendAudit(e); !st.ok())
    spdlog::error("audit log write failed: {}", st.message());
}

absl::StatusOr<ModelRecord> ModelService::Create(const ModelUpload& up) {
  RETURN_IF_ERROR(CheckName(up.name));
  if (up.description.size() > 4096)
    return ValidationError("description must be at most 4096 characters");
  if (!up.engine.empty() && up.engine != "onnxruntime" && up.engine != "libtorch" &&
      up.engine != "opencv") {
    return ValidationError(
        StrCat("unknown engine '", up.engine, "' (onnxruntime, libtorch, opencv)"));
  }
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfigText(up.config_text));
  ModelFilter by_name;
  by_name.name = up.name;
  by_name.limit = 100;
  int64_t total = 0;
  ASSIGN_OR_RETURN(auto same, models_->ListModels(by_name, &total));
  for (const auto& m : same) {
    if (m.name == up.name) return NameTaken(up.name);
  }
  ASSIGN_OR_RETURN(nlohmann::json report,
                   validator_->Validate(up.file_path, up.engine, config.input_shapes));

  const std::string id = NewUuid();
  const std::string now = FormatIso8601(clock_->Now());
  const std::string ext = report.value("format", "") == "torchscript" ? "pt" : "onnx";
  const std::string dir = StrCat(options_.models_dir, "/", id, "/v1");
  const std::string path = StrCat(dir, "/model.", ext);
  RETURN_IF_ERROR(EnsureDirectory(dir, 0700));
  std::error_code ec;
  std::filesystem::rename(up.file_path, path, ec);
  if (ec) {
    std::filesystem::remove_all(StrCat(options_.models_dir, "/", id), ec);
    return absl::InternalError(StrCat("cannot store the model file: ", ec.message()));
  }
  nlohmann::json io = {{"inputs", report["inputs"]}, {"outputs", report["outputs"]}};
  const std::string config_json = ModelConfigToJson(config).dump();
  ModelRecord m{id,          up.name,      up.description, report.value("engine", ""),
                config_json, io.dump(),    "draft",        std::nullopt,
                1,           std::nullopt, up.actor_id,    now,
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
                       up.actor_id,
                       now};
  absl::Status st = models_->CreateModel(m, v);
  if (!st.ok()) {
    std::filesystem::remove_all(StrCat(options_.models_dir, "/", id), ec);
    return absl::IsAlreadyExists(st) ? NameTaken(up.name) : st;
  }
  Audit(up.actor, "model.create", id, up.client_ip,
        nlohmann::json{{"name", up.name}, {"engine", m.engine}, {"sha256", up.sha256}}.dump());
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

absl::Status ModelService::Delete(std::string_view id, const std::string& actor,
                                  const std::string& ip) {
  ASSIGN_OR_RETURN(ModelRecord m, Get(id));
  if (auto state = ModelStateFromName(m.status); state.has_value()) {
    RETURN_IF_ERROR(ModelLifecycle::CheckDeletable(*state));
  }
  absl::Status st = models_->DeleteModel(id);
  if (absl::IsNotFound(st)) return ModelNotFound(id);
  RETURN_IF_ERROR(st);
  std::error_code ec;
  std::filesystem::remove_all(StrCat(options_.models_dir, "/", m.id), ec);
  if (ec) spdlog::warn("could not remove files of model {}: {}", m.id, ec.message());
  Audit(actor, "model.delete", m.id, ip, nlohmann::json{{"name", m.name}}.dump());
  return absl::OkStatus();
}

}  // namespace cinfer
