#include "vision/postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/tensor_json.h"
#include "opencv2/imgproc.hpp"

namespace cinfer::vision {
namespace {

// One batch row of an output as floats, with the dimensions after the batch one.
struct RowValues {
  std::vector<float> values;
  Shape dims;
};

std::string Describe(const Tensor& t) {
  return StrCat("output '", t.name, "' (shape ", ShapeToString(t.shape), ")");
}

absl::Status CheckSize(const Tensor& t) {
  auto count = ElementCount(t.shape);
  if (!count.ok() || *count * ElementSize(t.dtype) != t.data.size()) {
    return ValidationError(StrCat(Describe(t), " does not hold as many values as its shape"));
  }
  return absl::OkStatus();
}

absl::StatusOr<const Tensor*> SelectOutput(const std::vector<Tensor>& outputs,
                                           const OutputSpec& spec) {
  if (spec.tensor.empty()) {
    if (outputs.empty()) return ValidationError("the model returned no outputs");
    return &outputs[0];
  }
  for (const Tensor& t : outputs) {
    if (t.name == spec.tensor) return &t;
  }
  return ValidationError(StrCat("the model has no output '", spec.tensor, "'"));
}

// Elements [begin, begin + count) of a floating-point tensor as floats.
std::vector<float> ToFloats(const Tensor& t, size_t begin, size_t count) {
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) {
    switch (t.dtype) {
      case DataType::kFp16:
        out[i] = HalfToFloat(t.As<uint16_t>()[begin + i]);
        break;
      case DataType::kFp64:
        out[i] = static_cast<float>(t.As<double>()[begin + i]);
        break;
      default:
        out[i] = t.As<float>()[begin + i];
    }
  }
  return out;
}

// The `row`th batch row of `t` (FP32, FP16 or FP64), whose first dimension is the batch.
absl::StatusOr<RowValues> RowOf(const Tensor& t, size_t row) {
  if (t.dtype != DataType::kFp32 && t.dtype != DataType::kFp16 && t.dtype != DataType::kFp64) {
    return ValidationError(
        StrCat(Describe(t), " must be FP32, FP16 or FP64, not ", DataTypeName(t.dtype)));
  }
  RETURN_IF_ERROR(CheckSize(t));
  if (t.shape.empty() || t.shape[0] <= static_cast<int64_t>(row)) {
    return ValidationError(StrCat(Describe(t), " has no batch row ", row));
  }
  const size_t per_row = t.data.size() / ElementSize(t.dtype) / static_cast<size_t>(t.shape[0]);
  return RowValues{ToFloats(t, row * per_row, per_row), Shape(t.shape.begin() + 1, t.shape.end())};
}

// ---------------------------------------------------------------- classification

// Orders by score descending (NaN last), ties by index: a strict weak order.
bool Better(const ClassScore& a, const ClassScore& b) {
  const double inf = std::numeric_limits<double>::infinity();
  double sa = std::isnan(a.score) ? -inf : a.score;
  double sb = std::isnan(b.score) ? -inf : b.score;
  return sa != sb ? sa > sb : a.index < b.index;
}

void Softmax(std::vector<float>* values) {
  float max = *std::max_element(values->begin(), values->end());
  double sum = 0;
  for (float& v : *values) sum += (v = std::exp(v - max));
  for (float& v : *values) v = static_cast<float>(v / sum);
}

absl::StatusOr<std::vector<ClassScore>> Classify(const Tensor& t, size_t row,
                                                 const OutputSpec& spec,
                                                 const PostprocessParams& params) {
  ASSIGN_OR_RETURN(RowValues r, RowOf(t, row));
  if (r.values.empty()) return ValidationError(StrCat(Describe(t), " has no class scores"));
  if (spec.softmax) Softmax(&r.values);
  std::vector<ClassScore> all(r.values.size());
  for (size_t i = 0; i < all.size(); ++i) {
    all[i].index = static_cast<int64_t>(i);
    all[i].score = r.values[i];
  }
  int64_t top_k = std::max<int64_t>(0, params.top_k.value_or(spec.top_k));
  size_t k = std::min(static_cast<size_t>(top_k), all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), Better);
  all.resize(k);
  for (ClassScore& c : all) {
    size_t i = static_cast<size_t>(c.index);
    c.label = i < spec.labels.size() ? spec.labels[i] : std::to_string(c.index);
  }
  return all;
}

