#include "vision/postprocess.h"

#include <cmath>
#include <cstring>

#include "engines/tensor_json.h"
#include "gtest/gtest.h"

namespace cinfer::vision {
namespace {

Tensor F32(const std::string& name, const Shape& shape, const std::vector<float>& values) {
  Tensor t{name, DataType::kFp32, shape, std::vector<std::byte>(values.size() * sizeof(float))};
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

void ExpectErrorMentions(const absl::Status& status, const std::vector<std::string>& needles) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  for (const std::string& n : needles) {
    EXPECT_NE(std::string(status.message()).find(n), std::string::npos) << status << " lacks " << n;
  }
}

const ImageTransform kIdentity{640, 640, 1, 1, 0, 0};

// ---------------------------------------------------------------- classification

OutputSpec ClassificationSpec() {
  OutputSpec spec;
  spec.task = Task::kClassification;
  spec.labels = {"cat", "dog"};
  return spec;
}

TEST(PostprocessClassificationTest, SortsScoresAndLabelsThem) {
  auto r = Postprocess({F32("probs", {1, 3}, {0.1f, 0.7f, 0.2f})}, 0, ClassificationSpec(), {},
                       kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task, Task::kClassification);
  ASSERT_EQ(r->classes.size(), 3u);  // top_k 5 clipped to 3 classes
  EXPECT_EQ(r->classes[0].index, 1);
  EXPECT_EQ(r->classes[0].label, "dog");
  EXPECT_FLOAT_EQ(r->classes[0].score, 0.7f);
  EXPECT_EQ(r->classes[1].label, "2");  // no label for index 2
  EXPECT_EQ(r->classes[2].label, "cat");
}

TEST(PostprocessClassificationTest, SoftmaxIsStable) {
  OutputSpec spec = ClassificationSpec();
  spec.softmax = true;
  auto r = Postprocess({F32("logits", {1, 3}, {1000, 1001, 999})}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  double sum = std::exp(-1.0) + 1 + std::exp(-2.0);
  EXPECT_NEAR(r->classes[0].score, 1 / sum, 1e-6);
  EXPECT_NEAR(r->classes[1].score, std::exp(-1.0) / sum, 1e-6);
  EXPECT_NEAR(r->classes[2].score, std::exp(-2.0) / sum, 1e-6);
  spec.softmax = false;
  r = Postprocess({F32("logits", {1, 3}, {1000, 1001, 999})}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->classes[0].score, 1001);
}

TEST(PostprocessClassificationTest, TopKAndTies) {
  OutputSpec spec = ClassificationSpec();
  spec.top_k = 2;
  auto r = Postprocess({F32("p", {1, 1, 4}, {0.5f, 0.1f, 0.5f, 0.5f})}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->classes.size(), 2u);
  EXPECT_EQ(r->classes[0].index, 0);  // ties keep index order
  EXPECT_EQ(r->classes[1].index, 2);
  PostprocessParams params;
  params.top_k = 1;
  r = Postprocess({F32("p", {1, 4}, {0.5f, 0.1f, 0.5f, 0.5f})}, 0, spec, params, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->classes.size(), 1u);
}

TEST(PostprocessClassificationTest, UsesTheRequestedBatchRow) {
  auto r = Postprocess({F32("p", {2, 2}, {0.9f, 0.1f, 0.2f, 0.8f})}, 1, ClassificationSpec(), {},
                       kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->classes[0].label, "dog");
  EXPECT_FLOAT_EQ(r->classes[0].score, 0.8f);
  ExpectErrorMentions(Postprocess({F32("p", {2, 2}, {0.9f, 0.1f, 0.2f, 0.8f})}, 2,
                                  ClassificationSpec(), {}, kIdentity)
                          .status(),
                      {"'p'", "[2,2]", "row 2"});
}

TEST(PostprocessClassificationTest, PicksTheNamedOutputAndConvertsTypes) {
  OutputSpec spec = ClassificationSpec();
  spec.tensor = "probs";
  Tensor half{"probs", DataType::kFp16, {1, 2}, std::vector<std::byte>(4)};
  half.As<uint16_t>()[0] = FloatToHalf(0.25f);
  half.As<uint16_t>()[1] = FloatToHalf(0.75f);
  auto r = Postprocess({F32("features", {1, 2}, {5, 6}), half}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->classes[0].label, "dog");
  EXPECT_FLOAT_EQ(r->classes[0].score, 0.75f);

  spec.tensor = "missing";
  ExpectErrorMentions(Postprocess({half}, 0, spec, {}, kIdentity).status(), {"'missing'"});
  spec.tensor = "";
  Tensor ints{"ids", DataType::kInt32, {1, 2}, std::vector<std::byte>(8)};
  ExpectErrorMentions(Postprocess({ints}, 0, spec, {}, kIdentity).status(), {"'ids'", "INT32"});
}

// ---------------------------------------------------------------- detection

OutputSpec DetectionSpec() {
  OutputSpec spec;
  spec.task = Task::kDetection;
  spec.class_names = {"person", "car"};
  return spec;
}

// Five YOLOv8 anchors as rows of [cx, cy, w, h, class0, class1].
const std::vector<std::vector<float>> kAnchors = {
    {50, 50, 40, 40, 0.9f, 0.1f},    // class 0, best
    {52, 52, 40, 40, 0.8f, 0.05f},   // class 0, IoU 0.82 with the first: suppressed
    {51, 51, 40, 40, 0.1f, 0.7f},    // class 1 over both: kept
    {300, 300, 10, 10, 0.1f, 0.2f},  // below the 0.25 threshold
    {150, 150, 20, 20, 0.3f, 0.0f},  // class 0, elsewhere
};

// {1, 6, 5}: channels first, as ultralytics exports it.
Tensor YoloV8(const std::vector<std::vector<float>>& anchors) {
  size_t n = anchors.size(), c = anchors[0].size();
  std::vector<float> v(n * c);
  for (size_t a = 0; a < n; ++a) {
    for (size_t f = 0; f < c; ++f) v[f * n + a] = anchors[a][f];
  }
  return F32("output0", {1, static_cast<int64_t>(c), static_cast<int64_t>(n)}, v);
}

Tensor Rows(const std::vector<std::vector<float>>& anchors) {
  std::vector<float> v;
  for (const auto& a : anchors) v.insert(v.end(), a.begin(), a.end());
  return F32("output0",
             {1, static_cast<int64_t>(anchors.size()), static_cast<int64_t>(anchors[0].size())}, v);
}

void ExpectBox(const Box& b, double x1, double y1, double x2, double y2) {
  EXPECT_NEAR(b.x1, x1, 1e-4);
  EXPECT_NEAR(b.y1, y1, 1e-4);
  EXPECT_NEAR(b.x2, x2, 1e-4);
  EXPECT_NEAR(b.y2, y2, 1e-4);
}

TEST(PostprocessDetectionTest, YoloV8ThresholdAndClassWiseNms) {
  auto r = Postprocess({YoloV8(kAnchors)}, 0, DetectionSpec(), {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 3u);
  EXPECT_FLOAT_EQ(r->detections[0].score, 0.9f);
  EXPECT_EQ(r->detections[0].class_id, 0);
  EXPECT_EQ(r->detections[0].label, "person");
  ExpectBox(r->detections[0].box, 30, 30, 70, 70);
  EXPECT_FLOAT_EQ(r->detections[1].score, 0.7f);
  EXPECT_EQ(r->detections[1].label, "car");
  EXPECT_FLOAT_EQ(r->detections[2].score, 0.3f);
  ExpectBox(r->detections[2].box, 140, 140, 160, 160);
}

TEST(PostprocessDetectionTest, RequestOverridesAndMaxDetections) {
  PostprocessParams params;
  params.score_threshold = 0.5;
  auto r = Postprocess({YoloV8(kAnchors)}, 0, DetectionSpec(), params, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->detections.size(), 2u);  // 0.3 dropped

  params = {};
  params.iou_threshold = 0.9;  // the second class-0 box survives
  r = Postprocess({YoloV8(kAnchors)}, 0, DetectionSpec(), params, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 4u);
  EXPECT_FLOAT_EQ(r->detections[1].score, 0.8f);

  OutputSpec spec = DetectionSpec();
  spec.max_detections = 1;
  r = Postprocess({YoloV8(kAnchors)}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 1u);
  EXPECT_FLOAT_EQ(r->detections[0].score, 0.9f);
}

TEST(PostprocessDetectionTest, TransposedExportAndUnnamedClasses) {
  auto r = Postprocess({Rows(kAnchors)}, 0, DetectionSpec(), {}, kIdentity);  // {1, 5, 6}
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 3u);
  ExpectBox(r->detections[0].box, 30, 30, 70, 70);

  // Without class names the smaller dimension is the channels: {1, 6, 10}.
  std::vector<std::vector<float>> many = kAnchors;
  for (int i = 0; i < 5; ++i) many.push_back({0, 0, 1, 1, 0, 0});
  OutputSpec spec = DetectionSpec();
  spec.class_names.clear();
  r = Postprocess({YoloV8(many)}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 3u);
  EXPECT_EQ(r->detections[1].label, "1");
}

TEST(PostprocessDetectionTest, LetterboxMapsBackAndClamps) {
  // Original 400x300 letterboxed into 200x182: scale 0.5, 16 pixels of padding on top.
  ImageTransform letterbox{400, 300, 0.5, 0.5, 0, 16};
  auto r = Postprocess({YoloV8(kAnchors)}, 0, DetectionSpec(), {}, letterbox);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 3u);
  ExpectBox(r->detections[0].box, 60, 28, 140, 108);
  ExpectBox(r->detections[2].box, 280, 248, 320, 288);

  std::vector<std::vector<float>> edges = {{195, 160, 20, 20, 0.9f, 0}, {5, 5, 20, 20, 0, 0.8f}};
  r = Postprocess({YoloV8(edges)}, 0, DetectionSpec(), {}, letterbox);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 2u);
  ExpectBox(r->detections[0].box, 370, 268, 400, 300);  // y: (150-16)*2 .. (170-16)*2 → 300
  ExpectBox(r->detections[1].box, 0, 0, 30, 0);
}

TEST(PostprocessDetectionTest, YoloV5MultipliesObjectness) {
  OutputSpec spec = DetectionSpec();
  spec.layout = DetectionLayout::kYoloV5;
  std::vector<std::vector<float>> rows = {{50, 50, 40, 40, 0.9f, 0.5f, 0.1f},
                                          {100, 100, 40, 40, 0.2f, 0.1f, 0.9f},
                                          {200, 100, 40, 20, 0.8f, 0.1f, 0.6f}};
  auto r = Postprocess({Rows(rows)}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->detections.size(), 2u);
  EXPECT_NEAR(r->detections[0].score, 0.48, 1e-6);
  EXPECT_EQ(r->detections[0].label, "car");
  ExpectBox(r->detections[0].box, 180, 90, 220, 110);
  EXPECT_NEAR(r->detections[1].score, 0.45, 1e-6);
  EXPECT_EQ(r->detections[1].label, "person");
}

TEST(PostprocessDetectionTest, ShapesThatDoNotFitNameTheOutput) {
  OutputSpec spec = DetectionSpec();
  spec.class_names = {"a", "b", "c"};
  ExpectErrorMentions(Postprocess({YoloV8(kAnchors)}, 0, spec, {}, kIdentity).status(),
                      {"'output0'", "[1,6,5]"});
  ExpectErrorMentions(Postprocess({F32("output0", {6, 5}, std::vector<float>(30))}, 0,
                                  DetectionSpec(), {}, kIdentity)
                          .status(),
                      {"'output0'", "[6,5]"});
  spec.class_names.clear();
  ExpectErrorMentions(
      Postprocess({F32("boxes", {1, 4, 10}, std::vector<float>(40))}, 0, spec, {}, kIdentity)
          .status(),
      {"'boxes'", "[1,4,10]"});
  spec.layout = DetectionLayout::kYoloV5;
  ExpectErrorMentions(
      Postprocess({F32("boxes", {1, 10, 5}, std::vector<float>(50))}, 0, spec, {}, kIdentity)
          .status(),
      {"'boxes'", "[1,10,5]"});
}

// ---------------------------------------------------------------- text detection

OutputSpec TextSpec() {
  OutputSpec spec;
  spec.task = Task::kTextDetection;
  return spec;
}

// A 64x64 map: 0.9 on x 10..29 × y 8..17 and x 10..49 × y 40..51, plus a 2x2 speck.
Tensor ProbabilityMap(const Shape& shape = {1, 1, 64, 64}) {
  std::vector<float> v(64 * 64, 0);
  auto fill = [&](int x0, int y0, int x1, int y1) {
    for (int y = y0; y <= y1; ++y) {
      for (int x = x0; x <= x1; ++x) v[static_cast<size_t>(y * 64 + x)] = 0.9f;
    }
  };
  fill(10, 8, 29, 17);
  fill(10, 40, 49, 51);
  fill(58, 58, 59, 59);
  return F32("maps", shape, v);
}

double PolygonArea(const TextRegion& r) {
  double twice = 0;
  for (size_t i = 0; i < 4; ++i) {
    const auto& a = r.polygon[i];
    const auto& b = r.polygon[(i + 1) % 4];
    twice += a[0] * b[1] - b[0] * a[1];
  }
  return twice / 2;  // positive: clockwise with y pointing down
}

TEST(PostprocessTextDetectionTest, FindsExpandedRegionsInOriginalPixels) {
  // Original 128x128 stretched to 64x64: scale 0.5, coordinates double.
  ImageTransform stretch{128, 128, 0.5, 0.5, 0, 0};
  auto r = Postprocess({ProbabilityMap()}, 0, TextSpec(), {}, stretch);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->regions.size(), 2u);  // the speck is under min_size
  // Contour corners (10,8)-(29,17): a 19x9 rectangle centred at (19.5, 12.5),
  // grown by d = 19*9*1.5 / (2*(19+9)) on every side.
  const double d = 19.0 * 9 * 1.5 / 56;
  const TextRegion& first = r->regions[0];
  EXPECT_NEAR(first.score, 0.9, 1e-5);
  const std::array<std::array<double, 2>, 4> expected = {{{2 * (10 - d), 2 * (8 - d)},
                                                          {2 * (29 + d), 2 * (8 - d)},
                                                          {2 * (29 + d), 2 * (17 + d)},
                                                          {2 * (10 - d), 2 * (17 + d)}}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(first.polygon[i][0], expected[i][0], 1e-3) << i;
    EXPECT_NEAR(first.polygon[i][1], expected[i][1], 1e-3) << i;
  }
  EXPECT_GT(PolygonArea(first), 4 * 19 * 9);
  double cx = 0, cy = 0;
  for (const auto& p : first.polygon) cx += p[0] / 4, cy += p[1] / 4;
  EXPECT_NEAR(cx, 39, 1e-3);
  EXPECT_NEAR(cy, 25, 1e-3);
  EXPECT_LT(r->regions[0].polygon[0][1], r->regions[1].polygon[0][1]);  // top to bottom
  EXPECT_GT(PolygonArea(r->regions[1]), 4 * 39 * 11);
}

