// OpenVinoEngine against ONNX Runtime on the same ONNX files, its option
// checks, what it does with files it cannot read, concurrent Run, and the
// plugin entry point.
#include "engines/openvino/openvino_engine.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <openvino/openvino.hpp>
#include <thread>

#include "common/strings.h"
#include "engines/engine_plugin.h"
#include "engines/engine_test_util.h"
#include "engines/onnxruntime/onnxruntime_engine.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;
using testing::Fixture;
using testing::ReadJson;
using testing::SampleModel;
using testing::TensorFromJson;
using testing::ValueAt;

// FP32 values in [-1, 1) from a 64-bit LCG: the same on every platform.
Tensor PseudoRandom(const std::string& name, const Shape& shape, uint64_t seed) {
  Tensor t = *MakeTensor(name, DataType::kFp32, shape);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  float* values = t.As<float>();
  for (size_t i = 0; i < t.data.size() / sizeof(float); ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    values[i] = static_cast<float>(state >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f;
  }
  return t;
}

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  double max = 0;
  for (size_t i = 0; i < a.data.size() / ElementSize(a.dtype); ++i) {
    max = std::max(max, std::abs(ValueAt(a, i) - ValueAt(b, i)));
  }
  return max;
}

std::string Message(const absl::Status& status) { return std::string(ToStd(status.message())); }

// A fresh folder under the test's temp dir.
std::string TempFolder(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / StrCat("openvino_engine_test_", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// LoadOptions with the given fields set (the rest default).
LoadOptions WithShape(const std::string& name, const Shape& shape) {
  LoadOptions load;
  load.input_shapes[name] = shape;
  return load;
}
LoadOptions WithHint(const std::string& hint, int streams = 0, int threads = 0) {
  LoadOptions load;
  load.performance_hint = hint;
  load.streams = streams;
  load.intra_op_threads = threads;
  return load;
}

// Protobuf wire format, for the Paddle program below.
std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Int(int field, int64_t v) {
  return Varint(static_cast<uint64_t>(field) << 3) + Varint(static_cast<uint64_t>(v));
}
std::string Bytes(int field, const std::string& bytes) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(bytes.size()) + bytes;
}

// A PaddlePaddle inference program written by hand (Paddle's framework.proto):
// y = relu(x + w), x FP32 [-1, 3], w a persistable FP32 [3] parameter.
// Returns the contents of {model.pdmodel, model.pdiparams}.
std::pair<std::string, std::string> PaddleAddRelu(const float (&w)[3]) {
  constexpr int kFp32 = 5, kLodTensor = 7, kFeedMinibatch = 9, kFetchList = 10, kAttrInt = 0;
  auto tensor_desc = [](std::initializer_list<int64_t> dims) {
    std::string desc = Int(1, kFp32);
    for (int64_t d : dims) desc += Int(2, d);
    return desc;
  };
  auto var = [&](const std::string& name, std::string type, bool persistable) {
    return Bytes(3, Bytes(1, name) + Bytes(2, type) + Int(3, persistable));
  };
  auto lod_tensor = [&](std::initializer_list<int64_t> dims) {
    return Int(1, kLodTensor) + Bytes(3, Bytes(1, tensor_desc(dims)));
  };
  auto attr = [](const std::string& name, int64_t v) {
    return Bytes(4, Bytes(1, name) + Int(2, kAttrInt) + Int(3, v));
  };
  auto op = [](const std::string& type, const std::vector<std::pair<std::string, std::string>>& in,
               const std::pair<std::string, std::string>& out, const std::string& attrs) {
    std::string desc;
    for (const auto& [param, arg] : in) desc += Bytes(1, Bytes(1, param) + Bytes(2, arg));
    desc += Bytes(2, Bytes(1, out.first) + Bytes(2, out.second)) + Bytes(3, type) + attrs;
    return Bytes(4, desc);
  };
  const std::string block =
      Int(1, 0) + Int(2, -1) + var("feed", Int(1, kFeedMinibatch), true) +
      var("fetch", Int(1, kFetchList), true) + var("x", lod_tensor({-1, 3}), false) +
      var("w", lod_tensor({3}), true) + var("z", lod_tensor({-1, 3}), false) +
      var("y", lod_tensor({-1, 3}), false) +
      op("feed", {{"X", "feed"}}, {"Out", "x"}, attr("col", 0)) +
      op("elementwise_add", {{"X", "x"}, {"Y", "w"}}, {"Out", "z"}, attr("axis", -1)) +
      op("relu", {{"X", "z"}}, {"Out", "y"}, "") +
      op("fetch", {{"X", "y"}}, {"Out", "fetch"}, attr("col", 0));
  const std::string program = Bytes(1, block) + Bytes(4, Int(1, 0));
  // Each parameter: version (4 bytes), LoD level (8), version (4), TensorDesc size
  // (4), TensorDesc, data.
  const std::string desc = tensor_desc({3});
  std::string params(16, '\0');
  const auto size = static_cast<int32_t>(desc.size());
  params.append(reinterpret_cast<const char*>(&size), sizeof(size));
  params += desc;
  params.append(reinterpret_cast<const char*>(w), sizeof(w));
  return {program, params};
}

class OpenVinoEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ort = OnnxRuntimeEngine::Create({});
    ASSERT_TRUE(ort.ok()) << ort.status();
    ort_ = std::move(*ort);
    auto ov = OpenVinoEngine::Create({});
    ASSERT_TRUE(ov.ok()) << ov.status();
    ov_ = std::move(*ov);
  }

  std::unique_ptr<OnnxRuntimeEngine> ort_;
  std::unique_ptr<OpenVinoEngine> ov_;
};

