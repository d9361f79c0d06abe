// Fuzzes model config parsing (models/model_config.h): the input is the JSON text an admin
// uploads with a model. Checked: a parsed config survives the ModelConfigToJson round trip
// unchanged, and ApplyIoDefaults against two fixed IO schemas either fails cleanly or fills
// the tensor names.
#include <cstdint>

#include "fuzz_check.h"
#include "models/model_config.h"

namespace {

const nlohmann::json& DetectorSchema() {
  static const nlohmann::json schema = nlohmann::json::parse(R"({
    "inputs": [{"name": "images", "datatype": "FP32", "shape": [1, 3, 640, 640]}],
    "outputs": [{"name": "output0", "datatype": "FP32", "shape": [1, 84, 8400]}]})");
  return schema;
}

const nlohmann::json& DynamicSchema() {
  static const nlohmann::json schema = nlohmann::json::parse(R"({
    "inputs": [{"name": "x", "datatype": "UINT8", "shape": [-1, -1, -1, 3]},
               {"name": "scale", "datatype": "FP16", "shape": [1]}],
    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1, -1, -1]}]})");
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = cinfer::ParseModelConfigText(cinfer::fuzz::AsText(data, size));
  if (!config.ok()) return 0;
  auto again = cinfer::ParseModelConfig(cinfer::ModelConfigToJson(*config));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *config);
  for (const nlohmann::json* schema : {&DetectorSchema(), &DynamicSchema()}) {
    cinfer::ModelConfig filled = *config;
    if (!cinfer::ApplyIoDefaults(*schema, &filled).ok()) continue;
    FUZZ_CHECK(!filled.input.tensor.empty());
  }
  return 0;
}
