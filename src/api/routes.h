// The complete route table of the service, built from its parts.
#pragma once

#include <vector>

#include "api/admin/log_handlers.h"
#include "api/admin/model_handlers.h"
#include "api/admin/token_handlers.h"
#include "api/admin/user_handlers.h"
#include "api/app/inference_handlers.h"
#include "api/system/system_handlers.h"
#include "http/router.h"

namespace cinfer::api {

struct AppDeps {
  InferenceService* inference = nullptr;
  AsyncRequests* async = nullptr;
  TokenService* tokens = nullptr;
  InferenceRoutesOptions options;
  InferenceLogStore* logs = nullptr;
  ModelStore* model_store = nullptr;
  AuditStore* audit = nullptr;
  UserService* users = nullptr;
  const Clock* clock = nullptr;
};

// Every route, each admin route with its role (route_roles.h): an admin route
// without one is an error.
absl::StatusOr<std::vector<http::Route>> BuildRoutes(const SystemDeps& system, ModelService* models,
                                                     const ModelRoutesOptions& model_options,
                                                     const AppDeps& app);

}  // namespace cinfer::api
