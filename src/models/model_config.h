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

namespace cinfer {

enum class ResizeMode { kStretch, kLetterbox, kCenterCrop };
enum class ColorOrder { kRgb, kBgr };
enum class Layout { kNchw, kNhwc };

// How an image becomes the model's input tensor.
struct InputSpec {
  std::string tensor;  // input name; "" = the model's first input (ApplyIoDefaults)
  int64_t width = 0;   // target size; 0 = from the input's shape (ApplyIoDefaults)
  int64_t height = 0;
  ResizeMode resize = ResizeMode::kStretch;
  int pad_value = 114;  // letterbox padding, 0..255
  ColorOrder color = ColorOrder::kRgb;
  double scale = 1.0 / 255.0;  // pixel * scale, then (x - mean) / std per channel
  std::array<double, 3> mean{0, 0, 0};
  std::array<double, 3> std{1, 1, 1};  // entries > 0
  // Unset: inferred from the input's shape by ApplyIoDefaults, NCHW if it cannot tell.
  std::optional<Layout> layout;
  std::optional<DataType> dtype;  // unset: the input's dtype (ApplyIoDefaults)

  bool operator==(const InputSpec&) const = default;
};

enum class Task { kRaw, kClassification, kDetection, kTextDetection };
enum class DetectionLayout { kYoloV5, kYoloV8 };

// What is made of the model's output. Only the fields of `task` may be set.
struct OutputSpec {
  Task task = Task::kRaw;
  std::string tensor;  // output name; "" = the first output (ApplyIoDefaults, non-raw tasks)
  // classification
  std::vector<std::string> labels;
  int64_t top_k = 5;
  bool softmax = false;
  // detection
  DetectionLayout layout = DetectionLayout::kYoloV8;
  double score_threshold = 0.25;
  double iou_threshold = 0.45;
  int64_t max_detections = 300;
  std::vector<std::string> class_names;
  // text detection (DB)
  double binary_threshold = 0.3;
  double box_threshold = 0.6;
  double unclip_ratio = 1.5;
  int64_t max_candidates = 1000;
  int64_t min_size = 3;

  bool operator==(const OutputSpec&) const = default;
};

struct ModelConfig {
  std::map<std::string, Shape> input_shapes;  // fixes/resolves input dimensions
  int64_t max_batch_size = 0;                 // 0: no batching
  int64_t instances = 1;
  int64_t warmup_iterations = 1;
  int64_t threads = 0;             // engine_options.threads; 0 = engine default
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
