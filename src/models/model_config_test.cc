#include "models/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& st) { return std::string(ToStd(st.message())); }

ModelConfig Parse(const char* text) {
  auto c = ParseModelConfigText(text);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status();
  return c.ok() ? *c : ModelConfig{};
}

absl::Status ParseError(const char* text) { return ParseModelConfigText(text).status(); }

TEST(ModelConfigTest, DefaultsWhenEmpty) {
  auto c = ParseModelConfigText("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->instances, 0);  // sized from the machine when served
  EXPECT_EQ(c->max_batch_size, 0);
  EXPECT_TRUE(c->input_shapes.empty());
  EXPECT_EQ(*c, ModelConfig{});
  EXPECT_EQ(Parse(R"({"input": {}, "output": {}})"), ModelConfig{});
}

TEST(ModelConfigTest, InputAndOutputDefaults) {
  const InputSpec in = Parse("{}").input;
  EXPECT_EQ(in.tensor, "");
  EXPECT_EQ(in.width, 0);
  EXPECT_EQ(in.height, 0);
  EXPECT_EQ(in.resize, ResizeMode::kStretch);
  EXPECT_EQ(in.pad_value, 114);
  EXPECT_EQ(in.color, ColorOrder::kRgb);
  EXPECT_DOUBLE_EQ(in.scale, 1.0 / 255.0);
  EXPECT_EQ(in.mean, (std::array<double, 3>{0, 0, 0}));
  EXPECT_EQ(in.std, (std::array<double, 3>{1, 1, 1}));
  EXPECT_FALSE(in.layout.has_value());
  EXPECT_FALSE(in.dtype.has_value());

  const OutputSpec out = Parse("{}").output;
  EXPECT_EQ(out.task, Task::kRaw);
  EXPECT_EQ(out.tensor, "");
  EXPECT_TRUE(out.labels.empty());
  EXPECT_EQ(out.top_k, 5);
  EXPECT_FALSE(out.softmax);
  EXPECT_EQ(out.layout, DetectionLayout::kYoloV8);
  EXPECT_DOUBLE_EQ(out.score_threshold, 0.25);
  EXPECT_DOUBLE_EQ(out.iou_threshold, 0.45);
  EXPECT_EQ(out.max_detections, 300);
  EXPECT_DOUBLE_EQ(out.binary_threshold, 0.3);
  EXPECT_DOUBLE_EQ(out.box_threshold, 0.6);
  EXPECT_DOUBLE_EQ(out.unclip_ratio, 1.5);
  EXPECT_EQ(out.max_candidates, 1000);
  EXPECT_EQ(out.min_size, 3);
}

TEST(ModelConfigTest, ParsesKnownFields) {
  auto c = ParseModelConfigText(R"({"input_shapes": {"x": [1, 3, 48, 192]}, "max_batch_size": 8,
      "instances": 2, "warmup_iterations": 3, "engine_options": {"threads": 2},
      "dynamic_batching": {"max_queue_delay_us": 500}, "input": {"width": 192, "height": 48},
      "output": {}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->input_shapes.at("x"), (Shape{1, 3, 48, 192}));
  EXPECT_EQ(c->max_batch_size, 8);
  EXPECT_EQ(c->instances, 2);
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(c->max_queue_delay_us, 500);
  EXPECT_EQ(c->input.width, 192);
  EXPECT_EQ(c->input.height, 48);
  auto round_trip = ParseModelConfig(ModelConfigToJson(*c));
  ASSERT_TRUE(round_trip.ok()) << round_trip.status();
  EXPECT_EQ(*round_trip, *c);
}

TEST(ModelConfigTest, ParsesEveryInputField) {
  const InputSpec in = Parse(R"({"input": {"tensor": "images", "width": 640, "height": 480,
      "resize": "letterbox", "pad_value": 0, "color": "bgr", "scale": 1, "mean": [0.5, 0.5, 1],
      "std": [0.25, 0.5, 2], "layout": "nhwc", "dtype": "UINT8"}})")
                           .input;
  EXPECT_EQ(in.tensor, "images");
  EXPECT_EQ(in.width, 640);
  EXPECT_EQ(in.height, 480);
  EXPECT_EQ(in.resize, ResizeMode::kLetterbox);
  EXPECT_EQ(in.pad_value, 0);
  EXPECT_EQ(in.color, ColorOrder::kBgr);
  EXPECT_DOUBLE_EQ(in.scale, 1.0);
  EXPECT_EQ(in.mean, (std::array<double, 3>{0.5, 0.5, 1}));
  EXPECT_EQ(in.std, (std::array<double, 3>{0.25, 0.5, 2}));
  EXPECT_EQ(in.layout, Layout::kNhwc);
  EXPECT_EQ(in.dtype, DataType::kUint8);
  // null is "unset" for the optional fields.
  const InputSpec unset = Parse(R"({"input": {"layout": null, "dtype": null}})").input;
  EXPECT_FALSE(unset.layout.has_value());
  EXPECT_FALSE(unset.dtype.has_value());
}

