// The complete route table of the service, built from its parts.
#pragma once

#include <vector>

#include "api/admin/model_handlers.h"
#include "api/system/system_handlers.h"
#include "http/router.h"

namespace cinfer::api {

std::vector<http::Route> BuildRoutes(const SystemDeps& system, ModelService* models,
                                     const ModelRoutesOptions& model_options);

}  // namespace cinfer::api
