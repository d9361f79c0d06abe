#include "engines/model_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "common/file_util.h"
#include "engines/engine_test_util.h"

namespace cinfer {
namespace {

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

// A zip whose end records are all that is there: the zip64 locator points at `z64_offset`.
std::string Zip64(uint64_t z64_offset, std::string before = "") {
  std::string s = std::string("PK\x03\x04", 4) + std::string(26, '\0') + before;
  s += Le(0x07064b50, 4) + Le(0, 4) + Le(z64_offset, 8) + Le(1, 4);  // zip64 EOCD locator
  s += Le(0x06054b50, 4) + Le(0, 4) + Le(0xffff, 2) + Le(0xffff, 2) + Le(0xffffffff, 4) +
       Le(0xffffffff, 4) + Le(0, 2);
  return s;
}

// Found by fuzzing (tests/fuzz/corpus/model_format/crash-*): offsets near 2^64 wrapped the
// bounds checks around and were read.
TEST(ModelFormatTest, Zip64OffsetsPastTheEndAreNotRead) {
  EXPECT_FALSE(LooksLikeTorchScript(Zip64(UINT64_MAX - 8)));
  EXPECT_FALSE(LooksLikeTorchScript(Zip64(UINT64_MAX - 60)));
  // A valid zip64 end record whose central directory offset is near 2^64.
  std::string record = Le(0x06064b50, 4) + Le(44, 8) + Le(45, 2) + Le(45, 2) + Le(0, 8) + Le(1, 8) +
                       Le(1, 8) + Le(0, 8) + Le(UINT64_MAX - 20, 8);
  EXPECT_FALSE(LooksLikeTorchScript(Zip64(30, record)));
  EXPECT_EQ(SniffModelFormat(Zip64(30, record)), ModelFormat::kUnknown);
}

std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
std::string VarintField(int number, uint64_t v) { return Varint(number << 3) + Varint(v); }
std::string BytesField(int number, const std::string& payload) {
  return Varint((number << 3) | 2) + Varint(payload.size()) + payload;
}
std::string Block(uint64_t idx, uint64_t parent) {
  const std::string var = BytesField(1, "x") + BytesField(2, VarintField(1, 7));
  return VarintField(1, idx) + VarintField(2, parent) + BytesField(3, var) +
         BytesField(4, BytesField(3, "feed"));
}
const uint64_t kNoParent = static_cast<uint64_t>(int64_t{-1});  // 10-byte varint

constexpr char kIr[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- converted by a test -->
<net name="model" version="11">
  <layers/>
</net>
)";

TEST(ModelFormatTest, OpenVinoIrByItsRootElement) {
  EXPECT_TRUE(LooksLikeOpenVinoIr(kIr));
  EXPECT_EQ(SniffModelFormat(kIr), ModelFormat::kOpenVinoIr);
  EXPECT_TRUE(LooksLikeOpenVinoIr("\xEF\xBB\xBF<net version='10' name=\"a b\">"));
  EXPECT_TRUE(
      LooksLikeOpenVinoIr("<?xml version=\"1.0\"?><?pi x?>\n\n<net name=\"\" version=\"7\">"));
  // Only the first kilobytes are needed: the rest of the document is not read.
  EXPECT_TRUE(LooksLikeOpenVinoIr(std::string_view(kIr, 100)));
  // "<net" in a comment, a prologue, or deeper than the root does not count.
  EXPECT_FALSE(LooksLikeOpenVinoIr("<!-- <net name=\"a\" version=\"11\"> --><graph/>"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<!-- <net name=\"a\" version=\"11\"> "));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<root><net name=\"a\" version=\"11\"></net></root>"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<!DOCTYPE net><net name=\"a\" version=\"11\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("text <net name=\"a\" version=\"11\">"));
  // Attributes: both needed, version all digits, well formed.
  EXPECT_FALSE(LooksLikeOpenVinoIr("<net name=\"a\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<net version=\"11\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<net name=\"a\" version=\"v11\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<net name=a version=\"11\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<net name=\"a\"version=\"11\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<net name=\"a\" name=\"b\" version=\"11\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<network name=\"a\" version=\"11\">"));
  EXPECT_FALSE(LooksLikeOpenVinoIr("<net name=\"a\" version=\"11\""));
  EXPECT_FALSE(LooksLikeOpenVinoIr(""));
}

TEST(ModelFormatTest, PaddleProtobufProgram) {
  const std::string program = BytesField(1, Block(0, kNoParent)) + BytesField(4, VarintField(1, 0));
  EXPECT_TRUE(LooksLikePaddleProgram(program));
  EXPECT_EQ(SniffModelFormat(program), ModelFormat::kPaddle);
  EXPECT_TRUE(LooksLikePaddleProgram(BytesField(1, Block(0, kNoParent)) +
                                     BytesField(1, Block(1, 0) + VarintField(5, kNoParent)) +
                                     BytesField(5, BytesField(1, "pair"))));
  EXPECT_FALSE(LooksLikePaddleProgram(BytesField(1, Block(3, kNoParent))));  // first idx not 0
  EXPECT_FALSE(LooksLikePaddleProgram(BytesField(4, VarintField(1, 0))));    // no block
  EXPECT_FALSE(
      LooksLikePaddleProgram(BytesField(4, VarintField(1, 0)) + BytesField(1, Block(0, 0))));
  EXPECT_FALSE(LooksLikePaddleProgram(program + BytesField(2, "reserved")));
  EXPECT_FALSE(LooksLikePaddleProgram(program + VarintField(5, 1)));  // wrong wire type
  EXPECT_FALSE(LooksLikePaddleProgram(program.substr(0, program.size() - 1)));
  // Block fields: idx then parent_idx first, then only vars, ops, forward_block_idx.
  EXPECT_FALSE(LooksLikePaddleProgram(BytesField(1, VarintField(2, 0) + VarintField(1, 0))));
  EXPECT_FALSE(LooksLikePaddleProgram(BytesField(1, Block(0, 0) + BytesField(9, "x"))));
  EXPECT_FALSE(LooksLikePaddleProgram(BytesField(1, Block(0, 0) + BytesField(3, "\xff"))));
  EXPECT_FALSE(LooksLikePaddleProgram(""));
}