TEST(ModelConfigTest, ParsesEachEnumValue) {
  EXPECT_EQ(Parse(R"({"input": {"resize": "stretch"}})").input.resize, ResizeMode::kStretch);
  EXPECT_EQ(Parse(R"({"input": {"resize": "letterbox"}})").input.resize, ResizeMode::kLetterbox);
  EXPECT_EQ(Parse(R"({"input": {"resize": "center_crop"}})").input.resize, ResizeMode::kCenterCrop);
  EXPECT_EQ(Parse(R"({"input": {"color": "rgb"}})").input.color, ColorOrder::kRgb);
  EXPECT_EQ(Parse(R"({"input": {"color": "bgr"}})").input.color, ColorOrder::kBgr);
  EXPECT_EQ(Parse(R"({"input": {"layout": "nchw"}})").input.layout, Layout::kNchw);
  EXPECT_EQ(Parse(R"({"input": {"layout": "nhwc"}})").input.layout, Layout::kNhwc);
  EXPECT_EQ(Parse(R"({"input": {"dtype": "FP32"}})").input.dtype, DataType::kFp32);
  EXPECT_EQ(Parse(R"({"input": {"dtype": "FP16"}})").input.dtype, DataType::kFp16);
  EXPECT_EQ(Parse(R"({"output": {"task": "raw"}})").output.task, Task::kRaw);
  EXPECT_EQ(Parse(R"({"output": {"task": "classification"}})").output.task, Task::kClassification);
  EXPECT_EQ(Parse(R"({"output": {"task": "detection"}})").output.task, Task::kDetection);
  EXPECT_EQ(Parse(R"({"output": {"task": "text_detection"}})").output.task, Task::kTextDetection);
  EXPECT_EQ(Parse(R"({"output": {"task": "detection", "layout": "yolov5"}})").output.layout,
            DetectionLayout::kYoloV5);
  EXPECT_EQ(Parse(R"({"output": {"task": "detection", "layout": "yolov8"}})").output.layout,
            DetectionLayout::kYoloV8);
}

TEST(ModelConfigTest, ParsesTaskFields) {
  const OutputSpec cls = Parse(R"({"output": {"task": "classification", "tensor": "y",
      "labels": ["0", "180"], "top_k": 2, "softmax": true}})")
                             .output;
  EXPECT_EQ(cls.tensor, "y");
  EXPECT_EQ(cls.labels, (std::vector<std::string>{"0", "180"}));
  EXPECT_EQ(cls.top_k, 2);
  EXPECT_TRUE(cls.softmax);

  const OutputSpec det = Parse(R"({"output": {"task": "detection", "score_threshold": 0.5,
      "iou_threshold": 1, "max_detections": 10, "class_names": ["cat", "dog"]}})")
                             .output;
  EXPECT_DOUBLE_EQ(det.score_threshold, 0.5);
  EXPECT_DOUBLE_EQ(det.iou_threshold, 1.0);
  EXPECT_EQ(det.max_detections, 10);
  EXPECT_EQ(det.class_names, (std::vector<std::string>{"cat", "dog"}));

  const OutputSpec db = Parse(R"({"output": {"task": "text_detection", "binary_threshold": 0.2,
      "box_threshold": 0.7, "unclip_ratio": 2, "max_candidates": 50, "min_size": 0}})")
                            .output;
  EXPECT_DOUBLE_EQ(db.binary_threshold, 0.2);
  EXPECT_DOUBLE_EQ(db.box_threshold, 0.7);
  EXPECT_DOUBLE_EQ(db.unclip_ratio, 2.0);
  EXPECT_EQ(db.max_candidates, 50);
  EXPECT_EQ(db.min_size, 0);
}

