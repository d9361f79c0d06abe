#include "engines/tensor.h"

#include "common/strings.h"

namespace cinfer {

std::string_view DataTypeName(DataType t) {
  switch (t) {
    case DataType::kBool:
      return "BOOL";
    case DataType::kUint8:
      return "UINT8";
    case DataType::kInt8:
      return "INT8";
    case DataType::kInt16:
      return "INT16";
    case DataType::kInt32:
      return "INT32";
    case DataType::kInt64:
      return "INT64";
    case DataType::kFp16:
      return "FP16";
    case DataType::kFp32:
      return "FP32";
    case DataType::kFp64:
      return "FP64";
  }
  return "UNKNOWN";
}

std::optional<DataType> DataTypeFromName(std::string_view name) {
  for (DataType t :
       {DataType::kBool, DataType::kUint8, DataType::kInt8, DataType::kInt16, DataType::kInt32,
        DataType::kInt64, DataType::kFp16, DataType::kFp32, DataType::kFp64}) {
    if (DataTypeName(t) == name) return t;
  }
  return std::nullopt;
}

size_t ElementSize(DataType t) {
  switch (t) {
    case DataType::kBool:
    case DataType::kUint8:
    case DataType::kInt8:
      return 1;
    case DataType::kInt16:
    case DataType::kFp16:
      return 2;
    case DataType::kInt32:
    case DataType::kFp32:
      return 4;
    case DataType::kInt64:
    case DataType::kFp64:
      return 8;
  }
  return 1;
}

absl::StatusOr<size_t> ElementCount(const Shape& shape, size_t max_elements) {
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return absl::InvalidArgumentError(
          StrCat("shape ", ShapeToString(shape), " is not fully known"));
    if (d != 0 && n > max_elements / static_cast<size_t>(d)) {
      return absl::InvalidArgumentError(StrCat("shape ", ShapeToString(shape), " is too large"));
    }
    n *= static_cast<size_t>(d);
  }
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += StrCat(i ? "," : "", shape[i]);
  return out + "]";
}

absl::StatusOr<Tensor> MakeTensor(const std::string& name, DataType dtype, const Shape& shape) {
  auto count = ElementCount(shape);
  if (!count.ok()) return count.status();
  Tensor t{name, dtype, shape, {}};
  t.data.resize(*count * ElementSize(dtype));
  return t;
}

}  // namespace cinfer