// ---------------------------------------------------------------- detection

// Where a YOLO row's fields are: element (anchor a, field f) is
// values[a * anchor_stride + f * field_stride].
struct YoloGrid {
  size_t anchors = 0, classes = 0;
  size_t anchor_stride = 0, field_stride = 0;
  bool objectness = false;
};

// YOLOv8 is exported channels first, {1, 4+C, N}; some exports transpose it to
// {1, N, 4+C}. With class_names the channel axis is the one of size 4+C
// (channels first when both are). Without, the smaller dimension is taken as
// the channels (N is in the thousands for real models). YOLOv5 is {1, N, 5+C};
// {1, 5+C, N} is accepted only when class_names say so.
absl::StatusOr<YoloGrid> ResolveYolo(const Tensor& t, const Shape& dims, const OutputSpec& spec) {
  const bool v5 = spec.layout == DetectionLayout::kYoloV5;
  const int64_t extra = v5 ? 5 : 4;
  if (dims.size() != 2) {
    return ValidationError(StrCat(Describe(t), " is not a YOLO output {1, ", extra,
                                  "+classes, anchors} or {1, anchors, ", extra, "+classes}"));
  }
  bool channels_first = false;
  int64_t channels = 0;
  if (!spec.class_names.empty()) {
    channels = extra + static_cast<int64_t>(spec.class_names.size());
    channels_first = v5 ? dims[1] != channels && dims[0] == channels : dims[0] == channels;
    if (dims[0] != channels && dims[1] != channels) {
      return ValidationError(StrCat(Describe(t), " does not fit ", spec.class_names.size(),
                                    " class names: no dimension is ", extra, "+",
                                    spec.class_names.size(), " = ", channels));
    }
  } else {
    channels_first = !v5 && dims[0] < dims[1];
    channels = channels_first ? dims[0] : dims[1];
    if (channels <= extra) {
      return ValidationError(
          StrCat(Describe(t), " has no room for class scores after the ", extra, " box fields"));
    }
  }
  YoloGrid g;
  g.classes = static_cast<size_t>(channels - extra);
  g.anchors = static_cast<size_t>(channels_first ? dims[1] : dims[0]);
  g.anchor_stride = channels_first ? 1 : static_cast<size_t>(channels);
  g.field_stride = channels_first ? g.anchors : 1;
  g.objectness = v5;
  return g;
}

// A candidate box in model-input pixels.
struct Candidate {
  cv::Rect2d box;
  double score = 0;
  int64_t class_id = 0;
};

std::vector<Candidate> Candidates(const std::vector<float>& v, const YoloGrid& g,
                                  double threshold) {
  std::vector<Candidate> out;
  const size_t first_class = g.objectness ? 5 : 4;
  for (size_t a = 0; a < g.anchors; ++a) {
    auto at = [&](size_t f) {
      return static_cast<double>(v[a * g.anchor_stride + f * g.field_stride]);
    };
    size_t best = 0;
    for (size_t c = 1; c < g.classes; ++c) {
      if (at(first_class + c) > at(first_class + best)) best = c;
    }
    double score = at(first_class + best) * (g.objectness ? at(4) : 1.0);
    if (!(score >= threshold)) continue;  // also drops NaN
    double w = at(2), h = at(3);
    out.push_back(
        {cv::Rect2d(at(0) - w / 2, at(1) - h / 2, w, h), score, static_cast<int64_t>(best)});
  }
  return out;
}

