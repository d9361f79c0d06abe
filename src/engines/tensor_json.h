// Tensors as JSON, in the KServe V2 style: {"name", "datatype", "shape",
// "data"} with `data` a flat (or nested, flattened row-major) list of numbers
// (booleans for BOOL). Used by the model test endpoint and the raw-tensor
// form of the inference API.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engines/tensor.h"
#include "nlohmann/json.hpp"

namespace cinfer {

// Parses `inputs` (a JSON array) against the model's declared inputs.
// VALIDATION_FAILED (422) naming the input for an unknown or missing name, a
// datatype other than the declared one, a shape that does not fit, a wrong
// element count or a value that does not fit the datatype.
absl::StatusOr<std::vector<Tensor>> TensorsFromJson(const nlohmann::json& inputs,
                                                    const std::vector<TensorSpec>& declared);

// {"name", "datatype", "shape", "data"}; FP16 is widened to numbers, NaN and
// infinities become null.
nlohmann::json TensorToJson(const Tensor& tensor);

// IEEE 754 half precision conversions (round to nearest even).
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);

}  // namespace cinfer