TEST(PostprocessTextDetectionTest, ThresholdsAndMinSize) {
  OutputSpec spec = TextSpec();
  spec.box_threshold = 0.95;
  auto r = Postprocess({ProbabilityMap()}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->regions.empty());

  PostprocessParams params;
  params.score_threshold = 0.5;  // the request overrides box_threshold
  r = Postprocess({ProbabilityMap({1, 64, 64})}, 0, spec, params, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->regions.size(), 2u);

  spec = TextSpec();
  spec.min_size = 10;  // the 19x9 region goes, the 39x11 one stays
  r = Postprocess({ProbabilityMap()}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->regions.size(), 1u);
  EXPECT_GT(r->regions[0].polygon[0][1], 30);

  spec = TextSpec();
  spec.binary_threshold = 0.95;  // nothing above the binarisation threshold
  r = Postprocess({ProbabilityMap()}, 0, spec, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->regions.empty());
}

TEST(PostprocessTextDetectionTest, RejectsMapsOfOtherShapes) {
  ExpectErrorMentions(Postprocess({F32("maps", {1, 2, 8, 8}, std::vector<float>(128))}, 0,
                                  TextSpec(), {}, kIdentity)
                          .status(),
                      {"'maps'", "[1,2,8,8]"});
}

// ---------------------------------------------------------------- raw

