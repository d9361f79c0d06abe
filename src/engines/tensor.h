// Tensors exchanged with engines: element types (KServe V2 names), shapes
// with dynamic dimensions marked -1, and an owning byte buffer. Plain data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cinfer {

enum class DataType { kBool, kUint8, kInt8, kInt16, kInt32, kInt64, kFp16, kFp32, kFp64 };

std::string_view DataTypeName(DataType t);  // "FP32", "UINT8", ...
std::optional<DataType> DataTypeFromName(std::string_view name);
size_t ElementSize(DataType t);

using Shape = std::vector<int64_t>;  // -1 marks a dynamic dimension

// Number of elements of a fully known shape; error when a dim is < 0 or the
// product overflows `max_elements`.
absl::StatusOr<size_t> ElementCount(const Shape& shape, size_t max_elements = size_t{1} << 34);
std::string ShapeToString(const Shape& shape);

struct TensorSpec {
  std::string name;
  DataType dtype = DataType::kFp32;
  Shape shape;
};

struct Tensor {
  std::string name;
  DataType dtype = DataType::kFp32;
  Shape shape;
  std::vector<std::byte> data;  // row-major, little-endian

  template <class T>
  const T* As() const {
    return reinterpret_cast<const T*>(data.data());
  }
  template <class T>
  T* As() {
    return reinterpret_cast<T*>(data.data());
  }
};

// A zero-filled tensor of `spec.dtype` with the given concrete shape.
absl::StatusOr<Tensor> MakeTensor(const std::string& name, DataType dtype, const Shape& shape);

}  // namespace cinfer