struct OcrCase {
  const char* label;
  const char* file;
  Shape declared;  // in the ONNX file (-1: dynamic)
  Shape shape;     // given at load and run
};

class PpOcrTest : public OpenVinoEngineTest, public ::testing::WithParamInterface<OcrCase> {};

void ExpectSameSpecs(const std::vector<TensorSpec>& ov, const std::vector<TensorSpec>& ort) {
  ASSERT_EQ(ov.size(), ort.size());
  for (size_t i = 0; i < ov.size(); ++i) {
    EXPECT_EQ(ov[i].name, ort[i].name);
    EXPECT_EQ(ov[i].dtype, ort[i].dtype) << ov[i].name;
    EXPECT_EQ(ov[i].shape.size(), ort[i].shape.size()) << ov[i].name;
  }
}

TEST_P(PpOcrTest, OpenVinoMatchesOnnxRuntime) {
  const OcrCase& c = GetParam();
  const std::string path = SampleModel(c.file);
  if (!fs::exists(path)) GTEST_SKIP() << "run scripts/fetch-sample-models.sh";
  auto probe = ort_->Load(path, {});
  ASSERT_TRUE(probe.ok()) << probe.status();
  ASSERT_EQ((*probe)->inputs().size(), 1u);
  const std::string input_name = (*probe)->inputs()[0].name;
  EXPECT_EQ((*probe)->inputs()[0].shape, c.declared);
  auto ov_dynamic = ov_->Load(path, {});
  ASSERT_TRUE(ov_dynamic.ok()) << ov_dynamic.status();
  EXPECT_EQ((*ov_dynamic)->inputs()[0].shape, c.declared);
  LoadOptions load;
  load.input_shapes[input_name] = c.shape;
  auto ort = ort_->Load(path, load);
  auto ov = ov_->Load(path, load);
  ASSERT_TRUE(ort.ok()) << ort.status();
  ASSERT_TRUE(ov.ok()) << ov.status();
  ExpectSameSpecs((*ov)->inputs(), (*ort)->inputs());
  ExpectSameSpecs((*ov)->outputs(), (*ort)->outputs());
  EXPECT_EQ((*ov)->inputs()[0].shape, c.shape);  // reshaped before compiling
  EXPECT_EQ((*ov)->devices(), std::vector<std::string>{"CPU"});
  EXPECT_TRUE((*ov)->SupportsConcurrentRun());

  const Tensor input = PseudoRandom(input_name, c.shape, 42);
  auto want = (*ort)->Run({input});
  auto got = (*ov)->Run({input});
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), want->size());
  for (size_t i = 0; i < got->size(); ++i) {
    const Tensor& a = (*got)[i];
    const Tensor& b = (*want)[i];
    EXPECT_EQ(a.name, b.name);
    ASSERT_EQ(a.dtype, b.dtype) << a.name;
    ASSERT_EQ(a.shape, b.shape) << a.name;
    const double diff = MaxAbsDiff(a, b);
    std::printf("[ max diff ] %s output '%s' %s: %.3g\n", c.label, a.name.c_str(),
                ShapeToString(a.shape).c_str(), diff);
    RecordProperty(StrCat("max_abs_diff_", a.name), StrCat(diff));
    EXPECT_LE(diff, 1e-3) << a.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Samples, PpOcrTest,
    ::testing::Values(
        OcrCase{"cls", "ch_ppocr_mobile_v2.0_cls_infer.onnx", {-1, 3, -1, -1}, {1, 3, 48, 192}},
        OcrCase{"det", "ch_PP-OCRv4_det_infer.onnx", {-1, 3, -1, -1}, {1, 3, 320, 320}},
        OcrCase{"rec", "ch_PP-OCRv4_rec_infer.onnx", {-1, 3, 48, -1}, {1, 3, 48, 320}}),
    [](const ::testing::TestParamInfo<OcrCase>& info) { return std::string(info.param.label); });

