#include "engines/tensor_json.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/engine.h"

namespace cinfer {
namespace {

constexpr size_t kMaxJsonElements = size_t{1} << 26;  // 64 Mi values; the body limit bites first

absl::Status Flatten(const nlohmann::json& data, std::vector<const nlohmann::json*>& out,
                     int depth) {
  if (depth > 32) return ValidationError("data is nested too deeply");
  for (const auto& v : data) {
    if (v.is_array()) {
      RETURN_IF_ERROR(Flatten(v, out, depth + 1));
    } else {
      if (out.size() >= kMaxJsonElements) return ValidationError("data has too many values");
      out.push_back(&v);
    }
  }
  return absl::OkStatus();
}

template <class T>
bool StoreInt(const nlohmann::json& v, T* out) {
  if (v.is_boolean()) {
    *out = v.get<bool>() ? 1 : 0;
    return true;
  }
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
      *out = static_cast<T>(u);
      return true;
    }
    const int64_t i = v.get<int64_t>();
    if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        (i > 0 && static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
      return false;
    *out = static_cast<T>(i);
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // T's max rounds up to 2^digits as a double (INT64_MAX does): compare with that, exactly.
    if (std::floor(d) != d || d < static_cast<double>(std::numeric_limits<T>::min()) ||
        d >= std::ldexp(1.0, std::numeric_limits<T>::digits))
      return false;
    *out = static_cast<T>(d);
    return true;
  }
  return false;
}

bool StoreValue(const nlohmann::json& v, DataType dtype, std::byte* dst) {
  switch (dtype) {
    case DataType::kBool: {
      bool b = false;
      if (v.is_boolean()) {
        b = v.get<bool>();
      } else if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) {
        b = v.get<int64_t>() == 1;
      } else {
        return false;
      }
      const uint8_t byte = b ? 1 : 0;
      std::memcpy(dst, &byte, 1);
      return true;
    }
    case DataType::kUint8:
      return StoreInt(v, reinterpret_cast<uint8_t*>(dst));
    case DataType::kInt8:
      return StoreInt(v, reinterpret_cast<int8_t*>(dst));
    case DataType::kInt16:
      return StoreInt(v, reinterpret_cast<int16_t*>(dst));
    case DataType::kInt32:
      return StoreInt(v, reinterpret_cast<int32_t*>(dst));
    case DataType::kInt64:
      return StoreInt(v, reinterpret_cast<int64_t*>(dst));
    case DataType::kFp16: {
      if (!v.is_number()) return false;
      const uint16_t h = FloatToHalf(v.get<float>());
      std::memcpy(dst, &h, 2);
      return true;
    }
    case DataType::kFp32: {
      if (!v.is_number()) return false;
      const float f = v.get<float>();
      std::memcpy(dst, &f, 4);
      return true;
    }
    case DataType::kFp64: {
      if (!v.is_number()) return false;
      const double d = v.get<double>();
      std::memcpy(dst, &d, 8);
      return true;
    }
  }
  return false;
}

nlohmann::json Number(double d) { return std::isfinite(d) ? nlohmann::json(d) : nullptr; }

// The declared input that inputs[i] (`j`) names: an error when the name is
// missing, not declared, or among the inputs `given` before it.
absl::StatusOr<const TensorSpec*> NamedSpec(const nlohmann::json& j, size_t i,
                                            const std::vector<TensorSpec>& declared,
                                            const std::vector<Tensor>& given) {
  auto name_it = j.find("name");
  if (name_it == j.end() || !name_it->is_string())
    return ValidationError(StrCat("inputs[", i, "] needs a 'name'"));
  const std::string name = name_it->get<std::string>();
  auto spec = std::find_if(declared.begin(), declared.end(),
                           [&](const TensorSpec& s) { return s.name == name; });
  if (spec == declared.end()) {
    std::vector<std::string> names;
    for (const auto& s : declared) names.push_back(s.name);
    return ValidationError(
        StrCat("the model has no input '", name, "' (inputs: ", Join(names, ", "), ")"));
  }
  for (const auto& t : given) {
    if (t.name == name) return ValidationError(StrCat("input '", name, "' is given twice"));
  }
  return &*spec;
}

// Checks the optional "datatype" of `j` against the declared one.
absl::Status CheckDataType(const nlohmann::json& j, const TensorSpec& spec) {
  if (auto dt = j.find("datatype"); dt != j.end()) {
    auto parsed = dt->is_string() ? DataTypeFromName(dt->get<std::string>()) : std::nullopt;
    if (!parsed.has_value())
      return ValidationError(StrCat("input '", spec.name, "' has an unknown datatype"));
    if (*parsed != spec.dtype) {
      return ValidationError(StrCat("input '", spec.name, "' must be ", DataTypeName(spec.dtype),
                                    ", got ", DataTypeName(*parsed)));
    }
  }
  return absl::OkStatus();
}

// The "shape" list of input `name`.
absl::StatusOr<Shape> ShapeFromJson(const nlohmann::json& j, const std::string& name) {
  auto shape_it = j.find("shape");
  if (shape_it == j.end() || !shape_it->is_array())
    return ValidationError(StrCat("input '", name, "' needs a 'shape' list"));
  Shape shape;
  for (const auto& d : *shape_it) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0)
      return ValidationError(StrCat("input '", name, "': shape entries must be integers >= 0"));
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

