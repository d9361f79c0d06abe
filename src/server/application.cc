#include "server/application.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include "api/admin_authenticator.h"
#include "api/app/token_authenticator.h"
#include "api/routes.h"
#include "api/system/metrics_handlers.h"
#include "auth/admin_auth_service.h"
#include "auth/jwt_codec.h"
#include "auth/login_throttle.h"
#include "auth/password_hasher.h"
#include "auth/secret_file.h"
#include "auth/user_service.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/file_util.h"
#include "common/readiness.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "config/config_fields.h"
#include "engines/builtin_engines.h"
#include "http/http_server.h"
#include "inference/async_requests.h"
#include "inference/inference_service.h"
#include "logs/inference_log_writer.h"
#include "models/model_service.h"
#include "models/model_validator.h"
#include "server/live_config.h"
#include "server/server_metrics.h"
#include "spdlog/spdlog.h"
#include "storage/sqlite/sqlite_database.h"
#include "tokens/token_service.h"
#include "tokens/usage_recorder.h"

namespace cinfer {
namespace {

void LoadAsset(const std::string& dir, const char* name, std::string* out) {
  auto content = ReadFileToString(StrCat(dir, "/", name));
  if (content.ok()) {
    *out = *std::move(content);
  } else {
    spdlog::warn("asset {}/{} not found; its route answers 404", dir, name);
  }
}

// The main listener's options, its live part as of `live`.
http::HttpServer::Options ServerOptionsFrom(const Config& config,
                                            http::HttpServer::LiveSettings live) {
  const ServerConfig& s = config.server;
  http::HttpServer::Options o;
  o.host = s.host;
  o.port = s.port;
  o.io_threads = s.io_threads;
  o.io_nice = s.io_nice;
  o.handler_threads = s.workers;
  o.work_threads = s.inference_workers;
  o.long_threads = s.workers;
  o.max_connections = static_cast<size_t>(s.max_connections);
  o.max_app_in_flight = static_cast<size_t>(config.request.max_in_flight);
  o.max_app_in_flight_bytes = static_cast<size_t>(config.request.max_in_flight_mb) << 20;
  o.max_header_bytes = static_cast<size_t>(s.max_header_kb) * 1024;
  o.read_timeout = std::chrono::seconds(s.read_timeout_s);
  o.idle_timeout = std::chrono::seconds(s.idle_timeout_s);
  o.shutdown_timeout = std::chrono::seconds(s.shutdown_timeout_s);
  o.access_log = live.access_log;
  o.json_logs = s.log_format == "json";
  o.trusted_proxies = std::move(live.trusted_proxies);
  if (s.tls.enabled) {
    o.tls_cert_file = s.tls.cert_file;
    o.tls_key_file = s.tls.key_file;
  }
  return o;
}

// The metrics listener: the main one's limits, timeouts, TLS and logging on
// its own address, with a thread of each kind; the main listener handles the signals.
http::HttpServer::Options MetricsServerOptions(const http::HttpServer::Options& main,
                                               const config_fields::ListenAddress& at) {
  http::HttpServer::Options o = main;
  o.host = at.host;
  o.port = at.port;
  o.io_threads = 1;
  o.handler_threads = 1;
  o.work_threads = 1;
  o.long_threads = 1;
  o.max_connections = std::min<size_t>(main.max_connections, 64);
  o.handle_signals = false;
  o.on_drain_timeout = nullptr;
  return o;
}

std::string UrlOf(const http::HttpServer::Options& o, int port) {
  const bool v6 = o.host.find(':') != std::string::npos;
  return StrCat(o.tls_cert_file.empty() ? "http" : "https", "://", v6 ? "[" : "", o.host,
                v6 ? "]" : "", ":", port);
}

// A server running on a thread of its own until Stop (or destruction), which
// shuts it down gracefully and waits for it.
class BackgroundServer {
 public:
  explicit BackgroundServer(http::HttpServer* server) : server_(server) {
    thread_ = std::thread([server] {
      if (absl::Status st = server->Run(); !st.ok()) {
        spdlog::error("metrics listener: {}", st.ToString());
      }
    });
  }
  ~BackgroundServer() { Stop(); }
  BackgroundServer(const BackgroundServer&) = delete;
  BackgroundServer& operator=(const BackgroundServer&) = delete;

  void Stop() {
    if (!thread_.joinable()) return;
    server_->Shutdown();
    thread_.join();
  }

