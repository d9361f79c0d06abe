#include "models/model_bundle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engines/engine_test_util.h"
#include "testing/model_bundle_fixtures.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveKind;
using testing::IrXml;
using testing::ListTree;
using testing::PaddleProgram;
using testing::ReadAll;
using testing::WriteAll;
using testing::WriteArchive;

class ArrangeModelFilesTest : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.File("staging"); }
  void Put(const std::string& rel, const std::string& content) {
    WriteAll(dir() + "/" + rel, content);
  }
  // Refused with InvalidArgument naming `message_part`, and the folder untouched.
  void ExpectRefused(const std::string& message_part) {
    const std::vector<std::string> before = ListTree(dir());
    auto r = ArrangeModelFiles(dir());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_NE(std::string(r.status().message()).find(message_part), std::string::npos)
        << r.status();
    EXPECT_EQ(ListTree(dir()), before);
  }

  testing::TempDir tmp_;
};

TEST_F(ArrangeModelFilesTest, IrPairFromAZipWithATopLevelFolder) {
  const std::string zip = tmp_.File("ir.zip");
  ASSERT_TRUE(WriteArchive(zip, ArchiveKind::kZip,
                           {{"mobilenet/", "", AE_IFDIR},
                            {"mobilenet/mobilenet.xml", IrXml()},
                            {"mobilenet/mobilenet.bin", std::string(8, '\1')},
                            {"mobilenet/README.md", "notes"},
                            {"__MACOSX/mobilenet/._mobilenet.xml", "apple"}}));
  ASSERT_TRUE(UnpackArchive(zip, dir(), {}).ok());
  auto bundle = ArrangeModelFiles(dir());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->format, ModelFormat::kOpenVinoIr);
  EXPECT_EQ(bundle->primary, fs::absolute(dir() + "/model.xml").string());
  EXPECT_EQ(bundle->files, (std::vector<std::string>{"model.xml", "model.bin"}));
  EXPECT_EQ(ListTree(dir()), (std::vector<std::string>{"model.bin", "model.xml"}));
  EXPECT_EQ(ReadAll(dir() + "/model.xml"), IrXml());
  EXPECT_EQ(ReadAll(dir() + "/model.bin"), std::string(8, '\1'));
}

TEST_F(ArrangeModelFilesTest, PaddlePairFromATarGzWithInferenceYml) {
  const std::string tgz = tmp_.File("paddle.tar.gz");
  ASSERT_TRUE(WriteArchive(tgz, ArchiveKind::kTarGz,
                           {{"ch_ppocr_cls/inference.pdmodel", PaddleProgram()},
                            {"ch_ppocr_cls/inference.pdiparams", std::string(64, '\0')},
                            {"ch_ppocr_cls/inference.pdiparams.info", "info"},
                            {"ch_ppocr_cls/inference.yml", "PreProcess: []"}}));
  ASSERT_TRUE(UnpackArchive(tgz, dir(), {}).ok());
  auto bundle = ArrangeModelFiles(dir());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->format, ModelFormat::kPaddle);
  EXPECT_EQ(bundle->primary, fs::absolute(dir() + "/model.pdmodel").string());
  EXPECT_EQ(ListTree(dir()), (std::vector<std::string>{"model.pdiparams", "model.pdmodel"}));
  EXPECT_EQ(ReadAll(dir() + "/model.pdmodel"), PaddleProgram());
}

TEST_F(ArrangeModelFilesTest, PaddleJsonProgramAndWeightsOfAnotherStem) {
  Put("inference.json", testing::kPaddleJsonProgram);
  Put("params", "weights");
  Put("config.json", R"({"labels": ["cat", "dog"]})");
  auto bundle = ArrangeModelFiles(dir());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->format, ModelFormat::kPaddle);
  EXPECT_EQ(ListTree(dir()), (std::vector<std::string>{"model.json", "model.pdiparams"}));
  EXPECT_EQ(ReadAll(dir() + "/model.pdiparams"), "weights");
}