// The values of the "data" list of input `name`, flattened row-major.
absl::StatusOr<std::vector<const nlohmann::json*>> DataFromJson(const nlohmann::json& j,
                                                                const std::string& name) {
  auto data_it = j.find("data");
  if (data_it == j.end() || !data_it->is_array())
    return ValidationError(StrCat("input '", name, "' needs a 'data' list"));
  std::vector<const nlohmann::json*> values;
  if (absl::Status st = Flatten(*data_it, values, 0); !st.ok())
    return ValidationError(StrCat("input '", name, "': ", st.message()));
  return values;
}

// inputs[i] (`j`) as a tensor of the declared input it names; `given` are the
// inputs before it.
absl::StatusOr<Tensor> TensorFromJson(const nlohmann::json& j, size_t i,
                                      const std::vector<TensorSpec>& declared,
                                      const std::vector<Tensor>& given) {
  if (!j.is_object()) return ValidationError(StrCat("inputs[", i, "] must be an object"));
  ASSIGN_OR_RETURN(const TensorSpec* spec, NamedSpec(j, i, declared, given));
  const std::string& name = spec->name;
  const DataType dtype = spec->dtype;
  RETURN_IF_ERROR(CheckDataType(j, *spec));
  ASSIGN_OR_RETURN(Shape shape, ShapeFromJson(j, name));
  auto count = ElementCount(shape, kMaxJsonElements);
  if (!count.ok()) return ValidationError(StrCat("input '", name, "': ", count.status().message()));
  ASSIGN_OR_RETURN(std::vector<const nlohmann::json*> values, DataFromJson(j, name));
  if (values.size() != *count) {
    return ValidationError(StrCat("input '", name, "' has ", values.size(), " values, shape ",
                                  ShapeToString(shape), " needs ", *count));
  }
  ASSIGN_OR_RETURN(Tensor t, MakeTensor(name, dtype, shape));
  const size_t size = ElementSize(dtype);
  for (size_t k = 0; k < values.size(); ++k) {
    if (!StoreValue(*values[k], dtype, t.data.data() + k * size)) {
      return ValidationError(
          StrCat("input '", name, "': value ", k, " is not a valid ", DataTypeName(dtype)));
    }
  }
  return t;
}

}  // namespace

uint16_t FloatToHalf(float value) {
  const uint32_t f = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (f >> 16) & 0x8000u;
  const uint32_t abs = f & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // Inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow → Inf
  if (abs < 0x38800000u) {                                               // subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const int shift = 126 - static_cast<int>(abs >> 23);  // 14..24
    uint32_t half = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs - 0x38000000u) >> 13);
  const uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t f = 0;
  if (exp == 0) {
    if (mant == 0) {
      f = sign;
    } else {  // subnormal: normalise
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while ((m & 0x400u) == 0);
      f = sign | ((127 - 15 - e) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    f = sign | 0x7f800000u | (mant << 13);
  } else {
    f = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(f);
}

absl::StatusOr<std::vector<Tensor>> TensorsFromJson(const nlohmann::json& inputs,
                                                    const std::vector<TensorSpec>& declared) {
  if (!inputs.is_array()) return ValidationError("'inputs' must be a list of tensors");
  std::vector<Tensor> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSIGN_OR_RETURN(Tensor t, TensorFromJson(inputs[i], i, declared, out));
    out.push_back(std::move(t));
  }
  for (const TensorSpec& spec : declared) {
    if (std::none_of(out.begin(), out.end(), [&](const Tensor& t) { return t.name == spec.name; }))
      return ValidationError(StrCat("missing input '", spec.name, "'"));
  }
  RETURN_IF_ERROR(CheckInputs(declared, out));
  return out;
}

nlohmann::json TensorToJson(const Tensor& t) {
  nlohmann::json data = nlohmann::json::array();
  const size_t n = t.data.size() / ElementSize(t.dtype);
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DataType::kBool:
        data.push_back(static_cast<uint8_t>(t.data[i]) != 0);
        break;
      case DataType::kUint8:
        data.push_back(t.As<uint8_t>()[i]);
        break;
      case DataType::kInt8:
        data.push_back(t.As<int8_t>()[i]);
        break;
      case DataType::kInt16:
        data.push_back(t.As<int16_t>()[i]);
        break;
      case DataType::kInt32:
        data.push_back(t.As<int32_t>()[i]);
        break;
      case DataType::kInt64:
        data.push_back(t.As<int64_t>()[i]);
        break;
      case DataType::kFp16:
        data.push_back(Number(HalfToFloat(t.As<uint16_t>()[i])));
        break;
      case DataType::kFp32:
        data.push_back(Number(t.As<float>()[i]));
        break;
      case DataType::kFp64:
        data.push_back(Number(t.As<double>()[i]));
        break;
    }
  }
  return {{"name", t.name},
          {"datatype", std::string(DataTypeName(t.dtype))},
          {"shape", t.shape},
          {"data", std::move(data)}};
}

}  // namespace cinfer