TEST(ModelConfigTest, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"bogus": 1})", "bogus"},
      {R"({"max_batch_size": "x"})", "max_batch_size"},
      {R"({"instances": -1})", "instances"},  // 0 is valid: sized from the machine
      {R"({"input_shapes": {"x": [1, -3]}})", "input_shapes.x"},
      {R"({"input_shapes": []})", "input_shapes"},
      {R"({"engine_options": {"threads": 1, "gpu": true}})", "engine_options.gpu"},
      {R"({"engine_options": {"performance_hint": "fast"}})", "engine_options.performance_hint"},
      {R"({"engine_options": {"streams": 1000}})", "engine_options.streams"},
      {R"({"dynamic_batching": {"max_queue_delay_us": -1}})",
       "dynamic_batching.max_queue_delay_us"},
      {R"({"input": 3})", "input"},
      {R"({"output": []})", "output"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseModelConfigText(c.json);
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_EQ(ErrorCodeOf(parsed.status()), "VALIDATION_FAILED");
    EXPECT_THAT(Message(parsed.status()), HasSubstr(c.field)) << c.json;
  }
  EXPECT_EQ(ErrorCodeOf(ParseModelConfigText("{not json").status()), "VALIDATION_FAILED");
  EXPECT_FALSE(ParseModelConfigText("[1]").ok());
}

TEST(ModelConfigTest, InputErrorsNameTheField) {
  struct Case {
    const char* input;
    const char* field;
  } cases[] = {
      {R"({"tensor": 1})", "input.tensor"},
      {R"({"width": 16385})", "input.width"},
      {R"({"width": -1})", "input.width"},
      {R"({"width": 192.0})", "input.width"},  // integers must be JSON integers
      {R"({"width": "192"})", "input.width"},
      {R"({"height": 99999999999999999999})", "input.height"},
      {R"({"resize": "fit"})", "input.resize"},
      {R"({"resize": 1})", "input.resize"},
      {R"({"pad_value": 256})", "input.pad_value"},
      {R"({"pad_value": -1})", "input.pad_value"},
      {R"({"color": "RGB"})", "input.color"},
      {R"({"scale": 0})", "input.scale"},
      {R"({"scale": -1})", "input.scale"},
      {R"({"scale": "1/255"})", "input.scale"},
      {R"({"mean": [0.5, 0.5]})", "input.mean"},
      {R"({"mean": [0.5, 0.5, "x"]})", "input.mean"},
      {R"({"mean": 0.5})", "input.mean"},
      {R"({"std": [0.5, 0, 0.5]})", "input.std"},
      {R"({"std": [1, 1, 1, 1]})", "input.std"},
      {R"({"layout": "chw"})", "input.layout"},
      {R"({"dtype": "float32"})", "input.dtype"},
      {R"({"dtype": 1})", "input.dtype"},
  };
  for (const auto& c : cases) {
    const std::string json = StrCat(R"({"input": )", c.input, "}");
    const absl::Status st = ParseError(json.c_str());
    ASSERT_FALSE(st.ok()) << json;
    EXPECT_EQ(ErrorCodeOf(st), "VALIDATION_FAILED") << json;
    EXPECT_THAT(Message(st), HasSubstr(StrCat("config field '", c.field, "'"))) << json;
  }
  EXPECT_EQ(Message(ParseError(R"({"input": {"width": 0.5}})")),
            "config field 'input.width' must be an integer between 0 and 16384");
  EXPECT_EQ(Message(ParseError(R"({"input": {"resize": "fit"}})")),
            R"(config field 'input.resize' must be one of "stretch", "letterbox", "center_crop")");
}