double IoU(const cv::Rect2d& a, const cv::Rect2d& b) {
  double inter = (a & b).area();
  double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

// Greedy class-wise NMS; the kept candidates, best first.
std::vector<Candidate> Nms(std::vector<Candidate> c, double iou, size_t max_keep) {
  std::stable_sort(c.begin(), c.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  std::vector<Candidate> kept;
  for (const Candidate& cand : c) {
    if (kept.size() >= max_keep) break;
    bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Candidate& k) {
      return k.class_id == cand.class_id && IoU(k.box, cand.box) > iou;
    });
    if (!suppressed) kept.push_back(cand);
  }
  return kept;
}

double ClampTo(double v, int64_t hi) { return std::clamp(v, 0.0, static_cast<double>(hi)); }

Box ToOriginal(const cv::Rect2d& r, const ImageTransform& tf) {
  return {ClampTo(tf.ToOriginalX(r.x), tf.width), ClampTo(tf.ToOriginalY(r.y), tf.height),
          ClampTo(tf.ToOriginalX(r.x + r.width), tf.width),
          ClampTo(tf.ToOriginalY(r.y + r.height), tf.height)};
}

absl::StatusOr<std::vector<Detection>> Detect(const Tensor& t, size_t row, const OutputSpec& spec,
                                              const PostprocessParams& params,
                                              const ImageTransform& tf) {
  ASSIGN_OR_RETURN(RowValues r, RowOf(t, row));
  ASSIGN_OR_RETURN(YoloGrid grid, ResolveYolo(t, r.dims, spec));
  std::vector<Candidate> kept =
      Nms(Candidates(r.values, grid, params.score_threshold.value_or(spec.score_threshold)),
          params.iou_threshold.value_or(spec.iou_threshold),
          static_cast<size_t>(std::max<int64_t>(0, spec.max_detections)));
  std::vector<Detection> out;
  out.reserve(kept.size());
  for (const Candidate& c : kept) {
    size_t id = static_cast<size_t>(c.class_id);
    out.push_back({ToOriginal(c.box, tf), c.score, c.class_id,
                   id < spec.class_names.size() ? spec.class_names[id] : std::to_string(id)});
  }
  return out;
}

// ---------------------------------------------------------------- text detection (DB)

using Quad = std::array<cv::Point2d, 4>;

// The corners of `rect` ordered top-left, top-right, bottom-right, bottom-left
// (PaddleOCR's get_mini_boxes: the left two by y, then the right two by y).
Quad OrderedCorners(const cv::RotatedRect& rect) {
  cv::Point2f p[4];
  rect.points(p);
  std::sort(p, p + 4, [](const cv::Point2f& a, const cv::Point2f& b) { return a.x < b.x; });
  if (p[0].y > p[1].y) std::swap(p[0], p[1]);  // p[0] top-left, p[1] bottom-left
  if (p[2].y > p[3].y) std::swap(p[2], p[3]);  // p[2] top-right, p[3] bottom-right
  return {cv::Point2d(p[0]), cv::Point2d(p[2]), cv::Point2d(p[3]), cv::Point2d(p[1])};
}

// Mean of `prob` inside the contour polygon.
double PolygonScore(const cv::Mat& prob, const std::vector<cv::Point>& contour) {
  cv::Rect bounds = cv::boundingRect(contour) & cv::Rect(0, 0, prob.cols, prob.rows);
  cv::Mat mask = cv::Mat::zeros(bounds.size(), CV_8U);
  std::vector<std::vector<cv::Point>> shifted(1);
  for (const cv::Point& p : contour) shifted[0].push_back(p - bounds.tl());
  cv::fillPoly(mask, shifted, cv::Scalar(1));
  return cv::mean(prob(bounds), mask)[0];
}

