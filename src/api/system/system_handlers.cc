#include "api/system/system_handlers.h"

#include "api/json_util.h"
#include "api/system/config_handlers.h"
#include "api/system/metrics_handlers.h"
#include "cinfer_version.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "metrics/system_resources.h"

namespace cinfer::api {
namespace {

using http::AuthScope;
using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

http::Handler Asset(const std::string* content, std::string content_type) {
  return [content, content_type](Request&) -> Result {
    if (content->empty()) return NotFoundError("this asset is not installed");
    Response r = Response::Text(200, content_type, *content);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  };
}

std::string_view AcceptEncoding(const Request& req) {
  auto it = req.headers.find("accept-encoding");
  return it == req.headers.end() ? std::string_view() : std::string_view(it->second);
}

// "/" and every client-side route answer the console's index.html; its hashed
// files live under /assets/. Without an installed console, "/" shows the placeholder.
void AddConsoleRoutes(const StaticAssets* assets, std::vector<http::Route>& routes) {
  auto index = [assets](Request& req) -> Result {
    const ConsoleAssets::File* f = assets->console.Find("index.html");
    if (f == nullptr) {
      if (assets->index_html.empty()) return NotFoundError("the console is not installed");
      Response r = Response::Text(200, "text/html; charset=utf-8", assets->index_html);
      r.headers.emplace_back("Cache-Control", "no-cache");
      AddConsoleSecurityHeaders(r);
      return r;
    }
    return ConsoleAssets::Serve(*f, false, AcceptEncoding(req));
  };
  routes.push_back({"GET", "/", AuthScope::kPublic, index});
  routes.push_back({"GET", "/assets/{file}", AuthScope::kPublic, [assets](Request& req) -> Result {
                      const auto* f = assets->console.Find("assets/" + req.path_params["file"]);
                      if (f == nullptr) return NotFoundError("no such console file");
                      return ConsoleAssets::Serve(*f, true, AcceptEncoding(req));
                    }});
  http::Route fallback{
      "GET", "/{*path}", AuthScope::kPublic, [assets, index](Request& req) -> Result {
        if (IsClientRoute(req.path)) return index(req);
        const auto* f =
            req.path.rfind('/') == 0 ? assets->console.Find(req.path.substr(1)) : nullptr;
        if (f == nullptr) return NotFoundError("no such route");
        return ConsoleAssets::Serve(*f, false, AcceptEncoding(req));
      }};
  fallback.fallback = true;
  routes.push_back(std::move(fallback));
}

Result Setup(AdminAuthService* auth, Request& req) {
  ASSIGN_OR_RETURN(auto body, ParseJsonObject(req));
  ASSIGN_OR_RETURN(bool initialized, auth->IsInitialized());
  if (initialized) {
    return MakeError(ErrorCode::kAlreadyInitialized, "the server already has an administrator");
  }
  auto text = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ASSIGN_OR_RETURN(UserRecord admin, auth->Setup(text("username"), text("password"),
                                                 text("setup_code"), req.client_ip));
  return JsonResponse(201, {{"id", admin.id},
                            {"username", admin.username},
                            {"is_admin", true},
                            {"created_at", admin.created_at}});
}

// `engines`: the names a model can use now (not unavailable); `engine_plugins`:
// every engine with its formats, plugin state and why it is unavailable.
std::pair<nlohmann::json, nlohmann::json> EnginesInfo(const EngineRegistry& registry) {
  nlohmann::json names = nlohmann::json::array(), plugins = nlohmann::json::array();
  for (const auto& e : registry.Describe()) {
    if (e.state != "unavailable") names.push_back(e.name);
    nlohmann::json p = {{"name", e.name}, {"formats", e.formats}, {"state", e.state}};
    if (!e.reason.empty()) p["reason"] = e.reason;
    plugins.push_back(std::move(p));
  }
  return {std::move(names), std::move(plugins)};
}

Result Info(const SystemDeps& d) {
  const SystemResources r = ReadSystemResources(d.data_dir);
  auto [engines, plugins] = EnginesInfo(*d.engines);
  const auto uptime = std::chrono::duration<double>(d.clock->Now() - d.started_at).count();
  return JsonResponse(
      200,
      {{"version", CINFER_VERSION},
       {"build",
        {{"commit", CINFER_GIT_COMMIT},
         {"type", CINFER_BUILD_TYPE},
         {"compiler", CINFER_COMPILER}}},
       {"uptime_s", uptime},
       {"engines", std::move(engines)},
       {"engine_plugins", std::move(plugins)},
       {"config", {{"pending_restart", d.runtime->PendingRestart()}}},
       {"inference_log",
        {{"written", d.log_writer->written()}, {"dropped", d.log_writer->dropped()}}},
       {"cpu",
        {{"count", r.cpu_count},
         {"load_1m", r.load_1m},
         {"load_5m", r.load_5m},
         {"load_15m", r.load_15m}}},
       {"memory",
        {{"total_mb", r.mem_total_mb},
         {"available_mb", r.mem_available_mb},
         {"process_rss_mb", r.process_rss_mb}}},
       {"disk",
        {{"data_dir", d.data_dir}, {"total_mb", r.disk_total_mb}, {"free_mb", r.disk_free_mb}}}});
}

}  // namespace

void AddSystemRoutes(const SystemDeps& deps, std::vector<http::Route>& routes) {
  auto shared = std::make_shared<const SystemDeps>(deps);
  const StaticAssets* assets = deps.assets;
  // Health checks answer on the network thread (asynchronous routes that answer at
  // once): they never queue behind a handler pool busy loading, draining or inferring.
  routes.push_back({"GET", "/health/live", AuthScope::kPublic, nullptr});
  routes.back().async_handler = [](Request&, http::Respond respond) {
    respond(JsonResponse(200, {{"status", "ok"}}));
  };
  routes.push_back({"GET", "/health/ready", AuthScope::kPublic, nullptr});
  routes.back().async_handler = [shared](Request&, http::Respond respond) {
    respond(shared->readiness->IsReady() ? JsonResponse(200, {{"status", "ready"}})
                                         : JsonResponse(503, {{"status", "starting"}}));
  };
  routes.push_back(
      {"GET", "/api/v1/internal/system/setup", AuthScope::kPublic, [shared](Request&) -> Result {
         ASSIGN_OR_RETURN(bool initialized, shared->auth->IsInitialized());
         return JsonResponse(200, {{"initialized", initialized}});
       }});
  routes.push_back({"POST", "/api/v1/internal/system/setup", AuthScope::kPublic,
                    [shared](Request& req) { return Setup(shared->auth, req); }});
  routes.push_back({"GET", "/api/v1/internal/system/info", AuthScope::kAdmin,
                    [shared](Request&) { return Info(*shared); }});
  routes.push_back({"GET", "/openapi.yaml", AuthScope::kPublic,
                    Asset(&assets->openapi_yaml, "application/yaml")});
  routes.push_back(
      {"GET", "/docs", AuthScope::kPublic, Asset(&assets->docs_html, "text/html; charset=utf-8")});
  routes.push_back({"GET", "/docs/redoc.standalone.js", AuthScope::kPublic,
                    Asset(&assets->redoc_js, "application/javascript")});
  AddConfigRoutes(deps.runtime, deps.audit, deps.clock, routes);
  if (deps.metrics_enabled) AddMetricsRoute(deps.metrics, deps.metrics_token, routes);
  AddConsoleRoutes(assets, routes);
}

}  // namespace cinfer::api
