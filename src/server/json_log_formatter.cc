#include "server/json_log_formatter.h"

#include <string>
#include <string_view>

#include "common/log_fields.h"
#include "common/time_format.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace cinfer {

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  const auto level = spdlog::level::to_string_view(msg.level);
  nlohmann::json line = {
      {"time", FormatIso8601(msg.time)},
      {"level", std::string_view(level.data(), level.size())},
      {"logger", std::string_view(msg.logger_name.data(), msg.logger_name.size())}};
  nlohmann::json fields = nlohmann::json::object();
  if (!payload.empty() && payload.front() == kLogFieldsMarker) {
    fields = nlohmann::json::parse(payload.substr(1), nullptr, /*allow_exceptions=*/false);
  }
  if (fields.is_object() && !fields.empty()) {
    for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  } else {
    line["msg"] = payload;
  }
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  dest.append(text.data(), text.data() + text.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

void UseJsonLogs() {
  spdlog::default_logger()->set_formatter(std::make_unique<JsonLogFormatter>());
}

}  // namespace cinfer
