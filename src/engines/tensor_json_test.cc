#include "engines/tensor_json.h"

#include <cmath>

#include "gtest/gtest.h"

namespace cinfer {
namespace {

const std::vector<TensorSpec> kDeclared = {{"x", DataType::kFp32, {-1, 2}},
                                           {"mask", DataType::kBool, {3}}};

nlohmann::json Inputs(nlohmann::json x_data, nlohmann::json x_shape = {1, 2}) {
  return nlohmann::json::array(
      {{{"name", "x"}, {"datatype", "FP32"}, {"shape", x_shape}, {"data", x_data}},
       {{"name", "mask"}, {"shape", {3}}, {"data", {true, false, 1}}}});
}

TEST(TensorJsonTest, ParsesFlatAndNestedData) {
  auto flat = TensorsFromJson(Inputs({1.5, -2}), kDeclared);
  ASSERT_TRUE(flat.ok()) << flat.status();
  EXPECT_EQ((*flat)[0].shape, (Shape{1, 2}));
  EXPECT_FLOAT_EQ((*flat)[0].As<float>()[1], -2.0f);
  EXPECT_EQ(static_cast<uint8_t>((*flat)[1].data[2]), 1);
  auto nested = TensorsFromJson(Inputs({{1.5, -2}}), kDeclared);
  ASSERT_TRUE(nested.ok()) << nested.status();
  EXPECT_EQ((*nested)[0].data, (*flat)[0].data);
}

TEST(TensorJsonTest, ErrorsNameTheInput) {
  struct Case {
    nlohmann::json inputs;
    std::string needle;
  };
  std::vector<Case> cases = {
      {Inputs({1, 2, 3}), "'x' has 3 values"},
      {Inputs({1, 2}, {1, 3}), "'x' has 2 values"},
      {Inputs({1, "a"}), "'x': value 1"},
      {nlohmann::json::array({{{"name", "y"}, {"shape", {1}}, {"data", {1}}}}), "no input 'y'"},
      {nlohmann::json::array({{{"name", "x"}, {"shape", {1, 2}}, {"data", {1, 2}}}}),
       "missing input 'mask'"},
      {nlohmann::json::array(
           {{{"name", "x"}, {"datatype", "INT32"}, {"shape", {1, 2}}, {"data", {1, 2}}}}),
       "'x' must be FP32"},
      {Inputs({1, 2, 3}, {1, 3}), "'x' has shape"},
      {nlohmann::json::object(), "list of tensors"},
  };
  for (const auto& c : cases) {
    auto r = TensorsFromJson(c.inputs, kDeclared);
    ASSERT_FALSE(r.ok()) << c.inputs.dump();
    EXPECT_NE(std::string(r.status().message()).find(c.needle), std::string::npos)
        << r.status() << " lacks " << c.needle;
  }
}

TEST(TensorJsonTest, IntegerRangesAreChecked) {
  std::vector<TensorSpec> u8 = {{"b", DataType::kUint8, {2}}};
  auto ok = TensorsFromJson(
      nlohmann::json::array({{{"name", "b"}, {"shape", {2}}, {"data", {0, 255}}}}), u8);
  ASSERT_TRUE(ok.ok()) << ok.status();
  for (const auto& bad : {nlohmann::json{0, 256}, nlohmann::json{-1, 0}, nlohmann::json{1.5, 0}}) {
    auto r = TensorsFromJson(
        nlohmann::json::array({{{"name", "b"}, {"shape", {2}}, {"data", bad}}}), u8);
    EXPECT_FALSE(r.ok()) << bad.dump();
  }
}

// Found by fuzzing: 2^63 as a float passed the range check (INT64_MAX rounds up to it as a
// double) and its conversion to int64 was undefined behaviour.
TEST(TensorJsonTest, WholeFloatsAtTheIntegerLimitAreRefused) {
  std::vector<TensorSpec> i64 = {{"i", DataType::kInt64, {1}}};
  std::vector<TensorSpec> i32 = {{"i", DataType::kInt32, {1}}};
  auto one = [](double v) {
    return nlohmann::json::array({{{"name", "i"}, {"shape", {1}}, {"data", {v}}}});
  };
  EXPECT_FALSE(TensorsFromJson(one(9223372036854775808.0), i64).ok());
  EXPECT_TRUE(TensorsFromJson(one(-9223372036854775808.0), i64).ok());
  EXPECT_TRUE(TensorsFromJson(one(9223372036854774784.0), i64).ok());  // the largest below 2^63
  EXPECT_FALSE(TensorsFromJson(one(2147483648.0), i32).ok());
  EXPECT_TRUE(TensorsFromJson(one(2147483647.0), i32).ok());
}

TEST(TensorJsonTest, OutputRoundTripAndNonFinite) {
  Tensor t = *MakeTensor("y", DataType::kFp32, {3});
  t.As<float>()[0] = 0.25f;
  t.As<float>()[1] = std::nanf("");
  t.As<float>()[2] = -INFINITY;
  nlohmann::json j = TensorToJson(t);
  EXPECT_EQ(j["datatype"], "FP32");
  EXPECT_EQ(j["shape"], nlohmann::json({3}));
  EXPECT_EQ(j["data"][0], 0.25);
  EXPECT_TRUE(j["data"][1].is_null());
  EXPECT_TRUE(j["data"][2].is_null());
}

TEST(TensorJsonTest, HalfConversion) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);                          // overflow to +Inf
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);         // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);         // tie rounds to even (0)
  EXPECT_EQ(FloatToHalf(std::ldexp(3.0f, -25)), 0x0002);         // tie rounds to even (2)
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  // Every finite half survives half → float → half.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t bits = static_cast<uint16_t>(h);
    if ((bits & 0x7c00) == 0x7c00) continue;  // Inf / NaN
    ASSERT_EQ(FloatToHalf(HalfToFloat(bits)), bits) << std::hex << h;
  }
}

}  // namespace
}  // namespace cinfer