// The IR twins scripts/make-openvino-fixtures.py converts (install-deps) equal their
// ONNX source under ONNX Runtime.
TEST_P(PpOcrTest, IrConversionMatchesItsOnnxSource) {
  const OcrCase& c = GetParam();
  const std::string onnx = SampleModel(c.file);
  const std::string xml =
      SampleModel(StrCat("openvino/", fs::path(c.file).stem().string(), ".xml"));
  if (!fs::exists(onnx) || !fs::exists(xml)) GTEST_SKIP() << "run scripts/install-deps.sh";
  auto ort = ort_->Load(onnx, WithShape("x", c.shape));
  auto ov = ov_->Load(xml, WithShape("x", c.shape));
  ASSERT_TRUE(ort.ok()) << ort.status();
  ASSERT_TRUE(ov.ok()) << ov.status();
  ExpectSameSpecs((*ov)->outputs(), (*ort)->outputs());
  const Tensor input = PseudoRandom("x", c.shape, 7);
  auto want = (*ort)->Run({input});
  auto got = (*ov)->Run({input});
  ASSERT_TRUE(want.ok() && got.ok()) << want.status() << got.status();
  ASSERT_EQ((*got)[0].shape, (*want)[0].shape);
  const double diff = MaxAbsDiff((*got)[0], (*want)[0]);
  std::printf("[ max diff ] %s IR vs ONNX Runtime: %.3g\n", c.label, diff);
  EXPECT_LE(diff, 1e-3);
}

// The PaddlePaddle fixture (tools/make_paddle_fixture.py) through OpenVINO's Paddle
// frontend equals Paddle's own output and its ONNX twin under ONNX Runtime (1e-4).
TEST_F(OpenVinoEngineTest, PaddleFixtureMatchesPaddleAndItsOnnxTwin) {
  const auto expected = ReadJson(Fixture("paddle_cnn_expected.json"));
  const Tensor input = TensorFromJson(expected["input"], DataType::kFp32);
  auto paddle = ov_->Load(Fixture("paddle_cnn/inference.pdmodel"), {});
  auto twin = ort_->Load(Fixture("paddle_cnn.onnx"), {});
  ASSERT_TRUE(paddle.ok()) << paddle.status();
  ASSERT_TRUE(twin.ok()) << twin.status();
  ExpectSameSpecs((*paddle)->inputs(), (*twin)->inputs());
  ExpectSameSpecs((*paddle)->outputs(), (*twin)->outputs());
  auto got = (*paddle)->Run({input});
  auto onnx = (*twin)->Run({input});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  const Tensor want = TensorFromJson(expected["output"], DataType::kFp32);
  ASSERT_EQ((*got)[0].shape, want.shape);
  const double vs_paddle = MaxAbsDiff((*got)[0], want);
  const double vs_twin = MaxAbsDiff((*got)[0], (*onnx)[0]);
  std::printf("[ max diff ] paddle_cnn: vs Paddle %.3g, vs ONNX twin %.3g\n", vs_paddle, vs_twin);
  EXPECT_LE(vs_paddle, 1e-4);
  EXPECT_LE(vs_twin, 1e-4);
}

