// Application: the composition root. Builds every component from the configuration —
// storage → auth → api → http — owns them, and tears them down in reverse.
// No component reaches another except through what is passed in here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/runtime_config.h"
#include "http/router.h"

namespace cinfer {

class Application {
 public:
  struct Options {
    std::string executable_dir;  // for the default assets dir
    std::string executable;      // this binary, run as the isolated model validator
    // Offline commands (routes, admin reset-password) must not issue a new
    // first-run setup code under a running server's feet.
    bool offline = false;
  };
  // Runs with runtime->Current(); live keys follow runtime's changes.
  static absl::StatusOr<std::unique_ptr<Application>> Create(std::unique_ptr<RuntimeConfig> runtime,
                                                             const Options& options);
  ~Application();

  // Binds, serves until SIGINT/SIGTERM and a graceful shutdown, then returns.
  absl::Status Serve();
  // The route table (method, pattern) as served; used by `cinfer routes`.
  struct RouteInfo {
    std::string method;
    std::string pattern;
    std::string auth;  // "public" | "admin" | "api_token"
    std::string role;  // admin routes: the least role
  };
  std::vector<RouteInfo> RouteList() const;
  // Offline admin password reset.
  absl::Status ResetPassword(const std::string& username, const std::string& password);

 private:
  struct Components;
  explicit Application(std::unique_ptr<Components> c);
  std::unique_ptr<Components> c_;
};

}  // namespace cinfer
