// How configuration becomes module options, at start and on every runtime
// change: the one place that maps config keys to the modules that own them.
// docs/CONFIG.md lists which keys apply live.
#pragma once

#include "auth/login_throttle.h"
#include "config/config.h"
#include "http/http_server.h"
#include "inference/async_requests.h"
#include "inference/inference_service.h"
#include "logs/inference_log_writer.h"
#include "models/model_service.h"
#include "tokens/token_service.h"

namespace cinfer {

InferenceService::Options InferenceOptionsFrom(const Config& config);
TokenService::Options TokenOptionsFrom(const Config& config);
AsyncRequests::Options AsyncOptionsFrom(const Config& config);
LoginThrottle::Options ThrottleOptionsFrom(const Config& config);
InferenceLogWriter::Options LogWriterOptionsFrom(const Config& config);

// The modules whose settings change at run time (null: not built).
struct LiveModules {
  InferenceService* inference = nullptr;
  TokenService* tokens = nullptr;
  AsyncRequests* async = nullptr;
  LoginThrottle* throttle = nullptr;
  InferenceLogWriter* log_writer = nullptr;
  ModelService* models = nullptr;
};

// Hands each module its part of one configuration snapshot; also the log level.
void ApplyLiveConfig(const Config& config, const LiveModules& modules);

// The HTTP server's part (it exists only while serving).
absl::StatusOr<http::HttpServer::LiveSettings> HttpLiveSettingsFrom(const Config& config);

}  // namespace cinfer
