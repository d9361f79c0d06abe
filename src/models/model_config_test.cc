#include "models/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& st) { return std::string(ToStd(st.message())); }

TEST(ModelConfigTest, DefaultsWhenEmpty) {
  auto c = ParseModelConfigText("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->instances, 1);
  EXPECT_EQ(c->max_batch_size, 0);
  EXPECT_TRUE(c->input_shapes.empty());
}

TEST(ModelConfigTest, ParsesKnownFields) {
  auto c = ParseModelConfigText(R"({"input_shapes": {"x": [1, 3, 48, 192]}, "max_batch_size": 8,
      "instances": 2, "warmup_iterations": 3, "engine_options": {"threads": 2},
      "dynamic_batching": {"max_queue_delay_us": 500}, "input": {"size": [192, 48]}, "output": {}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->input_shapes.at("x"), (Shape{1, 3, 48, 192}));
  EXPECT_EQ(c->max_batch_size, 8);
  EXPECT_EQ(c->instances, 2);
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(c->max_queue_delay_us, 500);
  EXPECT_EQ(c->input["size"][0], 192);
  auto round_trip = ParseModelConfig(ModelConfigToJson(*c));
  ASSERT_TRUE(round_trip.ok()) << round_trip.status();
  EXPECT_EQ(round_trip->input_shapes, c->input_shapes);
}

TEST(ModelConfigTest, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"bogus": 1})", "bogus"},
      {R"({"max_batch_size": "x"})", "max_batch_size"},
      {R"({"instances": 0})", "instances"},
      {R"({"input_shapes": {"x": [1, -3]}})", "input_shapes.x"},
      {R"({"input_shapes": []})", "input_shapes"},
      {R"({"engine_options": {"threads": 1, "gpu": true}})", "engine_options.gpu"},
      {R"({"dynamic_batching": {"max_queue_delay_us": -1}})",
       "dynamic_batching.max_queue_delay_us"},
      {R"({"input": 3})", "input"},
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

}  // namespace
}  // namespace cinfer
