// ModelConfig: the per-model configuration an admin uploads with a model
// (docs/MODEL_CONFIG.md). Parsed from JSON; unknown fields and wrong types are
// VALIDATION_FAILED errors naming the field. Plain data.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engines/tensor.h"
#include "nlohmann/json.hpp"

namespace cinfer {

struct ModelConfig {
  std::map<std::string, Shape> input_shapes;  // fixes/resolves input dimensions
  int64_t max_batch_size = 0;                 // 0: no batching
  int64_t instances = 1;
  int64_t warmup_iterations = 1;
  int64_t threads = 0;                               // engine_options.threads; 0 = engine default
  int64_t max_queue_delay_us = 0;                    // dynamic_batching.max_queue_delay_us
  nlohmann::json input = nlohmann::json::object();   // image preprocessing spec
  nlohmann::json output = nlohmann::json::object();  // postprocessing spec
};

absl::StatusOr<ModelConfig> ParseModelConfig(const nlohmann::json& json);
// Parses the JSON text of a config ("" means the defaults).
absl::StatusOr<ModelConfig> ParseModelConfigText(std::string_view text);
nlohmann::json ModelConfigToJson(const ModelConfig& config);

}  // namespace cinfer
