#include "models/io_compat.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cinfer {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Json = nlohmann::json;

Json Io(Json inputs, Json outputs) { return {{"inputs", inputs}, {"outputs", outputs}}; }
Json T(const char* name, const char* dtype, Json shape) {
  return {{"name", name}, {"datatype", dtype}, {"shape", shape}};
}

const Json kServed = Io({T("x", "FP32", {-1, 3, 48, 192})}, {T("probs", "FP32", {-1, 2})});

TEST(IoCompatTest, SameSchemaIsCompatible) {
  EXPECT_THAT(IoDifferences(kServed, kServed), IsEmpty());
}

TEST(IoCompatTest, RenamedInputIsMissingAndNew) {
  EXPECT_THAT(
      IoDifferences(kServed, Io({T("y", "FP32", {-1, 3, 48, 192})}, {T("probs", "FP32", {-1, 2})})),
      ElementsAre("input 'x' is missing", "input 'y' is new"));
}

TEST(IoCompatTest, DatatypeRankAndFixedDimensionsCount) {
  EXPECT_THAT(
      IoDifferences(kServed, Io({T("x", "FP16", {-1, 3, 48, 192})}, {T("probs", "FP32", {-1, 2})})),
      ElementsAre("input 'x' changes datatype FP32 -> FP16"));
  EXPECT_THAT(
      IoDifferences(kServed, Io({T("x", "FP32", {3, 48, 192})}, {T("probs", "FP32", {-1, 2})})),
      ElementsAre("input 'x' changes rank 4 -> 3 ([?, 3, 48, 192] -> [3, 48, 192])"));
  EXPECT_THAT(
      IoDifferences(kServed, Io({T("x", "FP32", {-1, 3, 64, 192})}, {T("probs", "FP32", {-1, 3})})),
      ElementsAre("input 'x' changes shape [?, 3, 48, 192] -> [?, 3, 64, 192]",
                  "output 'probs' changes shape [?, 2] -> [?, 3]"));
}

TEST(IoCompatTest, InputsMayWidenButNotNarrow) {
  // A fixed dimension becoming dynamic still takes what clients send.
  EXPECT_THAT(
      IoDifferences(kServed, Io({T("x", "FP32", {-1, 3, -1, -1})}, {T("probs", "FP32", {-1, 2})})),
      IsEmpty());
  // A dynamic batch becoming fixed refuses other batch sizes.
  EXPECT_THAT(
      IoDifferences(kServed, Io({T("x", "FP32", {1, 3, 48, 192})}, {T("probs", "FP32", {-1, 2})})),
      ElementsAre("input 'x' changes shape [?, 3, 48, 192] -> [1, 3, 48, 192]"));
}

TEST(IoCompatTest, ExtraOutputsAreFineMissingOnesAreNot) {
  EXPECT_THAT(IoDifferences(kServed, Io({T("x", "FP32", {-1, 3, 48, 192})},
                                        {T("probs", "FP32", {-1, 2}), T("extra", "FP32", {1})})),
              IsEmpty());
  EXPECT_THAT(IoDifferences(kServed, Io({T("x", "FP32", {-1, 3, 48, 192})}, Json::array())),
              ElementsAre("output 'probs' is missing"));
}

TEST(IoCompatTest, UnknownShapesCompareByNameAndDatatypeOnly) {
  const Json unknown = Io({T("x", "FP32", nullptr)}, {T("probs", "FP32", nullptr)});
  EXPECT_THAT(IoDifferences(kServed, unknown), IsEmpty());
  EXPECT_THAT(IoDifferences(Json::object(), Json::object()), IsEmpty());
}

}  // namespace
}  // namespace cinfer
