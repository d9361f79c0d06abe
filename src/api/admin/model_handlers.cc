#include "api/admin/model_handlers.h"

#include <unistd.h>

#include <charconv>

#include "api/admin/model_upload_files.h"
#include "api/admin_authenticator.h"
#include "api/json_util.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/tensor_json.h"
#include "http/multipart.h"
#include "models/io_compat.h"

namespace cinfer::api {
namespace {

using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

absl::Status BadRequest(std::string_view message) {
  return MakeError(ErrorCode::kBadRequest, message);
}

nlohmann::json ParsedOr(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

// The optional body of an activation: {"force": true} switches even when the
// version's inputs or outputs differ from the served version's.
absl::StatusOr<bool> ForceFlag(const Request& req) {
  if (Trim(req.body).empty()) return false;
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  RETURN_IF_ERROR(OnlyFields(body, {"force"}, "force"));
  if (body.contains("force") && !body["force"].is_boolean()) {
    return FieldValidationError("force", "field 'force' must be true or false");
  }
  return body.value("force", false);
}

// A version's compatibility with the served one (null when nothing is served).
nlohmann::json Compatibility(const ModelVersionRecord& v, const ModelVersionRecord* served) {
  if (served == nullptr) return nullptr;
  const auto differences = IoDifferences(ParsedOr(served->io_schema, nlohmann::json::object()),
                                         ParsedOr(v.io_schema, nlohmann::json::object()));
  return {{"served_version", served->version},
          {"compatible", differences.empty()},
          {"differences", differences}};
}

nlohmann::json VersionJson(const ModelVersionRecord& v, bool full) {
  nlohmann::json j = {{"version", v.version},       {"size_bytes", v.size_bytes},
                      {"sha256", v.sha256},         {"original_filename", v.original_filename},
                      {"created_by", v.created_by}, {"created_at", v.created_at}};
  if (full) {
    j["io_schema"] = ParsedOr(v.io_schema, nlohmann::json::object());
    j["config"] = ParsedOr(v.config, nlohmann::json::object());
  }
  return j;
}

// Each engine instance's state and counters (design §6.3).
nlohmann::json InstancesJson(const std::vector<InstanceStatus>& instances) {
  nlohmann::json out = nlohmann::json::array();
  for (const InstanceStatus& i : instances) {
    out.push_back({{"id", i.id},
                   {"state", InstanceStateName(i.state)},
                   {"runs", i.runs},
                   {"failures", i.failures},
                   {"consecutive_failures", i.consecutive_failures},
                   {"recoveries", i.recoveries},
                   {"last_error", i.last_error.empty() ? nlohmann::json(nullptr)
                                                       : nlohmann::json(i.last_error)}});
  }
  return out;
}

nlohmann::json ServingJson(const std::shared_ptr<const ServedModel>& s) {
  if (s == nullptr) return nullptr;
  const std::vector<InstanceStatus> instances =
      s->scheduler != nullptr ? s->scheduler->Instances() : std::vector<InstanceStatus>{};
  return {{"version", s->version},
          {"state", ServingStateOf(instances)},
          {"instances", InstancesJson(instances)},
          {"in_flight", s->in_flight.load()},
          {"loaded_at", s->loaded_at},
          {"load_ms", s->load_ms},
          {"devices", s->model->devices()},
          {"plan",
           {{"instances", s->plan.instances},
            {"threads", s->plan.threads},
            {"allow_spinning", s->plan.allow_spinning},
            {"rule", s->plan.rule}}},
          {"fallback_reason", s->model->fallback_reason()}};
}

nlohmann::json ModelJson(const ModelRecord& m, const std::vector<ModelVersionRecord>& versions,
                         const std::shared_ptr<const ServedModel>& serving) {
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : versions) vs.push_back(VersionJson(v, /*full=*/false));
  return {{"id", m.id},
          {"name", m.name},
          {"description", m.description},
          {"engine", m.engine},
          {"status", m.status},
          {"status_reason",
           m.status_reason ? nlohmann::json(*m.status_reason) : nlohmann::json(nullptr)},
          {"current_version", m.current_version},
          {"served_version",
           m.served_version ? nlohmann::json(*m.served_version) : nlohmann::json(nullptr)},
          {"versions", vs},
          {"serving", ServingJson(serving)},
          {"io_schema", ParsedOr(m.io_schema, nlohmann::json::object())},
          {"config", ParsedOr(m.config, nlohmann::json::object())},
          {"created_by", m.created_by},
          {"created_at", m.created_at},
          {"updated_at", m.updated_at}};
}

// Removes spooled multipart files when the request ends (moved ones are gone already).
struct PartFiles {
  std::vector<http::MultipartPart>* parts = nullptr;
  ~PartFiles() {
    if (parts == nullptr) return;
    for (const auto& p : *parts) {
      if (!p.file_path.empty()) ::unlink(p.file_path.c_str());
    }
  }
};

Result ModelResponse(ModelService* models, int status, const ModelRecord& m) {
  ASSIGN_OR_RETURN(auto versions, models->Versions(m.id));
  return JsonResponse(status, ModelJson(m, versions, models->Serving(m.id)));
}

// A model in several files (IR .xml + .bin, Paddle .pdmodel + .pdiparams) and a
// few harmless extras; more parts than this are refused.
constexpr size_t kMaxFileParts = 8;

// Parses the multipart body of a model or version upload. The spooled parts
// stay owned by `parts` (removed by PartFiles unless moved into the store).
absl::StatusOr<ModelUpload> ReadUpload(const ModelRoutesOptions& o, Request& req,
                                       std::vector<http::MultipartPart>& parts,
                                       StagedFiles& staged) {
  ASSIGN_OR_RETURN(std::string boundary,
                   http::MultipartBoundary(req.Header("content-type").value_or("")));
  http::MultipartLimits limits;
  limits.max_file_bytes = o.max_file_bytes;
  ASSIGN_OR_RETURN(parts, http::ParseMultipartFile(req.body_file, boundary, o.spool_dir, limits));
  RETURN_IF_ERROR(http::RejectDuplicateParts(parts, {"file"}));
  std::vector<const http::MultipartPart*> files;
  ModelUpload up;
  for (const auto& p : parts) {
    if (p.name == "file" && p.filename.has_value()) files.push_back(&p);
    if (p.name == "name") up.name = p.value;
    if (p.name == "description") up.description = p.value;
    if (p.name == "engine") up.engine = std::string(Trim(p.value));
    if (p.name == "config") up.config_text = p.value;
  }
  if (files.empty()) return BadRequest("multipart part 'file' (the model file) is missing");
  if (files.size() > kMaxFileParts) {
    return BadRequest(StrCat("at most ", kMaxFileParts, " 'file' parts per upload"));
  }
  RETURN_IF_ERROR(staged.Stage(files, o.spool_dir, o.max_file_bytes, &up));
  return up;
}

Result Upload(ModelService* models, const ModelRoutesOptions& o, Request& req) {
  std::vector<http::MultipartPart> parts;
  PartFiles cleanup{&parts};
  StagedFiles staged;
  ASSIGN_OR_RETURN(ModelUpload up, ReadUpload(o, req, parts, staged));
  if (up.name.empty()) return BadRequest("multipart part 'name' is missing");
  ASSIGN_OR_RETURN(ModelRecord m, models->Create(up, ActorOf(req)));
  return ModelResponse(models, 201, m);
}

Result UploadVersion(ModelService* models, const ModelRoutesOptions& o, Request& req) {
  std::vector<http::MultipartPart> parts;
  PartFiles cleanup{&parts};
  StagedFiles staged;
  ASSIGN_OR_RETURN(ModelUpload up, ReadUpload(o, req, parts, staged));
  ASSIGN_OR_RETURN(ModelVersionRecord v,
                   models->AddVersion(req.path_params["id"], up, ActorOf(req)));
  return JsonResponse(201, VersionJson(v, /*full=*/true));
}

Result Patch(ModelService* models, Request& req) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  ModelPatch patch;
  for (const auto& [key, value] : body.items()) {
    if (key == "name" || key == "description") {
      if (!value.is_string()) return ValidationError(StrCat("field '", key, "' must be a string"));
      (key == "name" ? patch.name : patch.description) = value.get<std::string>();
    } else if (key == "config") {
      patch.config = value;
    } else {
      return ValidationError(
          StrCat("unknown field '", key, "' (name, description and config can change)"));
    }
  }
  ASSIGN_OR_RETURN(ModelRecord m, models->Update(req.path_params["id"], patch, ActorOf(req)));
  return ModelResponse(models, 200, m);
}

absl::StatusOr<int64_t> VersionParam(const Request& req) {
  const std::string& text = req.path_params.at("version");
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1) {
    return MakeError(ErrorCode::kVersionNotFound, StrCat("no version '", text, "'"));
  }
  return v;
}

