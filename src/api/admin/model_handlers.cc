#include "api/admin/model_handlers.h"

#include <unistd.h>

#include <charconv>

#include "api/admin_authenticator.h"
#include "api/json_util.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/multipart.h"

namespace cinfer::api {
namespace {

using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

absl::Status BadRequest(std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, "BAD_REQUEST", message);
}

nlohmann::json ParsedOr(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

nlohmann::json ModelJson(const ModelRecord& m, const std::vector<ModelVersionRecord>& versions) {
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : versions) {
    vs.push_back({{"version", v.version},
                  {"size_bytes", v.size_bytes},
                  {"sha256", v.sha256},
                  {"original_filename", v.original_filename},
                  {"created_by", v.created_by},
                  {"created_at", v.created_at}});
  }
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

absl::StatusOr<int64_t> PositiveParam(const Request& req, const char* name, int64_t fallback,
                                      int64_t max) {
  auto value = req.QueryParam(name);
  if (!value.has_value()) return fallback;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
  if (ec != std::errc() || p != value->data() + value->size() || v < 1 || v > max) {
    return BadRequest(StrCat("query parameter '", name, "' must be an integer from 1 to ", max));
  }
  return v;
}

Result Upload(ModelService* models, const ModelRoutesOptions& o, Request& req) {
  ASSIGN_OR_RETURN(std::string boundary,
                   http::MultipartBoundary(req.Header("content-type").value_or("")));
  http::MultipartLimits limits;
  limits.max_file_bytes = o.max_file_bytes;
  ASSIGN_OR_RETURN(auto parts,
                   http::ParseMultipartFile(req.body_file, boundary, o.spool_dir, limits));
  PartFiles cleanup{&parts};
  const http::MultipartPart* file = nullptr;
  ModelUpload up;
  for (const auto& p : parts) {
    if (p.name == "file" && p.filename.has_value()) file = &p;
    if (p.name == "name") up.name = p.value;
    if (p.name == "description") up.description = p.value;
    if (p.name == "engine") up.engine = std::string(Trim(p.value));
    if (p.name == "config") up.config_text = p.value;
  }
  if (file == nullptr) return BadRequest("multipart part 'file' (the model file) is missing");
  if (up.name.empty()) return BadRequest("multipart part 'name' is missing");
  up.file_path = file->file_path;
  up.original_filename = *file->filename;
  up.size_bytes = file->size;
  up.sha256 = file->sha256_hex;
  up.actor = AdminOf(req).username;
  up.actor_id = AdminOf(req).user_id;
  up.client_ip = req.client_ip;
  ASSIGN_OR_RETURN(ModelRecord m, models->Create(up));
  ASSIGN_OR_RETURN(auto versions, models->Versions(m.id));
  return JsonResponse(201, ModelJson(m, versions));
}

Result List(ModelService* models, Request& req) {
  ASSIGN_OR_RETURN(int64_t page, PositiveParam(req, "page", 1, 1'000'000));
  ASSIGN_OR_RETURN(int64_t page_size, PositiveParam(req, "page_size", 20, 100));
  ModelFilter f;
  f.status = std::string(req.QueryParam("status").value_or(""));
  f.engine = std::string(req.QueryParam("engine").value_or(""));
  f.name = std::string(req.QueryParam("name").value_or(""));
  f.offset = (page - 1) * page_size;
  f.limit = page_size;
  ASSIGN_OR_RETURN(auto listed, models->List(f));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& m : listed.first) {
    ASSIGN_OR_RETURN(auto versions, models->Versions(m.id));
    items.push_back(ModelJson(m, versions));
  }
  return JsonResponse(
      200, {{"items", items}, {"total", listed.second}, {"page", page}, {"page_size", page_size}});
}

}  // namespace

void AddModelRoutes(ModelService* models, const ModelRoutesOptions& options,
                    std::vector<http::Route>& routes) {
  using http::AuthScope;
  http::Route upload{"POST", "/api/v1/internal/models", AuthScope::kAdmin,
                     [models, options](Request& req) { return Upload(models, options, req); }};
  upload.max_body_bytes = options.max_file_bytes + (1u << 20);  // the file plus the form fields
  upload.body_to_file = true;
  routes.push_back(std::move(upload));
  routes.push_back({"GET", "/api/v1/internal/models", AuthScope::kAdmin,
                    [models](Request& req) { return List(models, req); }});
  routes.push_back(
      {"GET", "/api/v1/internal/models/{id}", AuthScope::kAdmin, [models](Request& req) -> Result {
         ASSIGN_OR_RETURN(ModelRecord m, models->Get(req.path_params["id"]));
         ASSIGN_OR_RETURN(auto versions, models->Versions(m.id));
         return JsonResponse(200, ModelJson(m, versions));
       }});
  routes.push_back({"DELETE", "/api/v1/internal/models/{id}", AuthScope::kAdmin,
                    [models](Request& req) -> Result {
                      RETURN_IF_ERROR(models->Delete(req.path_params["id"], AdminOf(req).username,
                                                     req.client_ip));
                      return http::Response::NoContent();
                    }});
}

}  // namespace cinfer::api
