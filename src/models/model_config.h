// ModelConfig: the per-model configuration an admin uploads with a model
// (docs/MODEL_CONFIG.md). Parsed from JSON; unknown fields, wrong types and
// out-of-range values are VALIDATION_FAILED errors naming the field by its
// dotted path. `input` (image preprocessing) and `output` (postprocessing) are
// typed specs; ApplyIoDefaults fills what they leave open from the model's IO
// schema. Plain data.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engines/tensor.h"
#include "nlohmann/json.hpp"
#include "vision/specs.h"

namespace cinfer {

struct ModelConfig {
  std::map<std::string, Shape> input_shapes;  // fixes/resolves input dimensions
  int64_t max_batch_size = 0;                 // 0: no batching
  int64_t instances = 0;                      // 0: sized from the machine (models/serving_plan.h)
  int64_t warmup_iterations = 1;
  int64_t threads = 0;  // engine_options.threads; 0: sized from the machine
  // engine_options.performance_hint ("", "latency", "throughput") and .streams (0: the
  // engine's default): OpenVINO only, other engines ignore them.
  std::string performance_hint;
  int64_t streams = 0;
  int64_t max_queue_delay_us = 0;  // dynamic_batching.max_queue_delay_us
  InputSpec input;                 // image preprocessing spec
  OutputSpec output;               // postprocessing spec

  bool operator==(const ModelConfig&) const = default;
};

absl::StatusOr<ModelConfig> ParseModelConfig(const nlohmann::json& json);
// Parses the JSON text of a config ("" means the defaults).
absl::StatusOr<ModelConfig> ParseModelConfigText(std::string_view text);
// Every field with its value (unset optionals as null; output fields of the
// chosen task only), so that ParseModelConfig gives back an equal config.
nlohmann::json ModelConfigToJson(const ModelConfig& config);

// Fills what `config->input`/`output` leave open from the model's IO schema
// ({"inputs": [{"name", "datatype", "shape"}], "outputs": [...]}, as the
// inspection reports it): tensor names, input width/height/layout from a rank-4
// shape (config->input_shapes wins over the schema's shape), input dtype.
// VALIDATION_FAILED when input.tensor / output.tensor names a tensor the
// schema does not list. Rules: docs/MODEL_CONFIG.md.
absl::Status ApplyIoDefaults(const nlohmann::json& io_schema, ModelConfig* config);

}  // namespace cinfer