Result Test(ModelService* models, const ModelRoutesOptions& options, Request& req) {
  const std::string type = ToLower(req.Header("content-type").value_or(""));
  if ((type.starts_with("multipart/form-data") || type.starts_with("image/")) &&
      options.image_test) {
    return options.image_test(req);
  }
  if (!type.empty() && type.find("application/json") == std::string::npos) {
    return MakeError(ErrorCode::kUnsupportedMediaType,
                     "the test endpoint takes JSON tensors ({\"inputs\": [...]}), an empty "
                     "body, a multipart 'image' part or an image body");
  }
  nlohmann::json inputs;  // null: synthetic inputs
  std::optional<int64_t> version;
  if (!Trim(req.body).empty()) {
    ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
    for (const auto& [key, value] : body.items()) {
      if (key == "inputs") {
        inputs = value;
      } else if (key == "version") {
        if (!value.is_number_integer() || value.get<int64_t>() < 1)
          return ValidationError("field 'version' must be a positive integer");
        version = value.get<int64_t>();
      } else {
        return ValidationError(StrCat("unknown field '", key, "' (inputs, version)"));
      }
    }
  }
  ASSIGN_OR_RETURN(TestRun run, models->Test(req.path_params["id"], version, inputs));
  nlohmann::json outputs = nlohmann::json::array();
  for (const Tensor& t : run.outputs) outputs.push_back(TensorToJson(t));
  return JsonResponse(
      200,
      {{"model_id", run.model_id},
       {"model_version", run.version},
       {"served", run.served},
       {"outputs", std::move(outputs)},
       {"timing_ms", {{"load", run.load_ms}, {"infer", run.infer_ms}, {"total", run.total_ms}}}});
}