TEST(ModelFormatTest, PaddleJsonProgram) {
  const std::string pir =
      R"({"base_code":{"magic":"pir","trainable":true,"version":1},"program":{"regions":[]}})";
  EXPECT_TRUE(LooksLikePaddleProgram(pir));
  EXPECT_TRUE(LooksLikePaddleJsonProgram(pir));
  EXPECT_EQ(SniffModelFormat(pir), ModelFormat::kPaddle);
  EXPECT_TRUE(LooksLikePaddleProgram(
      "\xEF\xBB\xBF {\n \"program\" : {\"regions\": [{\"s\": \"}]\\\"\"}]},\n"
      " \"base_code\": {\"version\": 2, \"magic\": \"pir\"}\n}"));
  EXPECT_FALSE(LooksLikePaddleProgram(R"({"base_code":{"magic":"onnx"},"program":{}})"));
  EXPECT_FALSE(LooksLikePaddleProgram(R"({"base_code":{"magic":"pir"}})"));
  EXPECT_FALSE(LooksLikePaddleProgram(R"({"program":{"regions":[]}})"));
  EXPECT_FALSE(LooksLikePaddleProgram(R"({"base_code":{"magic":"pir"},"program":[]})"));
  EXPECT_FALSE(LooksLikePaddleProgram(R"({"x":[}],"base_code":{"magic":"pir"},"program":{}})"));
  EXPECT_FALSE(LooksLikePaddleProgram(R"([{"base_code":{"magic":"pir"},"program":{}}])"));
  EXPECT_FALSE(LooksLikePaddleProgram(R"({"labels":["cat"]})"));
}

TEST(ModelFormatTest, FixturesAreNeitherIrNorPaddle) {
  const std::string dir = std::string(CINFER_SOURCE_DIR) + "/tests/fixtures/models";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;  // paddle_cnn/: below
    const std::string content = ReadFileToString(entry.path().string()).value_or("");
    const ModelFormat f = SniffModelFormat(content);
    EXPECT_NE(f, ModelFormat::kPaddle) << entry.path();
    EXPECT_NE(f, ModelFormat::kOpenVinoIr) << entry.path();
    if (entry.path().extension() == ".pt") {
      EXPECT_EQ(f, ModelFormat::kTorchScript) << entry.path();
    }
    ++seen;
  }
  EXPECT_GT(seen, 10);
  EXPECT_EQ(SniffModelFormat(ReadFileToString(testing::Fixture("random.bin")).value_or("")),
            ModelFormat::kUnknown);
  // The one Paddle fixture (tools/make_paddle_fixture.py) and its weights.
  EXPECT_EQ(SniffModelFormat(
                ReadFileToString(testing::Fixture("paddle_cnn/inference.pdmodel")).value_or("")),
            ModelFormat::kPaddle);
  EXPECT_EQ(SniffModelFormat(
                ReadFileToString(testing::Fixture("paddle_cnn/inference.pdiparams")).value_or("")),
            ModelFormat::kUnknown);
  EXPECT_EQ(
      SniffModelFormat(ReadFileToString(testing::Fixture("tiny_classifier.onnx")).value_or("")),
      ModelFormat::kOnnx);
  EXPECT_EQ(ModelFormatName(ModelFormat::kOpenVinoIr), "openvino_ir");
  EXPECT_EQ(ModelFormatName(ModelFormat::kPaddle), "paddle");
}

TEST(ModelFormatTest, ScansXmlStartTags) {
  const std::string text = "x<layer id=\"1\" type='Const' >rest";
  const auto tag = ScanXmlStartTag(text, 1);
  ASSERT_TRUE(tag.has_value());
  EXPECT_EQ(tag->name, "layer");
  EXPECT_EQ(tag->Attribute("type"), "Const");
  EXPECT_EQ(tag->Attribute("id"), "1");
  EXPECT_FALSE(tag->Attribute("name").has_value());
  EXPECT_FALSE(tag->self_closing);
  EXPECT_EQ(text.substr(tag->end), "rest");
  EXPECT_TRUE(ScanXmlStartTag("<data a=\"1\"/>", 0)->self_closing);
  EXPECT_FALSE(ScanXmlStartTag("<data a=\"<\"/>", 0).has_value());
  EXPECT_FALSE(ScanXmlStartTag("<data a=\"1\"", 0).has_value());
  EXPECT_FALSE(ScanXmlStartTag("< data>", 0).has_value());
  EXPECT_FALSE(ScanXmlStartTag("<data>", 1).has_value());
}

}  // namespace
}  // namespace cinfer