TEST(ModelConfigTest, OutputErrorsNameTheField) {
  struct Case {
    const char* output;
    const char* field;
  } cases[] = {
      {R"({"task": "segmentation"})", "output.task"},
      {R"({"tensor": ["y"]})", "output.tensor"},
      {R"({"task": "classification", "labels": "a,b"})", "output.labels"},
      {R"({"task": "classification", "labels": ["a", 1]})", "output.labels"},
      {R"({"task": "classification", "top_k": 0})", "output.top_k"},
      {R"({"task": "classification", "top_k": 1001})", "output.top_k"},
      {R"({"task": "classification", "softmax": 1})", "output.softmax"},
      {R"({"task": "detection", "layout": "yolov7"})", "output.layout"},
      {R"({"task": "detection", "score_threshold": 1.5})", "output.score_threshold"},
      {R"({"task": "detection", "iou_threshold": -0.1})", "output.iou_threshold"},
      {R"({"task": "detection", "max_detections": 0})", "output.max_detections"},
      {R"({"task": "detection", "max_detections": 100001})", "output.max_detections"},
      {R"({"task": "detection", "class_names": [null]})", "output.class_names"},
      {R"({"task": "text_detection", "binary_threshold": 2})", "output.binary_threshold"},
      {R"({"task": "text_detection", "box_threshold": "0.6"})", "output.box_threshold"},
      {R"({"task": "text_detection", "unclip_ratio": 0.4})", "output.unclip_ratio"},
      {R"({"task": "text_detection", "unclip_ratio": 10.5})", "output.unclip_ratio"},
      {R"({"task": "text_detection", "max_candidates": 0})", "output.max_candidates"},
      {R"({"task": "text_detection", "min_size": 10001})", "output.min_size"},
      {R"({"task": "text_detection", "min_size": 2.5})", "output.min_size"},
  };
  for (const auto& c : cases) {
    const std::string json = StrCat(R"({"output": )", c.output, "}");
    const absl::Status st = ParseError(json.c_str());
    ASSERT_FALSE(st.ok()) << json;
    EXPECT_EQ(ErrorCodeOf(st), "VALIDATION_FAILED") << json;
    EXPECT_THAT(Message(st), HasSubstr(StrCat("config field '", c.field, "'"))) << json;
  }
  EXPECT_EQ(Message(ParseError(R"({"output": {"task": "detection", "iou_threshold": 2}})")),
            "config field 'output.iou_threshold' must be a number between 0 and 1");
}

TEST(ModelConfigTest, UnknownInputOutputFields) {
  EXPECT_EQ(Message(ParseError(R"({"input": {"width": 192, "foo": 1}})")),
            "unknown config field 'input.foo'");
  EXPECT_EQ(Message(ParseError(R"({"input": {"size": [192, 48]}})")),
            "unknown config field 'input.size'");
  EXPECT_EQ(Message(ParseError(R"({"output": {"task": "detection", "nms": true}})")),
            "unknown config field 'output.nms'");
  EXPECT_EQ(ErrorCodeOf(ParseError(R"({"output": {"foo": 1}})")), "VALIDATION_FAILED");
}

TEST(ModelConfigTest, RejectsFieldsOfAnotherTask) {
  EXPECT_EQ(Message(ParseError(R"({"output": {"task": "detection", "labels": ["a"]}})")),
            "config field 'output.labels' applies to task classification only");
  EXPECT_EQ(Message(ParseError(R"({"output": {"top_k": 1}})")),  // task defaults to raw
            "config field 'output.top_k' applies to task classification only");
  EXPECT_EQ(Message(ParseError(R"({"output": {"task": "classification", "layout": "yolov8"}})")),
            "config field 'output.layout' applies to task detection only");
  EXPECT_EQ(Message(ParseError(R"({"output": {"task": "text_detection", "class_names": ["a"]}})")),
            "config field 'output.class_names' applies to task detection only");
  EXPECT_EQ(Message(ParseError(R"({"output": {"task": "detection", "unclip_ratio": 2}})")),
            "config field 'output.unclip_ratio' applies to task text_detection only");
  EXPECT_EQ(ErrorCodeOf(ParseError(R"({"output": {"task": "raw", "min_size": 3}})")),
            "VALIDATION_FAILED");
}