Result List(ModelService* models, Request& req) {
  ASSIGN_OR_RETURN(Page page, PageParams(req, 20, 100));
  ModelFilter f;
  f.status = std::string(req.QueryParam("status").value_or(""));
  f.engine = std::string(req.QueryParam("engine").value_or(""));
  f.name = std::string(req.QueryParam("name").value_or(""));
  f.offset = page.offset();
  f.limit = page.size;
  ASSIGN_OR_RETURN(auto listed, models->List(f));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& m : listed.first) {
    ASSIGN_OR_RETURN(auto versions, models->Versions(m.id));
    items.push_back(ModelJson(m, versions, models->Serving(m.id)));
  }
  return PagedResponse(std::move(items), listed.second, page);
}

// The versions of a model, each with its compatibility with the served one.
Result ListVersions(ModelService* models, Request& req) {
  ASSIGN_OR_RETURN(ModelRecord m, models->Get(req.path_params["id"]));
  ASSIGN_OR_RETURN(auto versions, models->Versions(m.id));
  const ModelVersionRecord* served = nullptr;
  for (const auto& v : versions) {
    if (m.served_version.has_value() && v.version == *m.served_version) served = &v;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& v : versions) {
    nlohmann::json item = VersionJson(v, /*full=*/true);
    item["compatibility"] = Compatibility(v, served);
    items.push_back(std::move(item));
  }
  return JsonResponse(200, {{"items", items}});
}