TEST(PostprocessRawTest, SlicesTheRowOfBatchedOutputs) {
  Tensor batched = F32("y", {2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor single = F32("shared", {1, 2}, {7, 8});
  Tensor scalar = F32("s", {}, {9});
  auto r = Postprocess({batched, single, scalar}, 1, OutputSpec{}, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task, Task::kRaw);
  ASSERT_EQ(r->outputs.size(), 3u);
  EXPECT_EQ(r->outputs[0].shape, (Shape{1, 3}));
  EXPECT_EQ(r->outputs[0].name, "y");
  EXPECT_FLOAT_EQ(r->outputs[0].As<float>()[0], 3);
  EXPECT_FLOAT_EQ(r->outputs[0].As<float>()[2], 5);
  EXPECT_EQ(r->outputs[1].shape, (Shape{1, 2}));  // not batched: whole
  EXPECT_EQ(r->outputs[2].shape, Shape{});

  r = Postprocess({batched}, 0, OutputSpec{}, {}, kIdentity);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FLOAT_EQ(r->outputs[0].As<float>()[2], 2);
  ExpectErrorMentions(Postprocess({batched}, 2, OutputSpec{}, {}, kIdentity).status(),
                      {"'y'", "[2,3]"});
}

// ---------------------------------------------------------------- JSON, names, drawing

TEST(PostprocessJsonTest, EveryTaskHasItsShape) {
  TaskResult c{Task::kClassification, {{1, "dog", 0.5}}, {}, {}, {}};
  EXPECT_EQ(TaskResultToJson(c),
            nlohmann::json::parse(R"({"classes": [{"index": 1, "label": "dog", "score": 0.5}]})"));

  TaskResult d{Task::kDetection, {}, {{{1, 2, 3, 4}, 0.75, 1, "car"}}, {}, {}};
  EXPECT_EQ(TaskResultToJson(d), nlohmann::json::parse(R"({"detections": [{
      "box": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}, "score": 0.75, "class_id": 1,
      "label": "car"}]})"));

  TextRegion region{{{{0, 1}, {2, 1}, {2, 3}, {0, 3}}}, 0.25};
  TaskResult t{Task::kTextDetection, {}, {}, {region}, {}};
  EXPECT_EQ(TaskResultToJson(t), nlohmann::json::parse(
                                     R"({"regions": [{"polygon": [[0, 1], [2, 1], [2, 3], [0, 3]],
                                         "score": 0.25}]})"));

  TaskResult raw{Task::kRaw, {}, {}, {}, {F32("y", {1, 2}, {0.5f, 1})}};
  EXPECT_EQ(TaskResultToJson(raw),
            nlohmann::json::parse(
                R"({"outputs": [{"name": "y", "datatype": "FP32", "shape": [1, 2],
                    "data": [0.5, 1]}]})"));

  EXPECT_EQ(TaskResultToJson(TaskResult{Task::kDetection, {}, {}, {}, {}}),
            nlohmann::json::parse(R"({"detections": []})"));
}

