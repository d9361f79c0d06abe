#include "api/routes.h"

#include "api/admin/auth_handlers.h"
#include "api/route_roles.h"

namespace cinfer::api {

absl::StatusOr<std::vector<http::Route>> BuildRoutes(const SystemDeps& system, ModelService* models,
                                                     const ModelRoutesOptions& model_options,
                                                     const AppDeps& app) {
  std::vector<http::Route> routes;
  AddSystemRoutes(system, routes);
  AddAuthRoutes(system.auth, routes);
  ModelRoutesOptions with_images = model_options;
  if (app.inference != nullptr) {
    with_images.image_test = [inference = app.inference, models,
                              o = app.options](http::Request& req) {
      return TestImage(inference, models, o, req);
    };
  }
  AddModelRoutes(models, with_images, routes);
  AddLogRoutes({app.logs, app.model_store, app.audit, app.clock}, routes);
  AddTokenRoutes(app.tokens, routes);
  AddUserRoutes(app.users, routes);
  AddInferenceRoutes({app.inference, app.async, app.tokens}, app.options, routes);
  if (absl::Status st = AssignRouteRoles(routes); !st.ok()) return st;
  return routes;
}

}  // namespace cinfer::api
