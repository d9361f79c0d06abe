#include "server/json_log_formatter.h"

#include <gtest/gtest.h>

#include <string>

#include "common/log_fields.h"
#include "nlohmann/json.hpp"
#include "spdlog/details/log_msg.h"

namespace cinfer {
namespace {

nlohmann::json Format(std::string_view payload, spdlog::level::level_enum level) {
  spdlog::details::log_msg msg("cinfer", level, payload);
  msg.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'796'000'000'123));
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  const std::string text(out.data(), out.size());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
  return nlohmann::json::parse(text);
}

TEST(JsonLogFormatterTest, APlainMessageBecomesMsg) {
  const nlohmann::json j = Format("model \"a\" loaded\nin 3 ms", spdlog::level::warn);
  EXPECT_EQ(j["time"], "2026-11-30T00:53:20.123Z");
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["logger"], "cinfer");
  EXPECT_EQ(j["msg"], "model \"a\" loaded\nin 3 ms");
}

TEST(JsonLogFormatterTest, FieldsAreMergedIntoTheLine) {
  const std::string payload =
      std::string(1, kLogFieldsMarker) + R"({"event":"access","status":200,"route":"/x/{id}"})";
  const nlohmann::json j = Format(payload, spdlog::level::info);
  EXPECT_EQ(j["event"], "access");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["route"], "/x/{id}");
  EXPECT_EQ(j["level"], "info");
  EXPECT_FALSE(j.contains("msg"));
}

TEST(JsonLogFormatterTest, InvalidUtf8IsReplacedNotFatal) {
  const nlohmann::json j = Format("bad \xff byte", spdlog::level::err);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "bad \xEF\xBF\xBD byte");
}

}  // namespace
}  // namespace cinfer
