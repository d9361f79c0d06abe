#include "engines/tensor.h"

#include "common/strings.h"

namespace cinfer {

namespace {

struct TypeInfo {
  DataType type;
  std::string_view name;
  size_t size;
};
constexpr TypeInfo kTypes[] = {
    {DataType::kBool, "BOOL", 1},   {DataType::kUint8, "UINT8", 1}, {DataType::kInt8, "INT8", 1},
    {DataType::kInt16, "INT16", 2}, {DataType::kInt32, "INT32", 4}, {DataType::kInt64, "INT64", 8},
    {DataType::kFp16, "FP16", 2},   {DataType::kFp32, "FP32", 4},   {DataType::kFp64, "FP64", 8},
};

const TypeInfo& Info(DataType t) {
  for (const auto& info : kTypes) {
    if (info.type == t) return info;
  }
  return kTypes[0];
}

}  // namespace

std::string_view DataTypeName(DataType t) { return Info(t).name; }

std::optional<DataType> DataTypeFromName(std::string_view name) {
  for (const auto& info : kTypes) {
    if (info.name == name) return info.type;
  }
  return std::nullopt;
}

size_t ElementSize(DataType t) { return Info(t).size; }

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