TEST(PostprocessJsonTest, TaskNames) {
  EXPECT_EQ(TaskName(Task::kRaw), "raw");
  EXPECT_EQ(TaskName(Task::kClassification), "classification");
  EXPECT_EQ(TaskName(Task::kDetection), "detection");
  EXPECT_EQ(TaskName(Task::kTextDetection), "text_detection");
}

bool Differs(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  return cv::sum(diff) != cv::Scalar::all(0);
}

TEST(PostprocessAnnotateTest, DrawsOnACopy) {
  const cv::Mat image(120, 160, CV_8UC3, cv::Scalar(0, 0, 0));
  const cv::Mat original = image.clone();

  TaskResult d{Task::kDetection, {}, {{{20, 30, 100, 90}, 0.9, 0, "person"}}, {}, {}};
  cv::Mat out = Annotate(image, d);
  EXPECT_EQ(out.size(), image.size());
  EXPECT_EQ(out.type(), image.type());
  EXPECT_TRUE(Differs(out, image));
  EXPECT_NE(out.at<cv::Vec3b>(60, 20), cv::Vec3b(0, 0, 0));  // on the left edge
  EXPECT_EQ(out.at<cv::Vec3b>(60, 60), cv::Vec3b(0, 0, 0));  // inside stays
  EXPECT_FALSE(Differs(image, original));

  TextRegion region{{{{10, 10}, {50, 10}, {50, 30}, {10, 30}}}, 0.8};
  EXPECT_TRUE(
      Differs(Annotate(image, TaskResult{Task::kTextDetection, {}, {}, {region}, {}}), image));
  EXPECT_TRUE(Differs(
      Annotate(image, TaskResult{Task::kClassification, {{0, "cat", 0.9}}, {}, {}, {}}), image));
  EXPECT_FALSE(Differs(Annotate(image, TaskResult{}), image));
}

}  // namespace
}  // namespace cinfer::vision