TEST_F(OpenVinoEngineTest, TinyClassifierMatchesTorchWithADynamicBatch) {
  const auto expected = ReadJson(Fixture("tiny_classifier_expected.json"));
  auto model = ov_->Load(Fixture("tiny_classifier.onnx"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  auto ort = *ort_->Load(Fixture("tiny_classifier.onnx"), {});
  ExpectSameSpecs((*model)->inputs(), ort->inputs());
  ExpectSameSpecs((*model)->outputs(), ort->outputs());
  EXPECT_EQ((*model)->inputs()[0].shape, (Shape{-1, 3, 32, 32}));
  auto out = (*model)->Run({TensorFromJson(expected["input"], DataType::kFp32)});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ((*out)[0].shape, expected["output"]["shape"].get<Shape>());
  const auto& data = expected["output"]["data"];
  for (size_t i = 0; i < data.size(); ++i) {
    EXPECT_NEAR((*out)[0].As<float>()[i], data[i].get<float>(), 1e-4) << i;
  }
}

// The fixtures compute y = x + x. The CPU plugin computes INT64 in 32 bits
// inside the graph (see openvino_engine.h): for INT64 only the elements whose
// values fit int32 are compared.
TEST_F(OpenVinoEngineTest, RunsEveryElementType) {
  const auto expected = ReadJson(Fixture("dtypes_expected.json"));
  for (const auto& [file, spec] : expected.items()) {
    const DataType dtype = *DataTypeFromName(spec["datatype"].get<std::string>());
    if (dtype == DataType::kFp16) continue;  // TensorFromJson has no FP16
    auto model = ov_->Load(Fixture(file), {});
    ASSERT_TRUE(model.ok()) << file << ": " << model.status();
    EXPECT_EQ((*model)->inputs()[0].dtype, dtype) << file;
    auto out = (*model)->Run({TensorFromJson(spec["input"], dtype, (*model)->inputs()[0].name)});
    ASSERT_TRUE(out.ok()) << file << ": " << out.status();
    EXPECT_EQ((*out)[0].dtype, dtype) << file;
    const Tensor want = TensorFromJson(spec["output"], dtype);
    ASSERT_EQ((*out)[0].shape, want.shape) << file;
    size_t compared = 0;
    for (size_t i = 0; i < want.data.size() / ElementSize(dtype); ++i) {
      if (dtype == DataType::kInt64 && std::abs(ValueAt(want, i)) > INT32_MAX) continue;
      EXPECT_EQ(ValueAt((*out)[0], i), ValueAt(want, i)) << file << " element " << i;
      ++compared;
    }
    EXPECT_GE(compared, 4u) << file;
  }
}

TEST_F(OpenVinoEngineTest, GivenShapesMustFitTheModel) {
  const std::string path = Fixture("tiny_classifier.onnx");
  const std::string name = (*ov_->Load(path, {}))->inputs()[0].name;
  auto fixed = ov_->Load(path, WithShape(name, {2, 3, 32, 32}));
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ((*fixed)->inputs()[0].shape, (Shape{2, 3, 32, 32}));
  EXPECT_FALSE((*fixed)->Run({PseudoRandom(name, {1, 3, 32, 32}, 1)}).ok());
  EXPECT_TRUE((*fixed)->Run({PseudoRandom(name, {2, 3, 32, 32}, 1)}).ok());
  for (const Shape& bad : {Shape{1, 3, 32}, Shape{1, 3, 16, 32}, Shape{0, 3, 32, 32}}) {
    auto model = ov_->Load(path, WithShape(name, bad));
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << ShapeToString(bad);
    EXPECT_NE(Message(model.status()).find(name), std::string::npos) << model.status();
  }
  EXPECT_TRUE(ov_->Load(path, WithShape("not_an_input", {1})).ok());
}

TEST_F(OpenVinoEngineTest, BadOptionValuesAreRefused) {
  const std::pair<OpenVinoEngine::Options, std::string> bad[] = {
      {{.threads = -1}, "-1"},
      {{.threads = 100000}, "100000"},
      {{.performance_hint = "bogus"}, "bogus"},
      {{.performance_hint = ""}, "performance_hint"},
      {{.streams = -2}, "-2"},
  };
  for (const auto& [options, fragment] : bad) {
    auto engine = OpenVinoEngine::Create(options);
    ASSERT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument) << fragment;
    EXPECT_NE(Message(engine.status()).find(fragment), std::string::npos) << engine.status();
  }
  const std::string path = Fixture("tiny_classifier.onnx");
  auto hint = ov_->Load(path, WithHint("fast"));
  EXPECT_EQ(hint.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(hint.status()).find("fast"), std::string::npos) << hint.status();
  EXPECT_EQ(ov_->Load(path, WithHint("", -3)).status().code(), absl::StatusCode::kInvalidArgument);

  auto tuned =
      OpenVinoEngine::Create({.threads = 1, .performance_hint = "throughput", .streams = 2});
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  auto model = (*tuned)->Load(path, WithHint("latency", 1, 2));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE((*model)->Run({PseudoRandom((*model)->inputs()[0].name, {1, 3, 32, 32}, 3)}).ok());
}

TEST_F(OpenVinoEngineTest, FilesItCannotReadGiveAStatus) {
  EXPECT_FALSE(ov_->Load(Fixture("no_such_model.onnx"), {}).ok());
  for (const char* f : {"empty.onnx", "truncated.onnx", "random.bin", "external_abs.onnx",
                        "external_dotdot.onnx", "tiny_classifier.pt"}) {
    auto model = ov_->Load(Fixture(f), {});
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument)
        << f << ": " << model.status();
  }
  // Random bytes under the names each frontend looks for.
  const std::string dir = TempFolder("random");
  const Tensor noise = PseudoRandom("noise", {4096}, 7);
  const std::string bytes(reinterpret_cast<const char*>(noise.data.data()), noise.data.size());
  for (const char* name : {"model.onnx", "model.xml", "model.pdmodel", "model"}) {
    WriteBytes(dir + "/" + name, bytes);
    WriteBytes(dir + "/model.bin", bytes);
    WriteBytes(dir + "/model.pdiparams", bytes);
    auto model = ov_->Load(dir + "/" + name, {});
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument)
        << name << ": " << model.status();
  }
}

