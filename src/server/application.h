// Application: the composition root. Builds every component from the configuration —
// storage → auth → api → http — owns them, and tears them down in reverse.
// No component reaches another except through what is passed in here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/runtime_config.h"
#include "http/http_server.h"
#include "http/router.h"

namespace cinfer {

class Application {
 public:
  struct Options {
    std::string executable_dir;  // for the default assets dir
    std::string executable;      // this binary, run as the isolated model validator
  };
  // Runs with runtime->Current(); live keys follow runtime's changes.
  static absl::StatusOr<std::unique_ptr<Application>> Create(std::unique_ptr<RuntimeConfig> runtime,
                                                             const Options& options);
  ~Application();

  // Binds, serves until SIGINT/SIGTERM and a graceful shutdown, then returns.
  absl::Status Serve();

 private:
  struct Components;
  explicit Application(std::unique_ptr<Components> c);
  // The stages of Create, run in this order; each builds on what the earlier
  // ones put in `c`.
  static absl::Status OpenStorage(Components* c);  // data dir, database
  static absl::Status BuildAuth(Components* c);
  static void LoadAssets(Components* c, const Options& options);  // docs, console
  static absl::Status BuildModels(Components* c, const Options& options, int cores);
  // Inference, async requests, API tokens and users.
  static absl::Status BuildAppServices(Components* c, int cores);
  static absl::Status BuildRouter(Components* c);  // the routes and their authenticators
  // The rest of Serve: starts the metrics listener (if any) and serves until the
  // main listener stops, then stops the metrics listener.
  absl::Status ServeUntilStopped(http::HttpServer* server, http::HttpServer* metrics_server);
  std::unique_ptr<Components> c_;
};

}  // namespace cinfer
