// Application API routes (AuthScope::kApiToken): published models, single,
// batch and asynchronous inference, and async results. Inputs: a multipart
// `image` part, a raw image body (image/jpeg|png|webp|bmp), JSON
// {"image": "<base64 or data URI>"} or JSON tensors {"inputs": [...]}.
#pragma once

#include <string>
#include <vector>

#include "http/router.h"
#include "inference/async_requests.h"
#include "inference/inference_service.h"

namespace cinfer::api {

struct InferenceRoutesOptions {
  std::string spool_dir;              // multipart bodies are parsed from a spool file
  size_t max_body_bytes = 32u << 20;  // per inference request
};

void AddInferenceRoutes(InferenceService* inference, AsyncRequests* async,
                        const InferenceRoutesOptions& options, std::vector<http::Route>& routes);

// The stage for AuthScope::kApiToken until API tokens exist: admits every
// request. The API-token issue replaces it with token checks.
class OpenAppAuthenticator final : public http::Authenticator {
 public:
  absl::Status Authenticate(http::Request&) override { return absl::OkStatus(); }
};

}  // namespace cinfer::api
