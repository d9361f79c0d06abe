#include "models/model_config.h"

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer {
namespace {

absl::Status Bad(std::string_view field, std::string_view why) {
  return ValidationError(StrCat("config field '", field, "' ", why));
}

absl::Status ReadInt(const nlohmann::json& obj, const char* key, std::string_view path, int64_t min,
                     int64_t max, int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  if (!it->is_number_integer()) return Bad(path, "must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < min || v > max) return Bad(path, StrCat("must be between ", min, " and ", max));
  *out = v;
  return absl::OkStatus();
}

absl::Status OnlyKnown(const nlohmann::json& obj, std::string_view prefix,
                       std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return ValidationError(StrCat("unknown config field '", prefix, key, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> ParseModelConfig(const nlohmann::json& j) {
  if (!j.is_object()) return ValidationError("config must be a JSON object");
  RETURN_IF_ERROR(OnlyKnown(j, "",
                            {"input_shapes", "max_batch_size", "instances", "warmup_iterations",
                             "engine_options", "dynamic_batching", "input", "output"}));
  ModelConfig c;
  if (auto it = j.find("input_shapes"); it != j.end()) {
    if (!it->is_object()) return Bad("input_shapes", "must map input names to shapes");
    for (const auto& [name, dims] : it->items()) {
      const std::string path = StrCat("input_shapes.", name);
      if (!dims.is_array() || dims.empty())
        return Bad(path, "must be a non-empty list of dimensions");
      Shape shape;
      for (const auto& d : dims) {
        if (!d.is_number_integer() || d.get<int64_t>() <= 0 ||
            d.get<int64_t>() > (int64_t{1} << 31)) {
          return Bad(path, "dimensions must be positive integers");
        }
        shape.push_back(d.get<int64_t>());
      }
      c.input_shapes[name] = std::move(shape);
    }
  }
  RETURN_IF_ERROR(ReadInt(j, "max_batch_size", "max_batch_size", 0, 4096, &c.max_batch_size));
  RETURN_IF_ERROR(ReadInt(j, "instances", "instances", 1, 64, &c.instances));
  RETURN_IF_ERROR(
      ReadInt(j, "warmup_iterations", "warmup_iterations", 0, 1000, &c.warmup_iterations));
  if (auto it = j.find("engine_options"); it != j.end()) {
    if (!it->is_object()) return Bad("engine_options", "must be an object");
    RETURN_IF_ERROR(OnlyKnown(*it, "engine_options.", {"threads"}));
    RETURN_IF_ERROR(ReadInt(*it, "threads", "engine_options.threads", 0, 256, &c.threads));
  }
  if (auto it = j.find("dynamic_batching"); it != j.end()) {
    if (!it->is_object()) return Bad("dynamic_batching", "must be an object");
    RETURN_IF_ERROR(OnlyKnown(*it, "dynamic_batching.", {"max_queue_delay_us"}));
    RETURN_IF_ERROR(ReadInt(*it, "max_queue_delay_us", "dynamic_batching.max_queue_delay_us", 0,
                            10'000'000, &c.max_queue_delay_us));
  }
  for (const char* key : {"input", "output"}) {
    if (auto it = j.find(key); it != j.end()) {
      if (!it->is_object()) return Bad(key, "must be an object");
      (key == std::string_view("input") ? c.input : c.output) = *it;
    }
  }
  return c;
}

absl::StatusOr<ModelConfig> ParseModelConfigText(std::string_view text) {
  if (Trim(text).empty()) return ModelConfig{};
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return ValidationError("config is not valid JSON");
  return ParseModelConfig(json);
}

nlohmann::json ModelConfigToJson(const ModelConfig& c) {
  nlohmann::json shapes = nlohmann::json::object();
  for (const auto& [name, shape] : c.input_shapes) shapes[name] = shape;
  return {{"input_shapes", shapes},
          {"max_batch_size", c.max_batch_size},
          {"instances", c.instances},
          {"warmup_iterations", c.warmup_iterations},
          {"engine_options", {{"threads", c.threads}}},
          {"dynamic_batching", {{"max_queue_delay_us", c.max_queue_delay_us}}},
          {"input", c.input},
          {"output", c.output}};
}

}  // namespace cinfer