// The ONNX file written as OpenVINO IR (and copied under a name without an
// extension, as the server stores uploads) loads and computes the same.
TEST_F(OpenVinoEngineTest, ReadsIrAndFilesWithoutAnExtension) {
  const std::string dir = TempFolder("ir");
  const std::string onnx = Fixture("tiny_classifier.onnx");
  ov::Core core;
  ov::serialize(core.read_model(onnx), dir + "/model.xml", dir + "/model.bin");
  fs::copy_file(onnx, dir + "/3f9a0c17");
  auto reference = *ov_->Load(onnx, {});
  const Tensor input = PseudoRandom(reference->inputs()[0].name, {2, 3, 32, 32}, 11);
  const auto want = *reference->Run({input});
  for (const char* file : {"model.xml", "3f9a0c17"}) {
    auto model = ov_->Load(dir + "/" + file, {});
    ASSERT_TRUE(model.ok()) << file << ": " << model.status();
    ExpectSameSpecs((*model)->inputs(), reference->inputs());
    ExpectSameSpecs((*model)->outputs(), reference->outputs());
    auto got = (*model)->Run({input});
    ASSERT_TRUE(got.ok()) << file << ": " << got.status();
    EXPECT_LE(MaxAbsDiff((*got)[0], want[0]), 1e-6) << file;
  }
  const auto bin_size = fs::file_size(dir + "/model.bin");
  fs::resize_file(dir + "/model.bin", bin_size / 2);
  auto short_bin = ov_->Load(dir + "/model.xml", {});
  EXPECT_EQ(short_bin.status().code(), absl::StatusCode::kInvalidArgument) << short_bin.status();
  fs::remove(dir + "/model.bin");
  auto missing = ov_->Load(dir + "/model.xml", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(missing.status()).find("model.bin is missing"), std::string::npos)
      << missing.status();
}

