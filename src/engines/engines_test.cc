// The same fixtures through every engine this build has (guideline 12).
#include <gtest/gtest.h>

#include <cmath>

#include "common/errors.h"
#include "common/strings.h"
#include "config/config.h"
#include "engines/builtin_engines.h"
#include "engines/engine_test_util.h"
#include "engines/model_inspection.h"

namespace cinfer {
namespace {

using testing::Fixture;
using testing::ReadJson;
using testing::SampleModel;
using testing::TensorFromJson;
using testing::ValueAt;

class EnginesTest : public ::testing::Test {
 protected:
  EnginesTest() {
    EnginesConfig config;
    config.onnx.threads = 1;
    config.pytorch.threads = 1;
    registry_ = BuildEngineRegistry(config);
  }
  const Engine* Get(std::string_view name) { return *registry_->Get(name); }

  std::unique_ptr<EngineRegistry> registry_;
};

void ExpectNear(const Tensor& t, const nlohmann::json& expected, double tol) {
  ASSERT_EQ(t.shape, expected["shape"].get<Shape>());
  const auto& data = expected["data"];
  ASSERT_EQ(t.data.size() / ElementSize(t.dtype), data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    const double want =
        data[i].is_boolean() ? (data[i].get<bool>() ? 1 : 0) : data[i].get<double>();
    ASSERT_NEAR(ValueAt(t, i), want, tol) << "element " << i;
  }
}

TEST_F(EnginesTest, RegistryHasTheEnginesOfThisBuild) {
  auto names = registry_->Names();
  EXPECT_NE(std::find(names.begin(), names.end(), "onnxruntime"), names.end());
#ifdef CINFER_WITH_LIBTORCH
  EXPECT_NE(std::find(names.begin(), names.end(), "libtorch"), names.end());
#endif
  EXPECT_FALSE(registry_->Get("tensorflow").ok());
  EXPECT_EQ((*registry_->Select(ModelFormat::kOnnx, ""))->name(), "onnxruntime");
  EXPECT_FALSE(registry_->Select(ModelFormat::kUnknown, "").ok());
  EXPECT_FALSE(registry_->Select(ModelFormat::kOnnx, "libtorch").ok());
}

TEST_F(EnginesTest, OnnxRuntimeRunsEveryElementType) {
  const auto expected = ReadJson(Fixture("dtypes_expected.json"));
  for (const auto& [file, spec] : expected.items()) {
    const DataType dtype = *DataTypeFromName(spec["datatype"].get<std::string>());
    if (dtype == DataType::kFp16) continue;  // covered by tests/integration/test_engines.py
    auto model = Get("onnxruntime")->Load(Fixture(file), {});
    ASSERT_TRUE(model.ok()) << file << ": " << model.status();
    ASSERT_EQ((*model)->inputs().size(), 1u);
    EXPECT_EQ((*model)->inputs()[0].dtype, dtype) << file;
    auto out = (*model)->Run({TensorFromJson(spec["input"], dtype)});
    ASSERT_TRUE(out.ok()) << file << ": " << out.status();
    EXPECT_EQ((*out)[0].dtype, dtype);
    ExpectNear((*out)[0], spec["output"], 1e-6);
  }
}

TEST_F(EnginesTest, OnnxRuntimeClassifierMatchesTorch) {
  const auto expected = ReadJson(Fixture("tiny_classifier_expected.json"));
  auto model = Get("onnxruntime")->Load(Fixture("tiny_classifier.onnx"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->inputs()[0].shape, (Shape{-1, 3, 32, 32}));
  auto out = (*model)->Run({TensorFromJson(expected["input"], DataType::kFp32)});
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectNear((*out)[0], expected["output"], 1e-4);
}

TEST_F(EnginesTest, WrongInputsAreRejectedNamingTheInput) {
  auto model = *Get("onnxruntime")->Load(Fixture("tiny_classifier.onnx"), {});
  const std::string name = model->inputs()[0].name;
  auto check = [&](Tensor t, std::string_view fragment) {
    auto st = model->Run({std::move(t)}).status();
    EXPECT_EQ(ErrorCodeOf(st), "VALIDATION_FAILED") << st;
    EXPECT_NE(std::string(ToStd(st.message())).find(fragment), std::string::npos) << st;
  };
  check(*MakeTensor(name, DataType::kInt64, {1, 3, 32, 32}), "must be FP32");
  check(*MakeTensor(name, DataType::kFp32, {1, 3, 16, 32}), "shape");
  check(*MakeTensor("other", DataType::kFp32, {1, 3, 32, 32}), "missing input");
  Tensor short_data = *MakeTensor(name, DataType::kFp32, {1, 3, 32, 32});
  short_data.data.resize(10);
  check(std::move(short_data), "bytes");
  EXPECT_FALSE(model->Run({}).ok());
}

TEST_F(EnginesTest, LoadRejectsWhatTheEngineCannotRead) {
  for (const char* f : {"empty.onnx", "truncated.onnx", "random.bin", "external_abs.onnx",
                        "external_dotdot.onnx", "tiny_classifier.pt"}) {
    auto model = Get("onnxruntime")->Load(Fixture(f), {});
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument)
        << f << ": " << model.status();
  }
}

#ifdef CINFER_WITH_LIBTORCH
TEST_F(EnginesTest, TorchScriptMatchesItsOnnxTwin) {
  const auto expected = ReadJson(Fixture("tiny_classifier_expected.json"));
  const Tensor input = TensorFromJson(expected["input"], DataType::kFp32);
  auto torch_model = Get("libtorch")->Load(Fixture("tiny_classifier.pt"), {});
  ASSERT_TRUE(torch_model.ok()) << torch_model.status();
  Tensor named = input;
  named.name = (*torch_model)->inputs()[0].name;
  auto torch_out = (*torch_model)->Run({named});
  ASSERT_TRUE(torch_out.ok()) << torch_out.status();
  ExpectNear((*torch_out)[0], expected["output"], 1e-4);
  auto onnx_out = (*Get("onnxruntime")->Load(Fixture("tiny_classifier.onnx"), {}))->Run({input});
  ASSERT_TRUE(onnx_out.ok());
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_NEAR((*torch_out)[0].As<float>()[i], (*onnx_out)[0].As<float>()[i], 1e-4);
  }
}

TEST_F(EnginesTest, TorchScriptTupleOutputsAreNamed) {
  const auto expected = ReadJson(Fixture("tuple_outputs_expected.json"));
  auto model = Get("libtorch")->Load(Fixture("tuple_outputs.pt"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ((*model)->outputs().size(), 2u);
  EXPECT_EQ((*model)->outputs()[1].name, "output1");
  Tensor input = TensorFromJson(expected["input"], DataType::kFp32, (*model)->inputs()[0].name);
  auto out = (*model)->Run({input});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 2u);
  ExpectNear((*out)[0], expected["outputs"][0], 1e-5);
  ExpectNear((*out)[1], expected["outputs"][1], 1e-5);
}

TEST_F(EnginesTest, NewerTorchScriptIsRejectedNamingTheVersion) {
  auto model = Get("libtorch")->Load(Fixture("newer_torchscript.pt"), {});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(std::string(ToStd(model.status().message())).find("version 99"), std::string::npos)
      << model.status();
  EXPECT_FALSE(Get("libtorch")->Load(Fixture("tiny_classifier.onnx"), {}).ok());
}
#endif

#ifdef CINFER_WITH_OPENCV_DNN
TEST_F(EnginesTest, OpenCvRunsPpOcrClsAtAFixedShapeLikeOnnxRuntime) {
  const std::string cls = SampleModel("ch_ppocr_mobile_v2.0_cls_infer.onnx");
  if (!std::filesystem::exists(cls)) GTEST_SKIP() << "run scripts/fetch-sample-models.sh";
  auto dynamic = Get("opencv")->Load(cls, {});
  ASSERT_FALSE(dynamic.ok());
  EXPECT_NE(std::string(ToStd(dynamic.status().message())).find("dynamic input shapes"),
            std::string::npos);
  LoadOptions fixed{{{"x", {1, 3, 48, 192}}}, 0};
  auto cv_model = Get("opencv")->Load(cls, fixed);
  ASSERT_TRUE(cv_model.ok()) << cv_model.status();
  auto ort_model = Get("onnxruntime")->Load(cls, {});
  ASSERT_TRUE(ort_model.ok());
  auto inputs = *SyntheticInputs((*cv_model)->inputs(), fixed.input_shapes);
  auto a = (*cv_model)->Run(inputs);
  auto b = (*ort_model)->Run(inputs);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ((*a)[0].shape, (*b)[0].shape);
  for (size_t i = 0; i < (*a)[0].data.size() / 4; ++i) {
    EXPECT_NEAR((*a)[0].As<float>()[i], (*b)[0].As<float>()[i], 1e-3);
  }
}
#endif

TEST_F(EnginesTest, InspectDescribesAndTestInfers) {
  auto report = InspectModel(*registry_, Fixture("tiny_classifier.onnx"), {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->engine, "onnxruntime");
  EXPECT_EQ(report->format, ModelFormat::kOnnx);
  EXPECT_GT(report->load_ms, 0);
  EXPECT_GT(report->peak_rss_mb, 0);
  auto json = ReportToJson(*report);
  EXPECT_EQ(json["inputs"][0]["datatype"], "FP32");
  EXPECT_EQ(json["inputs"][0]["shape"][0], -1);
  auto rejected = InspectModel(*registry_, Fixture("random.bin"), {});
  EXPECT_EQ(ErrorCodeOf(rejected.status()), "MODEL_REJECTED");
}

TEST(ShapeFlagTest, Parses) {
  auto ok = ParseShapeFlag("x=1,3,48,192");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "x");
  EXPECT_EQ(ok->second, (Shape{1, 3, 48, 192}));
  for (const char* bad : {"x", "=1,2", "x=1,,2", "x=0", "x=-1", "x=a"}) {
    EXPECT_FALSE(ParseShapeFlag(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace cinfer
