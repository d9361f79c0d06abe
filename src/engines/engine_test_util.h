// Test helpers for engine tests: fixture paths and tensors from the JSON
// fixtures written by tools/make_fixtures.py.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "engines/tensor.h"
#include "nlohmann/json.hpp"

namespace cinfer::testing {

inline std::string Fixture(const std::string& name) {
  return std::string(CINFER_SOURCE_DIR) + "/tests/fixtures/models/" + name;
}
inline std::string SampleModel(const std::string& name) {
  return std::string(CINFER_SOURCE_DIR) + "/models/samples/" + name;
}
inline nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// A tensor of `dtype` from {"name", "shape", "data"} JSON.
inline Tensor TensorFromJson(const nlohmann::json& j, DataType dtype,
                             const std::string& name = "") {
  Tensor t =
      *MakeTensor(name.empty() ? j.value("name", "x") : name, dtype, j["shape"].get<Shape>());
  const auto& data = j["data"];
  for (size_t i = 0; i < data.size(); ++i) {
    switch (dtype) {
      case DataType::kFp32:
        t.As<float>()[i] = data[i].get<float>();
        break;
      case DataType::kInt32:
        t.As<int32_t>()[i] = data[i].get<int32_t>();
        break;
      case DataType::kInt64:
        t.As<int64_t>()[i] = data[i].get<int64_t>();
        break;
      case DataType::kUint8:
        t.As<uint8_t>()[i] = data[i].get<uint8_t>();
        break;
      case DataType::kInt8:
        t.As<int8_t>()[i] = data[i].get<int8_t>();
        break;
      case DataType::kBool:
        t.As<bool>()[i] = data[i].get<bool>();
        break;
      default:
        break;
    }
  }
  return t;
}

// Element i of a tensor as double, for comparisons.
inline double ValueAt(const Tensor& t, size_t i) {
  switch (t.dtype) {
    case DataType::kFp32:
      return t.As<float>()[i];
    case DataType::kInt32:
      return t.As<int32_t>()[i];
    case DataType::kInt64:
      return static_cast<double>(t.As<int64_t>()[i]);
    case DataType::kUint8:
      return t.As<uint8_t>()[i];
    case DataType::kInt8:
      return t.As<int8_t>()[i];
    case DataType::kBool:
      return t.As<bool>()[i] ? 1 : 0;
    default:
      return 0;
  }
}

}  // namespace cinfer::testing
