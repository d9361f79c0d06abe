#include "engines/plugin_options.h"

#include "common/strings.h"

namespace cinfer {

absl::StatusOr<PluginOptions> PluginOptions::Parse(std::string_view engine,
                                                   const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        StrCat("the ", engine, " engine's options are not a JSON object"));
  }
  return PluginOptions(std::string(engine), std::move(j));
}

absl::Status PluginOptions::WrongType(std::string_view key, std::string_view want) const {
  return absl::InvalidArgumentError(
      StrCat("option '", key, "' of the ", engine_, " engine must be ", want));
}

absl::Status PluginOptions::Read(std::string_view key, int* out) const {
  auto it = j_.find(key);
  if (it == j_.end()) return absl::OkStatus();
  if (!it->is_number_integer()) return WrongType(key, "an integer");
  const auto v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) return WrongType(key, "a 32-bit integer");
  *out = static_cast<int>(v);
  return absl::OkStatus();
}

absl::Status PluginOptions::Read(std::string_view key, std::string* out) const {
  auto it = j_.find(key);
  if (it == j_.end()) return absl::OkStatus();
  if (!it->is_string()) return WrongType(key, "a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status PluginOptions::Read(std::string_view key, std::vector<std::string>* out) const {
  auto it = j_.find(key);
  if (it == j_.end()) return absl::OkStatus();
  if (!it->is_array()) return WrongType(key, "a list of strings");
  std::vector<std::string> v;
  for (const auto& e : *it) {
    if (!e.is_string()) return WrongType(key, "a list of strings");
    v.push_back(e.get<std::string>());
  }
  *out = std::move(v);
  return absl::OkStatus();
}

}  // namespace cinfer