TEST_F(OpenVinoEngineTest, ReadsPaddlePrograms) {
  const std::string dir = TempFolder("paddle");
  const float w[3] = {1.0f, -2.0f, 0.5f};
  const auto [program, params] = PaddleAddRelu(w);
  WriteBytes(dir + "/model.pdmodel", program);
  WriteBytes(dir + "/model.pdiparams", params);
  auto model = ov_->Load(dir + "/model.pdmodel", {});
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ((*model)->inputs().size(), 1u);
  EXPECT_EQ((*model)->inputs()[0].name, "x");
  EXPECT_EQ((*model)->inputs()[0].shape, (Shape{-1, 3}));
  ASSERT_EQ((*model)->outputs().size(), 1u);
  EXPECT_EQ((*model)->outputs()[0].dtype, DataType::kFp32);
  const Tensor x = PseudoRandom("x", {2, 3}, 5);
  auto out = (*model)->Run({x});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ((*out)[0].shape, (Shape{2, 3}));
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_FLOAT_EQ((*out)[0].As<float>()[i], std::max(0.0f, x.As<float>()[i] + w[i % 3])) << i;
  }
  // Recognised by content: the same files under other names load too...
  WriteBytes(dir + "/5c2d", program);
  WriteBytes(dir + "/5c2d.pdiparams", params);
  auto renamed = ov_->Load(dir + "/5c2d", {});
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  auto again = (*renamed)->Run({x});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)[0].data, (*out)[0].data);
  // Nor with a cut or a missing parameters file.
  WriteBytes(dir + "/model.pdiparams", params.substr(0, 20));
  auto cut = ov_->Load(dir + "/model.pdmodel", {});
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kInvalidArgument) << cut.status();
  fs::remove(dir + "/model.pdiparams");
  auto missing = ov_->Load(dir + "/model.pdmodel", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument) << missing.status();
}

TEST_F(OpenVinoEngineTest, ConcurrentRunsGiveTheSameResults) {
  std::string path = SampleModel("ch_ppocr_mobile_v2.0_cls_infer.onnx");
  Shape shape = {1, 3, 48, 192};
  if (!fs::exists(path)) {
    path = Fixture("tiny_classifier.onnx");
    shape = {1, 3, 32, 32};
  }
  for (const char* hint : {"latency", "throughput"}) {
    auto model = ov_->Load(path, WithHint(hint));
    ASSERT_TRUE(model.ok()) << model.status();
    const std::string name = (*model)->inputs()[0].name;
    constexpr int kThreads = 4, kRuns = 5;
    std::vector<Tensor> inputs, want;
    for (int t = 0; t < kThreads; ++t) {
      inputs.push_back(PseudoRandom(name, shape, 100 + t));
      want.push_back((*(*model)->Run({inputs.back()}))[0]);
    }
    std::vector<int> mismatches(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int r = 0; r < kRuns; ++r) {
          auto out = (*model)->Run({inputs[t]});
          if (!out.ok() || (*out)[0].shape != want[t].shape || (*out)[0].data != want[t].data) {
            ++mismatches[t];
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << hint << " thread " << t;
  }
}

// The built plugin (build/engines/libcinfer_engine_openvino.so), opened as the server does.
TEST(OpenVinoPluginTest, EntryPointCreatesTheEngineFromJson) {
  void* handle = dlopen(CINFER_PLUGIN_DIR "/libcinfer_engine_openvino.so", RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto entry = reinterpret_cast<CinferEnginePluginEntry>(dlsym(handle, "cinfer_engine_plugin_v1"));
  ASSERT_NE(entry, nullptr);
  const EnginePluginApi* api = entry();
  ASSERT_NE(api, nullptr);
  EXPECT_STREQ(api->abi, kEnginePluginAbi);
  EXPECT_STREQ(api->name, "openvino");
  EXPECT_EQ(api, entry());
  for (const char* bad :
       {R"({"performance_hint":"bogus"})", R"({"threads":"4"})", R"({"streams":1.5})",
        R"({"threads":4294967296})", R"({"performance_hint":1})", "[1]", "{not json"}) {
    auto engine = api->create(bad);
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  for (const char* good :
       {"{}", "", R"({"threads":2,"performance_hint":"throughput","streams":2,"other":1})"}) {
    auto engine = api->create(good);
    ASSERT_TRUE(engine.ok()) << good << ": " << engine.status();
    EXPECT_EQ((*engine)->name(), "openvino");
  }
  auto engine = *api->create("{}");
  auto model = engine->Load(Fixture("tiny_classifier.onnx"), {});
  ASSERT_TRUE(model.ok()) << model.status();
}

}  // namespace
}  // namespace cinfer