// The rectangle offset outwards by area * ratio / perimeter on every side, the
// standard approximation of pyclipper's offsetting for a rectangle.
cv::RotatedRect Unclip(const cv::RotatedRect& rect, double ratio) {
  double w = rect.size.width, h = rect.size.height;
  double d = w * h * ratio / (2 * (w + h));
  return {rect.center, cv::Size2f(static_cast<float>(w + 2 * d), static_cast<float>(h + 2 * d)),
          rect.angle};
}

// The region of one contour in map pixels (the map is taken to be at
// model-input resolution), or nothing when it is too small or too faint.
std::optional<TextRegion> RegionOf(const cv::Mat& prob, const std::vector<cv::Point>& contour,
                                   const OutputSpec& spec, double box_threshold,
                                   const ImageTransform& tf) {
  cv::RotatedRect rect = cv::minAreaRect(contour);
  const double min_size = static_cast<double>(spec.min_size);
  if (std::min(rect.size.width, rect.size.height) < min_size) return std::nullopt;
  if (rect.size.width + rect.size.height <= 0) return std::nullopt;
  double score = PolygonScore(prob, contour);
  if (!(score >= box_threshold)) return std::nullopt;
  cv::RotatedRect grown = Unclip(rect, spec.unclip_ratio);
  if (std::min(grown.size.width, grown.size.height) < min_size + 2) return std::nullopt;
  // The transform is increasing in x and y, so the order survives the mapping.
  Quad corners = OrderedCorners(grown);
  TextRegion region;
  region.score = score;
  for (size_t i = 0; i < 4; ++i) {
    region.polygon[i] = {ClampTo(tf.ToOriginalX(corners[i].x), tf.width),
                         ClampTo(tf.ToOriginalY(corners[i].y), tf.height)};
  }
  return region;
}

// Top to bottom, then left to right; like PaddleOCR's sorted_boxes, regions
// whose top-left corners are within 10 pixels vertically count as one line.
void SortRegions(std::vector<TextRegion>* regions) {
  auto& r = *regions;
  std::stable_sort(r.begin(), r.end(), [](const TextRegion& a, const TextRegion& b) {
    return a.polygon[0][1] != b.polygon[0][1] ? a.polygon[0][1] < b.polygon[0][1]
                                              : a.polygon[0][0] < b.polygon[0][0];
  });
  for (size_t i = 0; i + 1 < r.size(); ++i) {
    for (size_t j = i + 1; j > 0; --j) {
      if (std::abs(r[j].polygon[0][1] - r[j - 1].polygon[0][1]) < 10 &&
          r[j].polygon[0][0] < r[j - 1].polygon[0][0]) {
        std::swap(r[j], r[j - 1]);
      } else {
        break;
      }
    }
  }
}

absl::StatusOr<cv::Mat> ProbabilityMap(const Tensor& t, size_t row) {
  ASSIGN_OR_RETURN(RowValues r, RowOf(t, row));
  if (r.dims.size() == 3 && r.dims[0] == 1) r.dims.erase(r.dims.begin());
  if (r.dims.size() != 2 || r.dims[0] <= 0 || r.dims[1] <= 0 ||
      r.dims[0] > std::numeric_limits<int>::max() || r.dims[1] > std::numeric_limits<int>::max()) {
    return ValidationError(
        StrCat(Describe(t), " is not a probability map {1, 1, H, W} or {1, H, W}"));
  }
  cv::Mat prob(static_cast<int>(r.dims[0]), static_cast<int>(r.dims[1]), CV_32F);
  std::memcpy(prob.data, r.values.data(), r.values.size() * sizeof(float));
  return prob;
}

