// Fuzzes the JSON tensor input (engines/tensor_json.h): the input is JSON text, either the
// `inputs` list itself or an object holding one, parsed against two fixed sets of declared inputs.
// Checked: accepted tensors have the declared names, types and a data size matching the shape,
// and TensorToJson gives them back in a form TensorsFromJson accepts again.
#include <cstdint>
#include <vector>

#include "engines/tensor_json.h"
#include "fuzz_check.h"

namespace {

using cinfer::DataType;
using cinfer::TensorSpec;

const std::vector<TensorSpec>& ImageModel() {
  static const std::vector<TensorSpec> specs = {{"images", DataType::kFp32, {-1, 3, -1, -1}}};
  return specs;
}

const std::vector<TensorSpec>& MixedModel() {
  static const std::vector<TensorSpec> specs = {
      {"ids", DataType::kInt64, {-1}},   {"mask", DataType::kBool, {-1}},
      {"half", DataType::kFp16, {2, 2}}, {"bytes", DataType::kUint8, {-1, 4}},
      {"small", DataType::kInt8, {-1}},  {"mid", DataType::kInt16, {-1}},
      {"i32", DataType::kInt32, {-1}},   {"f64", DataType::kFp64, {-1}},
  };
  return specs;
}

void Check(const nlohmann::json& inputs, const std::vector<TensorSpec>& specs) {
  auto tensors = cinfer::TensorsFromJson(inputs, specs);
  if (!tensors.ok()) return;
  FUZZ_CHECK(tensors->size() == specs.size());
  nlohmann::json again = nlohmann::json::array();
  for (const cinfer::Tensor& t : *tensors) {
    auto count = cinfer::ElementCount(t.shape);
    FUZZ_CHECK(count.ok());
    FUZZ_CHECK(t.data.size() == *count * cinfer::ElementSize(t.dtype));
    again.push_back(cinfer::TensorToJson(t));
  }
  // Floats that are not finite come back as null, which is not a number: skip those.
  if (again.dump().find("null") != std::string::npos) return;
  FUZZ_CHECK(cinfer::TensorsFromJson(again, specs).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  const nlohmann::json& inputs =
      json.is_object() && json.contains("inputs") ? json["inputs"] : json;
  Check(inputs, ImageModel());
  Check(inputs, MixedModel());
  return 0;
}