// Upload, list, get, patch and delete of models.
void AddModelCrudRoutes(ModelService* models, const ModelRoutesOptions& options,
                        const std::string& base, std::vector<http::Route>& routes) {
  using http::AuthScope;
  http::Route upload{"POST", base, AuthScope::kAdmin,
                     [models, options](Request& req) { return Upload(models, options, req); }};
  upload.max_body_bytes = options.max_file_bytes + (1u << 20);  // the file plus the form fields
  upload.body_to_file = true;
  upload.long_running = true;  // validation in a sandbox
  routes.push_back(std::move(upload));
  routes.push_back(
      {"GET", base, AuthScope::kAdmin, [models](Request& req) { return List(models, req); }});
  routes.push_back({"GET", base + "/{id}", AuthScope::kAdmin, [models](Request& req) -> Result {
                      ASSIGN_OR_RETURN(ModelRecord m, models->Get(req.path_params["id"]));
                      return ModelResponse(models, 200, m);
                    }});
  routes.push_back({"PATCH", base + "/{id}", AuthScope::kAdmin,
                    [models](Request& req) { return Patch(models, req); }});
  routes.push_back({"DELETE", base + "/{id}", AuthScope::kAdmin, [models](Request& req) -> Result {
                      RETURN_IF_ERROR(models->Delete(req.path_params["id"], ActorOf(req)));
                      return http::Response::NoContent();
                    }});
}

// Upload and list of a model's versions.
void AddVersionRoutes(ModelService* models, const ModelRoutesOptions& options,
                      const std::string& base, std::vector<http::Route>& routes) {
  using http::AuthScope;
  http::Route version{
      "POST", base + "/{id}/versions", AuthScope::kAdmin,
      [models, options](Request& req) { return UploadVersion(models, options, req); }};
  version.max_body_bytes = options.max_file_bytes + (1u << 20);
  version.body_to_file = true;
  version.long_running = true;
  routes.push_back(std::move(version));
  routes.push_back({"GET", base + "/{id}/versions", AuthScope::kAdmin,
                    [models](Request& req) { return ListVersions(models, req); }});
}

// Activate, publish, unpublish and test: each may load or drain a version.
void AddServingRoutes(ModelService* models, const ModelRoutesOptions& options,
                      const std::string& base, std::vector<http::Route>& routes) {
  using http::AuthScope;
  // Loads and drains (activate, publish, unpublish) take seconds.
  auto add_long = [&routes](http::Route r) {
    r.long_running = true;
    routes.push_back(std::move(r));
  };
  add_long({"POST", base + "/{id}/versions/{version}/activate", AuthScope::kAdmin,
            [models](Request& req) -> Result {
              ASSIGN_OR_RETURN(int64_t v, VersionParam(req));
              ASSIGN_OR_RETURN(bool force, ForceFlag(req));
              ASSIGN_OR_RETURN(ModelRecord m,
                               models->Activate(req.path_params["id"], v, ActorOf(req), force));
              return ModelResponse(models, 200, m);
            }});
  add_long({"POST", base + "/{id}/publish", AuthScope::kAdmin, [models](Request& req) -> Result {
              ASSIGN_OR_RETURN(ModelRecord m, models->Publish(req.path_params["id"], ActorOf(req)));
              return ModelResponse(models, 200, m);
            }});
  add_long({"POST", base + "/{id}/unpublish", AuthScope::kAdmin, [models](Request& req) -> Result {
              ASSIGN_OR_RETURN(ModelRecord m,
                               models->Unpublish(req.path_params["id"], ActorOf(req)));
              return ModelResponse(models, 200, m);
            }});
  http::Route test{"POST", base + "/{id}/test", AuthScope::kAdmin,
                   [models, options](Request& req) { return Test(models, options, req); }};
  test.max_body_bytes = options.max_test_body_bytes;
  test.long_running = true;  // may load the version first
  routes.push_back(std::move(test));
}

}  // namespace

void AddModelRoutes(ModelService* models, const ModelRoutesOptions& options,
                    std::vector<http::Route>& routes) {
  const std::string base = "/api/v1/internal/models";
  AddModelCrudRoutes(models, options, base, routes);
  AddVersionRoutes(models, options, base, routes);
  AddServingRoutes(models, options, base, routes);
}

}  // namespace cinfer::api
