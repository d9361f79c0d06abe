// Postprocessing: one batch row of a model's outputs → the task result of the
// inference API (classification, detection, text regions or raw tensors), in
// original image pixels, and its JSON form; annotation draws results on the
// image. Thread-safe, stateless.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engines/tensor.h"
#include "nlohmann/json.hpp"
#include "opencv2/core.hpp"
#include "vision/preprocess.h"
#include "vision/specs.h"

namespace cinfer::vision {

// Per-request overrides of the model config's output spec.
struct PostprocessParams {
  std::optional<double> score_threshold;  // detection, text detection (box score)
  std::optional<double> iou_threshold;    // detection NMS
  std::optional<int64_t> top_k;           // classification
};

struct ClassScore {
  int64_t index = 0;
  std::string label;  // labels[index], or the index as text when there are no labels
  double score = 0;
};

struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

struct Detection {
  Box box;  // original image pixels, clamped to the image
  double score = 0;
  int64_t class_id = 0;
  std::string label;  // class_names[class_id], or the id as text
};

struct TextRegion {
  std::array<std::array<double, 2>, 4> polygon;  // original image pixels, clockwise from top-left
  double score = 0;
};

struct TaskResult {
  Task task = Task::kRaw;
  std::vector<ClassScore> classes;    // kClassification, best first
  std::vector<Detection> detections;  // kDetection, best first
  std::vector<TextRegion> regions;    // kTextDetection, top to bottom
  std::vector<Tensor> outputs;        // kRaw: this row of every output
};

// `outputs`: every output of one engine run over a batch (outputs[i].shape[0]
// is the batch size when the output is batched); `row`: this request's row.
// `transform` maps model-input coordinates to the original image (ignored
// for classification and raw). The tensor used is spec.tensor (or the first
// output). Errors: VALIDATION_FAILED (422) when the output's shape does not
// fit the task (e.g. a YOLO output whose size is not 4(+1)+classes), naming
// the output and its shape.
//
// classification: softmax when spec.softmax, top-k (k = min(top_k, classes)).
// detection: YOLOv5 rows [cx, cy, w, h, objectness, class scores...]
//   (score = objectness * class score) as {1, N, 5+C}; YOLOv8 [cx, cy, w, h,
//   class scores...] as {1, 4+C, N} (transposed; {1, N, 4+C} accepted when N
//   < 4+C is impossible to tell apart, see the .cc); score threshold,
//   class-wise NMS at the IoU threshold, at most max_detections.
// text_detection (DB): probability map {1, 1, H, W} (or {1, H, W}) → binary
//   at binary_threshold → contours → minimum-area boxes; box score = mean
//   probability inside the contour, kept when >= box_threshold (or the
//   score_threshold override); boxes expanded by unclip_ratio (area * ratio /
//   perimeter offset), smaller than min_size dropped, at most max_candidates.
// raw: the row of every batched output (whole outputs when not batched).
absl::StatusOr<TaskResult> Postprocess(const std::vector<Tensor>& outputs, size_t row,
                                       const OutputSpec& spec, const PostprocessParams& params,
                                       const ImageTransform& transform);

// The task part of an inference response:
//   classification {"classes": [{"index","label","score"}]}
//   detection      {"detections": [{"box": {"x1","y1","x2","y2"}, "score", "class_id", "label"}]}
//   text_detection {"regions": [{"polygon": [[x,y] ×4], "score"}]}
//   raw            {"outputs": [{"name","datatype","shape","data"}]}  (tensor_json.h)
nlohmann::json TaskResultToJson(const TaskResult& result);
std::string_view TaskName(Task task);  // "raw", "classification", "detection", "text_detection"

// Draws boxes / polygons with labels and scores (or the top class as a
// caption) on a copy of `bgr`.
cv::Mat Annotate(const cv::Mat& bgr, const TaskResult& result);

}  // namespace cinfer::vision