TEST(ModelConfigTest, RoundTripsEveryTask) {
  const char* configs[] = {
      "{}",
      R"({"input": {"tensor": "x", "width": 192, "height": 48, "color": "bgr",
          "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "layout": "nchw", "dtype": "FP32"},
          "output": {"task": "classification", "labels": ["0", "180"], "top_k": 2}})",
      R"({"input": {"resize": "letterbox", "pad_value": 0, "scale": 0.00392156862745098},
          "output": {"task": "detection", "layout": "yolov5", "score_threshold": 0.3,
                     "class_names": ["person"], "max_detections": 100}})",
      R"({"input_shapes": {"x": [1, 3, 640, 640]}, "input": {"resize": "center_crop",
          "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "layout": "nhwc"},
          "output": {"task": "text_detection", "tensor": "sigmoid_0.tmp_0",
                     "unclip_ratio": 2.0, "min_size": 5}})",
  };
  for (const char* text : configs) {
    const ModelConfig c = Parse(text);
    const nlohmann::json j = ModelConfigToJson(c);
    auto back = ParseModelConfig(j);
    ASSERT_TRUE(back.ok()) << j.dump() << ": " << back.status();
    EXPECT_EQ(*back, c) << j.dump();
    // Through text too, as the config is stored.
    auto from_text = ParseModelConfigText(j.dump());
    ASSERT_TRUE(from_text.ok()) << from_text.status();
    EXPECT_EQ(*from_text, c) << j.dump();
  }
}

TEST(ModelConfigTest, JsonShowsEveryDefault) {
  const nlohmann::json j = ModelConfigToJson(ModelConfig{});
  const nlohmann::json& in = j["input"];
  EXPECT_EQ(in["tensor"], "");
  EXPECT_EQ(in["width"], 0);
  EXPECT_EQ(in["height"], 0);
  EXPECT_EQ(in["resize"], "stretch");
  EXPECT_EQ(in["pad_value"], 114);
  EXPECT_EQ(in["color"], "rgb");
  EXPECT_DOUBLE_EQ(in["scale"].get<double>(), 1.0 / 255.0);
  EXPECT_EQ(in["mean"], nlohmann::json({0.0, 0.0, 0.0}));
  EXPECT_EQ(in["std"], nlohmann::json({1.0, 1.0, 1.0}));
  EXPECT_TRUE(in["layout"].is_null());
  EXPECT_TRUE(in["dtype"].is_null());
  EXPECT_EQ(j["output"], nlohmann::json({{"task", "raw"}, {"tensor", ""}}));

  ModelConfig c;
  c.input.layout = Layout::kNhwc;
  c.input.dtype = DataType::kUint8;
  c.output.task = Task::kClassification;
  const nlohmann::json cls = ModelConfigToJson(c);
  EXPECT_EQ(cls["input"]["layout"], "nhwc");
  EXPECT_EQ(cls["input"]["dtype"], "UINT8");
  EXPECT_EQ(cls["output"], nlohmann::json({{"task", "classification"},
                                           {"tensor", ""},
                                           {"labels", nlohmann::json::array()},
                                           {"top_k", 5},
                                           {"softmax", false}}));
  c.output.task = Task::kDetection;
  EXPECT_EQ(ModelConfigToJson(c)["output"].size(), 7u);
  EXPECT_EQ(ModelConfigToJson(c)["output"]["layout"], "yolov8");
  c.output.task = Task::kTextDetection;
  EXPECT_EQ(ModelConfigToJson(c)["output"].size(), 7u);
  EXPECT_EQ(ModelConfigToJson(c)["output"]["unclip_ratio"], 1.5);
}