absl::StatusOr<std::vector<TextRegion>> DetectText(const Tensor& t, size_t row,
                                                   const OutputSpec& spec,
                                                   const PostprocessParams& params,
                                                   const ImageTransform& tf) {
  ASSIGN_OR_RETURN(cv::Mat prob, ProbabilityMap(t, row));
  const double box_threshold = params.score_threshold.value_or(spec.box_threshold);
  std::vector<TextRegion> regions;
  try {
    cv::Mat bitmap = prob > spec.binary_threshold;  // CV_8U, 0 or 255
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(bitmap, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
    size_t n =
        std::min(contours.size(), static_cast<size_t>(std::max<int64_t>(0, spec.max_candidates)));
    for (size_t i = 0; i < n; ++i) {
      auto region = RegionOf(prob, contours[i], spec, box_threshold, tf);
      if (region) regions.push_back(*region);
    }
  } catch (const cv::Exception& e) {
    return absl::InternalError(StrCat("text detection postprocessing failed: ", e.what()));
  }
  SortRegions(&regions);
  return regions;
}

// ---------------------------------------------------------------- raw

// The row of a batched output as {1, rest...}; an output whose first dimension
// is 0 or 1 (fewer rows than the batch) is taken as not batched and kept whole,
// as are scalars.
absl::StatusOr<Tensor> RawRow(const Tensor& t, size_t row) {
  if (t.shape.empty()) return t;
  RETURN_IF_ERROR(CheckSize(t));
  if (t.shape[0] > static_cast<int64_t>(row)) {
    const size_t bytes = t.data.size() / static_cast<size_t>(t.shape[0]);
    Tensor out{t.name, t.dtype, t.shape, {}};
    out.shape[0] = 1;
    auto begin = t.data.begin() + static_cast<std::ptrdiff_t>(row * bytes);
    out.data.assign(begin, begin + static_cast<std::ptrdiff_t>(bytes));
    return out;
  }
  if (t.shape[0] <= 1) return t;
  return ValidationError(StrCat(Describe(t), " has no batch row ", row));
}

// ---------------------------------------------------------------- drawing

const std::array<cv::Scalar, 10> kPalette = {cv::Scalar(56, 56, 255),  cv::Scalar(151, 157, 255),
                                             cv::Scalar(31, 112, 255), cv::Scalar(29, 178, 255),
                                             cv::Scalar(49, 210, 207), cv::Scalar(10, 249, 72),
                                             cv::Scalar(23, 204, 146), cv::Scalar(134, 219, 61),
                                             cv::Scalar(211, 188, 0),  cv::Scalar(255, 115, 100)};

cv::Scalar ColorOf(int64_t id) {
  auto n = static_cast<int64_t>(kPalette.size());
  return kPalette[static_cast<size_t>(((id % n) + n) % n)];
}

std::string ScoreText(double score) { return fmt::format("{:.2f}", score); }

// White text on a filled box of `color` just above `anchor` (moved inside the image).
void DrawLabel(cv::Mat* img, const std::string& text, cv::Point anchor, const cv::Scalar& color,
               int thickness) {
  const double font_scale = thickness / 3.0;
  const int font_thickness = std::max(thickness - 1, 1);
  int baseline = 0;
  cv::Size size =
      cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font_scale, font_thickness, &baseline);
  cv::Point at(anchor.x, anchor.y - size.height - baseline);
  at.x = std::clamp(at.x, 0, std::max(0, img->cols - size.width));
  at.y = std::clamp(at.y, 0, std::max(0, img->rows - size.height - baseline));
  cv::rectangle(*img, at, at + cv::Point(size.width, size.height + baseline), color, cv::FILLED);
  cv::putText(*img, text, at + cv::Point(0, size.height), cv::FONT_HERSHEY_SIMPLEX, font_scale,
              cv::Scalar(255, 255, 255), font_thickness, cv::LINE_AA);
}

}  // namespace

