// The image-side half of a model configuration: how an image becomes the
// model's input tensor (InputSpec) and what is made of its output
// (OutputSpec). Plain data owned by vision; models/model_config.h parses and
// validates it from JSON (docs/MODEL_CONFIG.md).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engines/tensor.h"

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

}  // namespace cinfer
