// Admin model routes: upload (multipart, streamed to disk), list, get, update,
// delete, versions, activate, publish, unpublish and test.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/router.h"
#include "models/model_service.h"

namespace cinfer::api {

struct ModelRoutesOptions {
  std::string spool_dir;  // where multipart file parts are spooled (same filesystem as models)
  uint64_t max_file_bytes = 100u << 20;
  uint64_t max_test_body_bytes = 64u << 20;  // tensor JSON or an image for the test endpoint
  // The test endpoint's image inputs (multipart or an image body); unset: 415.
  std::function<absl::StatusOr<http::Response>(http::Request&)> image_test;
};

void AddModelRoutes(ModelService* models, const ModelRoutesOptions& options,
                    std::vector<http::Route>& routes);

}  // namespace cinfer::api
