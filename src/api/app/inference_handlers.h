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
#include "models/model_service.h"
#include "tokens/token_service.h"

namespace cinfer::api {

struct InferenceRoutesOptions {
  size_t max_body_bytes = 32u << 20;  // per inference request (multipart parsed in memory)
};

// The services the application routes use; not owned.
struct AppServices {
  InferenceService* inference = nullptr;
  AsyncRequests* async = nullptr;
  TokenService* tokens = nullptr;  // quota reservations, allowed models
};

// The image form of the admin test endpoint (the console's playground):
// the inputs and parameters of /infer, run by InferenceService::RunDirect on
// the serving instance when the model is published, else on the version
// loaded for the call; no quota and no inference-log row. Adds `source`
// ("serving" | "loaded"), `image` {width, height} and `timing_ms.load`.
absl::StatusOr<http::Response> TestImage(InferenceService* inference, ModelService* models,
                                         const InferenceRoutesOptions& options, http::Request& req);

// The routes run behind TokenAuthenticator (AuthScope::kApiToken).
void AddInferenceRoutes(const AppServices& app, const InferenceRoutesOptions& options,
                        std::vector<http::Route>& routes);

}  // namespace cinfer::api