 private:
  http::HttpServer* server_;
  std::thread thread_;
};

}  // namespace

// Declared in dependency order; destroyed in reverse.
struct Application::Components {
  std::unique_ptr<RuntimeConfig> runtime;
  Config config;  // as at start
  SystemClock clock;
  Clock::TimePoint started_at;
  Readiness readiness;
  std::unique_ptr<Metrics> metrics;  // null when metrics.enabled is false
  std::unique_ptr<SqliteDatabase> db;
  std::unique_ptr<EngineRegistry> engines;
  std::unique_ptr<PasswordHasher> hasher;
  std::unique_ptr<JwtCodec> jwt;
  std::unique_ptr<LoginThrottle> throttle;
  std::unique_ptr<AdminAuthService> auth;
  std::unique_ptr<api::AdminAuthenticator> admin_authenticator;
  std::unique_ptr<UserService> users;
  std::unique_ptr<ModelValidator> validator;
  std::unique_ptr<InferenceLogWriter> log_writer;
  std::unique_ptr<ServingRegistry> serving;
  std::unique_ptr<ModelService> models;
  std::unique_ptr<vision::DecodeBudget> decode_budget;
  std::unique_ptr<vision::ImageCodecs> codecs;
  std::unique_ptr<InferenceService> inference;
  std::unique_ptr<AsyncRequests> async;
  std::unique_ptr<UsageRecorder> usage;
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<api::TokenAuthenticator> app_authenticator;
  std::string spool_dir;
  api::StaticAssets assets;
  std::unique_ptr<http::Router> router;
  // metrics.listen: GET /metrics on a listener of its own (null: on the main one).
  std::unique_ptr<http::Router> metrics_router;
  config_fields::ListenAddress metrics_listen;
  int live_subscription = 0;
};

Application::Application(std::unique_ptr<Components> c) : c_(std::move(c)) {}
Application::~Application() {
  if (c_->live_subscription != 0) c_->runtime->Unsubscribe(c_->live_subscription);
}

absl::StatusOr<std::unique_ptr<Application>> Application::Create(
    std::unique_ptr<RuntimeConfig> runtime, const Options& options) {
  auto c = std::make_unique<Components>();
  c->config = *runtime->Current();
  c->runtime = std::move(runtime);
  c->started_at = c->clock.Now();
  if (c->config.metrics.enabled) c->metrics = std::make_unique<Metrics>();
  // The machine's cores size what model configs leave out (models/serving_plan.h).
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  RETURN_IF_ERROR(OpenStorage(c.get()));
  c->engines = BuildEngineRegistry(c->config.engines);
  RETURN_IF_ERROR(BuildAuth(c.get()));
  LoadAssets(c.get(), options);
  RETURN_IF_ERROR(BuildModels(c.get(), options, cores));
  RETURN_IF_ERROR(BuildAppServices(c.get(), cores));
  RETURN_IF_ERROR(BuildRouter(c.get()));
  LiveModules live{c->inference.get(), c->tokens.get(),     c->async.get(),
                   c->throttle.get(),  c->log_writer.get(), c->models.get()};
  c->live_subscription =
      c->runtime->Subscribe([live](const Config& next) { ApplyLiveConfig(next, live); });
  return std::unique_ptr<Application>(new Application(std::move(c)));
}

absl::Status Application::OpenStorage(Components* c) {
  const std::string& data_dir = c->config.server.data_dir;
  RETURN_IF_ERROR(EnsureDirectory(data_dir, 0700));
  ASSIGN_OR_RETURN(c->db, SqliteDatabase::Open({.path = data_dir + "/cinfer.db"}));
  return absl::OkStatus();
}

absl::Status Application::BuildAuth(Components* c) {
  const Config& config = c->config;
  const std::string& data_dir = config.server.data_dir;
  ASSIGN_OR_RETURN(
      c->hasher, PasswordHasher::Create({.max_concurrent = config.auth.password_hash_concurrency}));
  std::string secret = config.auth.jwt_secret;  // shared by replicas when set
  if (secret.empty()) {
    ASSIGN_OR_RETURN(secret, LoadOrCreateSecret(data_dir + "/jwt-secret", 32));
  }
  ASSIGN_OR_RETURN(
      JwtCodec jwt,
      JwtCodec::Create(
          {.secret = secret, .ttl = std::chrono::minutes(config.auth.admin_session_minutes)},
          &c->clock));
  c->jwt = std::make_unique<JwtCodec>(std::move(jwt));
  c->throttle = std::make_unique<LoginThrottle>(ThrottleOptionsFrom(config), &c->clock);
  ASSIGN_OR_RETURN(c->auth,
                   AdminAuthService::Create({c->db.get(), c->db.get(), c->db.get(), c->hasher.get(),
                                             c->jwt.get(), c->throttle.get(), &c->clock},
                                            data_dir + "/setup-code", /*issue_setup_code=*/true));
  c->admin_authenticator = std::make_unique<api::AdminAuthenticator>(c->auth.get());
  return absl::OkStatus();
}

void Application::LoadAssets(Components* c, const Options& options) {
  const std::string assets_dir = c->config.server.assets_dir.empty()
                                     ? options.executable_dir + "/share/cinfer"
                                     : c->config.server.assets_dir;
  LoadAsset(assets_dir, "openapi.yaml", &c->assets.openapi_yaml);
  LoadAsset(assets_dir, "docs.html", &c->assets.docs_html);
  LoadAsset(assets_dir, "redoc.standalone.js", &c->assets.redoc_js);
  LoadAsset(assets_dir, "index.html", &c->assets.index_html);
  c->assets.console = api::ConsoleAssets::Load(assets_dir + "/console");
}

absl::Status Application::BuildModels(Components* c, const Options& options, int cores) {
  const Config& config = c->config;
  const std::string& data_dir = config.server.data_dir;
  const ModelsConfig& mc = config.models;
  const std::string models_dir = mc.storage_path.empty() ? data_dir + "/models" : mc.storage_path;
  c->spool_dir = data_dir + "/tmp";
  RETURN_IF_ERROR(EnsureDirectory(models_dir, 0700));
  std::error_code ec;
  if (auto left = std::filesystem::remove_all(c->spool_dir, ec); left > 1 && !ec) {
    spdlog::warn("removed {} spool file(s) an unclean stop left in {}", left - 1, c->spool_dir);
  }
  RETURN_IF_ERROR(EnsureDirectory(c->spool_dir, 0700));
  c->validator = std::make_unique<ModelValidator>(
      ModelValidator::Options{options.executable, "", mc.validation_memory_mb, mc.validation_cpu_s,
                              std::chrono::seconds(mc.validation_timeout_s)});
  c->log_writer =
      std::make_unique<InferenceLogWriter>(LogWriterOptionsFrom(config), c->db.get(), &c->clock);
  c->serving = std::make_unique<ServingRegistry>();
  c->models = std::make_unique<ModelService>(
      ModelService::Options{models_dir, std::chrono::seconds(config.server.shutdown_timeout_s),
                            static_cast<size_t>(config.request.queue_size), cores,
                            c->metrics.get()},
      c->db.get(), c->db.get(), c->validator.get(), c->engines.get(), c->serving.get(), &c->clock);
  return absl::OkStatus();
}

absl::Status Application::BuildAppServices(Components* c, int cores) {
  const Config& config = c->config;
  c->decode_budget = std::make_unique<vision::DecodeBudget>(
      static_cast<int64_t>(config.request.decode_memory_mb) << 20);
  // Opened on the first image, from the plugin folder (vision/image_codecs.h).
  c->codecs = std::make_unique<vision::ImageCodecs>(
      StrCat(EnginePluginDir(config.engines), "/libcinfer_imgcodecs.so"));
  c->inference = std::make_unique<InferenceService>(
      InferenceOptionsFrom(config), c->serving.get(), c->db.get(), c->log_writer.get(),
      c->decode_budget.get(), c->codecs.get(), &c->clock, cores, c->metrics.get());
  c->async = std::make_unique<AsyncRequests>(AsyncOptionsFrom(config), &c->clock);
  UsageRecorder::Options usage;
  usage.metrics = c->metrics.get();
  usage.linger = std::chrono::microseconds(config.request.usage_commit_linger_us);
  usage.write_inline_when_idle = config.request.usage_commit_inline;
  c->usage = std::make_unique<UsageRecorder>(usage, c->db.get());
  ASSIGN_OR_RETURN(c->tokens,
                   TokenService::Create(TokenOptionsFrom(config),
                                        {c->db.get(), c->db.get(), c->db.get(), c->db.get(),
                                         c->usage.get(), &c->clock, c->metrics.get()}));
  c->app_authenticator = std::make_unique<api::TokenAuthenticator>(c->tokens.get());
  c->users = std::make_unique<UserService>(
      UserService::Deps{c->db.get(), c->db.get(), c->hasher.get(), &c->clock});
  return absl::OkStatus();
}

absl::Status Application::BuildRouter(Components* c) {
  const Config& config = c->config;
  // metrics.listen: /metrics moves to a listener of its own (the main one answers 404).
  const bool own_listener = config.metrics.enabled && !config.metrics.listen.empty();
  if (own_listener) {
    auto at = config_fields::ParseListenAddress(config.metrics.listen);
    if (!at.ok()) {
      return FieldValidationError(
          "metrics.listen", StrCat("config key 'metrics.listen': ", ToStd(at.status().message())));
    }
    c->metrics_listen = *std::move(at);
    c->metrics_router = api::BuildMetricsRouter(c->metrics.get(), config.metrics.token);
  }
  api::AppDeps app;
  app.inference = c->inference.get();
  app.async = c->async.get();
  app.tokens = c->tokens.get();
  app.options = {static_cast<size_t>(config.request.max_body_mb) << 20};
  app.logs = c->db.get();
  app.model_store = c->db.get();
  app.audit = c->db.get();
  app.users = c->users.get();
  app.clock = &c->clock;
  api::SystemDeps system{c->auth.get(),
                         &c->readiness,
                         &c->clock,
                         c->started_at,
                         config.server.data_dir,
                         c->engines.get(),
                         &c->assets,
                         c->runtime.get(),
                         c->db.get(),
                         c->log_writer.get(),
                         config.metrics.enabled && !own_listener,
                         c->metrics.get(),
                         config.metrics.token};
  api::ModelRoutesOptions model_routes;
  model_routes.spool_dir = c->spool_dir;
  model_routes.max_file_bytes = static_cast<uint64_t>(config.models.max_file_size_mb) << 20;
  ASSIGN_OR_RETURN(std::vector<http::Route> routes,
                   api::BuildRoutes(system, c->models.get(), model_routes, app));
  c->router = std::make_unique<http::Router>(
      std::move(routes),
      std::map<http::AuthScope, http::Authenticator*>{
          {http::AuthScope::kAdmin, c->admin_authenticator.get()},
          {http::AuthScope::kApiToken, c->app_authenticator.get()}},
      static_cast<size_t>(config.server.max_json_body_kb) * 1024, c->metrics.get());
  if (c->metrics != nullptr) {
    AddServerCollectors(c->metrics.get(), config.server.data_dir, c->log_writer.get(),
                        c->serving.get(), c->models.get());
  }
  return absl::OkStatus();
}

absl::Status Application::Serve() {
  const std::shared_ptr<const Config> now = c_->runtime->Current();  // live keys may have moved
  ASSIGN_OR_RETURN(http::HttpServer::LiveSettings live, HttpLiveSettingsFrom(*now));
  http::HttpServer::Options o = ServerOptionsFrom(c_->config, std::move(live));
  o.upload_dir = c_->spool_dir;
  o.on_drain_timeout = [this] {
    const size_t n = c_->serving->CancelQueued();
    spdlog::warn("shutdown: {} queued inference(s) answered 503", n);
  };
  c_->models->RemoveOrphanFiles();  // before any upload can be in flight
  ASSIGN_OR_RETURN(auto server, http::HttpServer::Create(o, c_->router.get()));
  std::unique_ptr<http::HttpServer> metrics_server;
  if (c_->metrics_router != nullptr) {
    const http::HttpServer::Options mo = MetricsServerOptions(o, c_->metrics_listen);
    auto created = http::HttpServer::Create(mo, c_->metrics_router.get());
    if (!created.ok()) {
      return FieldValidationError("metrics.listen", StrCat("config key 'metrics.listen': ",
                                                           ToStd(created.status().message())));
    }
    metrics_server = *std::move(created);
    spdlog::info("cinfer metrics listening on {}", UrlOf(mo, metrics_server->port()));
  }
  const int subscription = c_->runtime->Subscribe(
      [http = server.get(), metrics_http = metrics_server.get()](const Config& next) {
        auto settings = HttpLiveSettingsFrom(next);  // validated before it was published
        if (!settings.ok()) return;
        if (metrics_http != nullptr) metrics_http->UpdateLiveSettings(*settings);
        http->UpdateLiveSettings(*std::move(settings));
      });
  absl::Status served = ServeUntilStopped(server.get(), metrics_server.get());
  c_->runtime->Unsubscribe(subscription);
  RETURN_IF_ERROR(served);
  spdlog::info("cinfer stopped");
  return absl::OkStatus();
}

absl::Status Application::ServeUntilStopped(http::HttpServer* server,
                                            http::HttpServer* metrics_server) {
  const ServerConfig& s = c_->config.server;
  if (auto code = c_->auth->pending_setup_code()) {
    spdlog::warn("no administrator yet: first-run setup code is {} (also in {}/setup-code)", *code,
                 s.data_dir);
  }
  // Published models load again in the background; /health/ready waits for them.
  c_->readiness.AddPending();
  std::thread restore([this] {
    c_->models->RestoreServing();
    c_->readiness.Done();
    spdlog::info("published models restored");
  });
  c_->readiness.MarkStarted();
  // Scrapes go on while the main listener drains; it stops after it.
  std::optional<BackgroundServer> metrics;
  if (metrics_server != nullptr) metrics.emplace(metrics_server);
  spdlog::info("cinfer listening on {}://{}:{}", s.tls.enabled ? "https" : "http", s.host,
               server->port());
  absl::Status served = server->Run();
  if (metrics.has_value()) metrics->Stop();
  restore.join();
  return served;
}

}  // namespace cinfer
