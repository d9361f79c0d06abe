// Reading an engine plugin's options (the JSON text EnginePluginApi::create
// receives) without exceptions: a missing key keeps the default, a key of the
// wrong type is an InvalidArgument naming it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cinfer {

class PluginOptions {
 public:
  // InvalidArgument unless `text` is a JSON object.
  static absl::StatusOr<PluginOptions> Parse(std::string_view engine, const std::string& text);

  absl::Status Read(std::string_view key, int* out) const;
  absl::Status Read(std::string_view key, std::string* out) const;
  absl::Status Read(std::string_view key, std::vector<std::string>* out) const;

 private:
  PluginOptions(std::string engine, nlohmann::json j)
      : engine_(std::move(engine)), j_(std::move(j)) {}
  absl::Status WrongType(std::string_view key, std::string_view want) const;

  std::string engine_;
  nlohmann::json j_;
};

}  // namespace cinfer