// --- ApplyIoDefaults ---

nlohmann::json Schema(const char* text) { return nlohmann::json::parse(text); }

const char* const kPpOcrSchema = R"({
  "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3, -1, -1]}],
  "outputs": [{"name": "softmax_0.tmp_0", "datatype": "FP32", "shape": [-1, 2]}]})";

TEST(ModelConfigIoDefaultsTest, PpOcrUsesInputShapes) {
  ModelConfig c = Parse(R"({"input_shapes": {"x": [1, 3, 48, 192]},
                            "output": {"task": "classification"}})");
  ASSERT_TRUE(ApplyIoDefaults(Schema(kPpOcrSchema), &c).ok());
  EXPECT_EQ(c.input.tensor, "x");
  EXPECT_EQ(c.input.width, 192);
  EXPECT_EQ(c.input.height, 48);
  EXPECT_EQ(c.input.layout, Layout::kNchw);
  EXPECT_EQ(c.input.dtype, DataType::kFp32);
  EXPECT_EQ(c.output.tensor, "softmax_0.tmp_0");
  // The result is still a valid config.
  auto back = ParseModelConfig(ModelConfigToJson(c));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
}

TEST(ModelConfigIoDefaultsTest, DynamicDimsFillOnlyTheLayout) {
  ModelConfig c;
  ASSERT_TRUE(ApplyIoDefaults(Schema(kPpOcrSchema), &c).ok());
  EXPECT_EQ(c.input.layout, Layout::kNchw);
  EXPECT_EQ(c.input.width, 0);
  EXPECT_EQ(c.input.height, 0);
  EXPECT_EQ(c.output.tensor, "");  // raw: all outputs, no tensor picked
}

TEST(ModelConfigIoDefaultsTest, Nhwc) {
  ModelConfig c = Parse(R"({"input": {"dtype": "FP32"}})");
  ASSERT_TRUE(ApplyIoDefaults(Schema(R"({"inputs": [
      {"name": "image", "datatype": "UINT8", "shape": [1, 320, 256, 3]}]})"),
                              &c)
                  .ok());
  EXPECT_EQ(c.input.tensor, "image");
  EXPECT_EQ(c.input.layout, Layout::kNhwc);
  EXPECT_EQ(c.input.width, 256);
  EXPECT_EQ(c.input.height, 320);
  EXPECT_EQ(c.input.dtype, DataType::kFp32);  // the user's choice stays
}

TEST(ModelConfigIoDefaultsTest, UserValuesWin) {
  ModelConfig c = Parse(R"({"input": {"width": 100, "layout": "nhwc"}})");
  ASSERT_TRUE(ApplyIoDefaults(Schema(R"({"inputs": [
      {"name": "a", "datatype": "FP16", "shape": [1, 64, 32, 3]},
      {"name": "b", "datatype": "FP32", "shape": [1, 3, 8, 8]}]})"),
                              &c)
                  .ok());
  EXPECT_EQ(c.input.tensor, "a");
  EXPECT_EQ(c.input.width, 100);
  EXPECT_EQ(c.input.height, 64);
  EXPECT_EQ(c.input.dtype, DataType::kFp16);

  // An explicit layout reads the dims its way even when the shape suggests the other.
  ModelConfig explicit_layout = Parse(R"({"input": {"tensor": "b", "layout": "nhwc"}})");
  ASSERT_TRUE(ApplyIoDefaults(Schema(R"({"inputs": [
      {"name": "a", "datatype": "FP16", "shape": [1, 64, 32, 3]},
      {"name": "b", "datatype": "FP32", "shape": [1, 3, 8, 5]}]})"),
                              &explicit_layout)
                  .ok());
  EXPECT_EQ(explicit_layout.input.layout, Layout::kNhwc);
  EXPECT_EQ(explicit_layout.input.height, 3);
  EXPECT_EQ(explicit_layout.input.width, 8);
  EXPECT_EQ(explicit_layout.input.dtype, DataType::kFp32);
}

