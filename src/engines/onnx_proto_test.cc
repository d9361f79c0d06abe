#include "engines/onnx_proto.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "engines/engine_test_util.h"
#include "engines/model_format.h"

namespace cinfer {
namespace {

using testing::Fixture;
using testing::SampleModel;

std::string Read(const std::string& path) { return ReadFileToString(path).value_or(""); }

TEST(OnnxProtoTest, SniffsFormatsByContent) {
  EXPECT_EQ(SniffModelFormat(Read(Fixture("tiny_classifier.onnx"))), ModelFormat::kOnnx);
  EXPECT_EQ(SniffModelFormat(Read(Fixture("tiny_classifier.pt"))), ModelFormat::kTorchScript);
  EXPECT_EQ(SniffModelFormat(Read(Fixture("tuple_outputs.pt"))), ModelFormat::kTorchScript);
  EXPECT_EQ(SniffModelFormat(Read(Fixture("truncated.onnx"))), ModelFormat::kUnknown);
  EXPECT_EQ(SniffModelFormat(Read(Fixture("random.bin"))), ModelFormat::kUnknown);
  EXPECT_EQ(SniffModelFormat(""), ModelFormat::kUnknown);
  // A TorchScript file truncated anywhere loses its central directory.
  const std::string pt = Read(Fixture("tiny_classifier.pt"));
  EXPECT_EQ(SniffModelFormat(pt.substr(0, pt.size() / 2)), ModelFormat::kUnknown);
}

TEST(OnnxProtoTest, FindsExternalDataLocationsAndRefusesEscapes) {
  auto abs = onnx::ExternalDataLocations(Read(Fixture("external_abs.onnx")));
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(*abs, std::vector<std::string>{"/etc/passwd"});
  EXPECT_FALSE(onnx::CheckExternalDataLocations(Read(Fixture("external_abs.onnx"))).ok());
  EXPECT_FALSE(onnx::CheckExternalDataLocations(Read(Fixture("external_dotdot.onnx"))).ok());
  EXPECT_TRUE(onnx::CheckExternalDataLocations(Read(Fixture("tiny_classifier.onnx"))).ok());
}

TEST(OnnxProtoTest, ReadsAndFixesInputShapes) {
  const std::string model = Read(SampleModel("ch_ppocr_mobile_v2.0_cls_infer.onnx"));
  if (model.empty()) GTEST_SKIP() << "run scripts/fetch-sample-models.sh";
  auto shapes = onnx::GraphInputShapes(model);
  ASSERT_TRUE(shapes.ok());
  EXPECT_EQ(shapes->at("x"), (Shape{-1, 3, -1, -1}));
  auto fixed = onnx::WithFixedInputShapes(model, {{"x", {1, 3, 48, 192}}});
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_TRUE(onnx::LooksLikeOnnx(*fixed));
  EXPECT_EQ(onnx::GraphInputShapes(*fixed)->at("x"), (Shape{1, 3, 48, 192}));
  EXPECT_FALSE(onnx::WithFixedInputShapes(model, {{"x", {1, 4, 48, 192}}}).ok());  // contradicts 3
  EXPECT_FALSE(onnx::WithFixedInputShapes(model, {{"x", {1, 3}}}).ok());           // wrong rank
  EXPECT_FALSE(onnx::WithFixedInputShapes(model, {{"nope", {1}}}).ok());
}

TEST(OnnxProtoTest, MalformedMessagesAreErrorsNotCrashes) {
  EXPECT_FALSE(onnx::ParseMessage(std::string("\x0a\xff\xff\xff\xff\x0f", 6)).ok());
  EXPECT_FALSE(onnx::ParseMessage(std::string("\x08", 1)).ok());
  EXPECT_FALSE(onnx::ParseMessage(std::string("\x0f", 1)).ok());  // wire type 7
  const std::string model = Read(Fixture("tiny_classifier.onnx"));
  for (size_t cut = 0; cut < model.size(); cut += 37) {
    (void)onnx::LooksLikeOnnx(model.substr(0, cut));
    (void)onnx::ExternalDataLocations(model.substr(0, cut));
  }
}

}  // namespace
}  // namespace cinfer
