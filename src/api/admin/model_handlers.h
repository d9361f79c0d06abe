// Admin model routes: upload (multipart, streamed to disk), list, get, delete.
#pragma once

#include <string>
#include <vector>

#include "http/router.h"
#include "models/model_service.h"

namespace cinfer::api {

struct ModelRoutesOptions {
  std::string spool_dir;  // where multipart file parts are spooled (same filesystem as models)
  uint64_t max_file_bytes = 100u << 20;
};

void AddModelRoutes(ModelService* models, const ModelRoutesOptions& options,
                    std::vector<http::Route>& routes);

}  // namespace cinfer::api