TEST(ModelConfigIoDefaultsTest, UnknownTensorsAreRejected) {
  ModelConfig c = Parse(R"({"input": {"tensor": "images"}})");
  const absl::Status st = ApplyIoDefaults(Schema(R"({"inputs": [
      {"name": "x", "datatype": "FP32", "shape": [1, 3, 8, 8]},
      {"name": "y", "datatype": "FP32", "shape": [1]}]})"),
                                          &c);
  EXPECT_EQ(ErrorCodeOf(st), "VALIDATION_FAILED");
  EXPECT_THAT(Message(st), HasSubstr("'input.tensor'"));
  EXPECT_THAT(Message(st), HasSubstr("images"));
  EXPECT_THAT(Message(st), HasSubstr("x, y"));

  ModelConfig out = Parse(R"({"output": {"tensor": "boxes"}})");
  const absl::Status out_st = ApplyIoDefaults(Schema(kPpOcrSchema), &out);
  EXPECT_EQ(ErrorCodeOf(out_st), "VALIDATION_FAILED");
  EXPECT_THAT(Message(out_st), HasSubstr("'output.tensor'"));
  EXPECT_THAT(Message(out_st), HasSubstr("softmax_0.tmp_0"));

  // Outputs are only checked when the schema lists them.
  ModelConfig unlisted = Parse(R"({"output": {"tensor": "boxes"}})");
  EXPECT_TRUE(ApplyIoDefaults(Schema(R"({"inputs": []})"), &unlisted).ok());
  EXPECT_EQ(unlisted.output.tensor, "boxes");
}

TEST(ModelConfigIoDefaultsTest, UnknownShapes) {
  // TorchScript reports no shapes (an empty list, or null).
  for (const char* schema :
       {R"({"inputs": [{"name": "input", "datatype": "FP32", "shape": []}]})",
        R"({"inputs": [{"name": "input", "datatype": "FP32", "shape": null}]})"}) {
    ModelConfig c;
    ASSERT_TRUE(ApplyIoDefaults(Schema(schema), &c).ok()) << schema;
    EXPECT_EQ(c.input.tensor, "input");
    EXPECT_EQ(c.input.layout, Layout::kNchw);  // the fallback
    EXPECT_EQ(c.input.width, 0);
    EXPECT_EQ(c.input.dtype, DataType::kFp32);
  }
  // ...but input_shapes can still give the size.
  ModelConfig fixed = Parse(R"({"input_shapes": {"input": [1, 224, 224, 3]}})");
  ASSERT_TRUE(ApplyIoDefaults(Schema(R"({"inputs": [{"name": "input", "datatype": "FP32",
      "shape": []}]})"),
                              &fixed)
                  .ok());
  EXPECT_EQ(fixed.input.layout, Layout::kNhwc);
  EXPECT_EQ(fixed.input.width, 224);
  // No schema at all: nothing to fill but the layout.
  ModelConfig empty;
  ASSERT_TRUE(ApplyIoDefaults(nlohmann::json::object(), &empty).ok());
  EXPECT_EQ(empty.input.tensor, "");
  EXPECT_EQ(empty.input.layout, Layout::kNchw);
  EXPECT_FALSE(empty.input.dtype.has_value());
}

TEST(ModelConfigTest, OpenVinoEngineOptionsRoundTripOnlyWhenSet) {
  auto plain = ParseModelConfigText(R"({"engine_options": {"threads": 2}})");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(ModelConfigToJson(*plain)["engine_options"], nlohmann::json({{"threads", 2}}));
  auto tuned = ParseModelConfigText(
      R"({"engine_options": {"threads": 2, "performance_hint": "throughput", "streams": 2}})");
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->performance_hint, "throughput");
  EXPECT_EQ(tuned->streams, 2);
  EXPECT_EQ(ModelConfigToJson(*tuned)["engine_options"],
            nlohmann::json({{"threads", 2}, {"performance_hint", "throughput"}, {"streams", 2}}));
  auto again = ParseModelConfig(ModelConfigToJson(*tuned));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *tuned);
}

}  // namespace
}  // namespace cinfer