TEST_F(ArrangeModelFilesTest, SingleFileModelsByContent) {
  Put("sub/dir/classifier", ReadAll(testing::Fixture("tiny_classifier.onnx")));
  auto onnx = ArrangeModelFiles(dir());
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  EXPECT_EQ(onnx->format, ModelFormat::kOnnx);
  EXPECT_EQ(ListTree(dir()), std::vector<std::string>{"model.onnx"});
  fs::remove_all(dir());
  Put("net.pt", ReadAll(testing::Fixture("tiny_classifier.pt")));
  Put("LICENSE", "MIT");
  auto pt = ArrangeModelFiles(dir());
  ASSERT_TRUE(pt.ok()) << pt.status();
  EXPECT_EQ(pt->format, ModelFormat::kTorchScript);
  EXPECT_EQ(pt->primary, fs::absolute(dir() + "/model.pt").string());
  EXPECT_EQ(ListTree(dir()), std::vector<std::string>{"model.pt"});
}

TEST_F(ArrangeModelFilesTest, IrWeightsMissingOrShort) {
  Put("m/net.xml", IrXml());
  ExpectRefused("the IR weights file (.bin) is missing");
  Put("m/net.bin", "1234");
  ExpectRefused("the IR weights file is shorter than the model needs: 4 of 8 bytes");
  // With exactly one other file, that one is the weights, whatever its name.
  fs::remove(dir() + "/m/net.bin");
  Put("weights", "12345678");
  auto bundle = ArrangeModelFiles(dir());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(ListTree(dir()), (std::vector<std::string>{"model.bin", "model.xml"}));
}

TEST_F(ArrangeModelFilesTest, RefusesBadBundles) {
  Put("README.md", "no model here");
  ExpectRefused("no model file found");
  Put("inference.pdiparams", "weights");
  ExpectRefused("'inference.pdiparams' has no PaddlePaddle program");
  Put("inference.pdmodel", ReadAll(testing::Fixture("random.bin")));
  ExpectRefused("'inference.pdmodel' is not a PaddlePaddle program");
  fs::remove_all(dir());
  Put("model.pdmodel", PaddleProgram());
  ExpectRefused("the PaddlePaddle weights file (.pdiparams) is missing");
  fs::remove_all(dir());
  Put("a.onnx", ReadAll(testing::Fixture("tiny_classifier.onnx")));
  Put("b/c.onnx", ReadAll(testing::Fixture("tiny_classifier.onnx")));
  ExpectRefused("more than one model");
  fs::remove(dir() + "/b/c.onnx");
  Put("b/notes.bin", "?");
  ExpectRefused("unexpected file 'b/notes.bin'");
  Put("b/notes.bin.xml", "<html/>");
  ExpectRefused("'b/notes.bin.xml' is not an OpenVINO IR model");
  fs::remove_all(dir());
  Put("model.pth", "not torchscript");
  ExpectRefused("'model.pth' is not a TorchScript model");
  fs::remove_all(dir());
  Put("model.onnx", ReadAll(testing::Fixture("tiny_classifier.onnx")));
  fs::create_symlink("/etc/passwd", dir() + "/link");
  ExpectRefused("'link' is a symbolic link");
}

TEST(CheckIrWeightsTest, ReadsConstOffsetsOnly) {
  testing::TempDir tmp;
  const std::string xml = tmp.File("m.xml"), bin = tmp.File("m.bin");
  // Const layers at 0+8 and 100+28; the Parameter's <data> and the commented one do not count.
  std::string ir = IrXml();
  ir.insert(ir.find("  </layers>"),
            "    <!-- <layer type=\"Const\"><data offset=\"9000\" size=\"1\"/></layer> -->\n"
            "    <layer id=\"2\" name=\"k\" type='Const'>\n"
            "      <data offset='100' size='28' element_type=\"u8\"/>\n"
            "    </layer>\n");
  WriteAll(xml, ir);
  WriteAll(bin, std::string(127, 'w'));
  EXPECT_EQ(CheckIrWeights(xml, bin).message(),
            "the IR weights file is shorter than the model needs: 127 of 128 bytes");
  WriteAll(bin, std::string(128, 'w'));
  EXPECT_TRUE(CheckIrWeights(xml, bin).ok());
  EXPECT_EQ(CheckIrWeights(xml, tmp.File("none.bin")).code(), absl::StatusCode::kInvalidArgument);
  WriteAll(xml, IrXml(0, 8).replace(IrXml().find("size=\"8\""), 8, "size=\"x\""));
  EXPECT_EQ(CheckIrWeights(xml, bin).code(), absl::StatusCode::kInvalidArgument);
  WriteAll(xml, IrXml(1, -1).replace(IrXml(1, -1).find("-1"), 2, "18446744073709551615"));
  EXPECT_EQ(CheckIrWeights(xml, bin).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cinfer