absl::StatusOr<TaskResult> Postprocess(const std::vector<Tensor>& outputs, size_t row,
                                       const OutputSpec& spec, const PostprocessParams& params,
                                       const ImageTransform& transform) {
  TaskResult result;
  result.task = spec.task;
  if (spec.task == Task::kRaw) {
    for (const Tensor& t : outputs) {
      ASSIGN_OR_RETURN(Tensor r, RawRow(t, row));
      result.outputs.push_back(std::move(r));
    }
    return result;
  }
  ASSIGN_OR_RETURN(const Tensor* t, SelectOutput(outputs, spec));
  switch (spec.task) {
    case Task::kClassification: {
      ASSIGN_OR_RETURN(result.classes, Classify(*t, row, spec, params));
      break;
    }
    case Task::kDetection: {
      ASSIGN_OR_RETURN(result.detections, Detect(*t, row, spec, params, transform));
      break;
    }
    case Task::kTextDetection: {
      ASSIGN_OR_RETURN(result.regions, DetectText(*t, row, spec, params, transform));
      break;
    }
    case Task::kRaw:
      break;
  }
  return result;
}

nlohmann::json TaskResultToJson(const TaskResult& result) {
  nlohmann::json items = nlohmann::json::array();
  switch (result.task) {
    case Task::kClassification:
      for (const ClassScore& c : result.classes) {
        items.push_back({{"index", c.index}, {"label", c.label}, {"score", c.score}});
      }
      return {{"classes", items}};
    case Task::kDetection:
      for (const Detection& d : result.detections) {
        nlohmann::json box = {
            {"x1", d.box.x1}, {"y1", d.box.y1}, {"x2", d.box.x2}, {"y2", d.box.y2}};
        items.push_back(
            {{"box", box}, {"score", d.score}, {"class_id", d.class_id}, {"label", d.label}});
      }
      return {{"detections", items}};
    case Task::kTextDetection:
      for (const TextRegion& r : result.regions) {
        nlohmann::json polygon = nlohmann::json::array();
        for (const auto& p : r.polygon) polygon.push_back({p[0], p[1]});
        items.push_back({{"polygon", polygon}, {"score", r.score}});
      }
      return {{"regions", items}};
    case Task::kRaw:
      break;
  }
  for (const Tensor& t : result.outputs) items.push_back(TensorToJson(t));
  return {{"outputs", items}};
}

std::string_view TaskName(Task task) {
  switch (task) {
    case Task::kClassification:
      return "classification";
    case Task::kDetection:
      return "detection";
    case Task::kTextDetection:
      return "text_detection";
    case Task::kRaw:
      break;
  }
  return "raw";
}

cv::Mat Annotate(const cv::Mat& bgr, const TaskResult& result) {
  cv::Mat out = bgr.clone();
  if (out.empty()) return out;
  const int thickness = std::max(2, static_cast<int>(std::lround((out.cols + out.rows) * 0.0015)));
  for (const Detection& d : result.detections) {
    cv::Point p1(static_cast<int>(std::lround(d.box.x1)), static_cast<int>(std::lround(d.box.y1)));
    cv::Point p2(static_cast<int>(std::lround(d.box.x2)), static_cast<int>(std::lround(d.box.y2)));
    cv::rectangle(out, p1, p2, ColorOf(d.class_id), thickness, cv::LINE_AA);
    DrawLabel(&out, StrCat(d.label, " ", ScoreText(d.score)), p1, ColorOf(d.class_id), thickness);
  }
  for (const TextRegion& r : result.regions) {
    std::vector<cv::Point> poly;
    for (const auto& p : r.polygon) {
      poly.emplace_back(static_cast<int>(std::lround(p[0])), static_cast<int>(std::lround(p[1])));
    }
    cv::polylines(out, poly, true, ColorOf(5), thickness, cv::LINE_AA);
  }
  if (!result.classes.empty()) {
    const ClassScore& top = result.classes.front();
    DrawLabel(&out, StrCat(top.label, " ", ScoreText(top.score)), cv::Point(0, 0),
              ColorOf(top.index), thickness);
  }
  return out;
}

}  // namespace cinfer::vision
