#include "engines/onnx_proto.h"

#include <algorithm>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer::onnx {
namespace {

// ModelProto / GraphProto / NodeProto / AttributeProto / TensorProto field numbers.
constexpr uint32_t kModelIrVersion = 1, kModelGraph = 7;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5, kGraphInput = 11,
                   kGraphSparseInitializer = 15;
constexpr uint32_t kNodeAttribute = 5;
constexpr uint32_t kAttrT = 5, kAttrG = 6, kAttrTensors = 10, kAttrGraphs = 11,
                   kAttrSparseTensor = 22, kAttrSparseTensors = 23;
constexpr uint32_t kSparseValues = 1, kSparseIndices = 2;
constexpr uint32_t kTensorExternalData = 13;
constexpr uint32_t kEntryKey = 1, kEntryValue = 2;
constexpr uint32_t kValueInfoName = 1, kValueInfoType = 2;
constexpr uint32_t kTypeTensor = 1, kTensorTypeShape = 2, kShapeDim = 1;
constexpr uint32_t kDimValue = 1;
constexpr int kMaxDepth = 64;

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("malformed protobuf: ", what));
}

bool ReadVarint(std::string_view data, size_t* pos, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *pos < data.size(); shift += 7) {
    const auto b = static_cast<uint8_t>(data[(*pos)++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutBytesField(std::string& out, uint32_t number, std::string_view payload) {
  PutVarint(out, (static_cast<uint64_t>(number) << 3) | 2);
  PutVarint(out, payload.size());
  out.append(payload);
}

void PutVarintField(std::string& out, uint32_t number, uint64_t v) {
  PutVarint(out, static_cast<uint64_t>(number) << 3);
  PutVarint(out, v);
}

absl::Status CollectTensor(std::string_view tensor, std::vector<std::string>& out) {
  ASSIGN_OR_RETURN(auto fields, ParseMessage(tensor));
  for (const auto& f : fields) {
    if (f.number != kTensorExternalData || f.wire_type != 2) continue;
    ASSIGN_OR_RETURN(auto entry, ParseMessage(f.bytes));
    std::string_view key, value;
    for (const auto& e : entry) {
      if (e.number == kEntryKey && e.wire_type == 2) key = e.bytes;
      if (e.number == kEntryValue && e.wire_type == 2) value = e.bytes;
    }
    if (key == "location") out.emplace_back(value);
  }
  // Every location is checked, whether or not data_location says EXTERNAL.
  return absl::OkStatus();
}

absl::Status CollectGraph(std::string_view graph, std::vector<std::string>& out, int depth);

absl::Status CollectSparse(std::string_view sparse, std::vector<std::string>& out) {
  ASSIGN_OR_RETURN(auto fields, ParseMessage(sparse));
  for (const auto& f : fields) {
    if ((f.number == kSparseValues || f.number == kSparseIndices) && f.wire_type == 2) {
      RETURN_IF_ERROR(CollectTensor(f.bytes, out));
    }
  }
  return absl::OkStatus();
}

absl::Status CollectAttribute(std::string_view attr, std::vector<std::string>& out, int depth) {
  ASSIGN_OR_RETURN(auto fields, ParseMessage(attr));
  for (const auto& f : fields) {
    if (f.wire_type != 2) continue;
    if (f.number == kAttrT || f.number == kAttrTensors)
      RETURN_IF_ERROR(CollectTensor(f.bytes, out));
    if (f.number == kAttrSparseTensor || f.number == kAttrSparseTensors) {
      RETURN_IF_ERROR(CollectSparse(f.bytes, out));
    }
    if (f.number == kAttrG || f.number == kAttrGraphs)
      RETURN_IF_ERROR(CollectGraph(f.bytes, out, depth + 1));
  }
  return absl::OkStatus();
}

absl::Status CollectGraph(std::string_view graph, std::vector<std::string>& out, int depth) {
  if (depth > kMaxDepth) return Malformed("subgraphs nested too deeply");
  ASSIGN_OR_RETURN(auto fields, ParseMessage(graph));
  for (const auto& f : fields) {
    if (f.wire_type != 2) continue;
    if (f.number == kGraphInitializer) RETURN_IF_ERROR(CollectTensor(f.bytes, out));
    if (f.number == kGraphSparseInitializer) RETURN_IF_ERROR(CollectSparse(f.bytes, out));
    if (f.number == kGraphNode) {
      ASSIGN_OR_RETURN(auto node, ParseMessage(f.bytes));
      for (const auto& nf : node) {
        if (nf.number == kNodeAttribute && nf.wire_type == 2) {
          RETURN_IF_ERROR(CollectAttribute(nf.bytes, out, depth));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> GraphOf(std::string_view model) {
  ASSIGN_OR_RETURN(auto fields, ParseMessage(model));
  for (const auto& f : fields) {
    if (f.number == kModelGraph && f.wire_type == 2) return f.bytes;
  }
  return absl::InvalidArgumentError("the ONNX model has no graph");
}

// Shape of a ValueInfoProto's tensor type; name in *name.
absl::StatusOr<Shape> ValueInfoShape(std::string_view value_info, std::string* name) {
  ASSIGN_OR_RETURN(auto fields, ParseMessage(value_info));
  Shape shape;
  for (const auto& f : fields) {
    if (f.number == kValueInfoName && f.wire_type == 2) *name = std::string(f.bytes);
    if (f.number != kValueInfoType || f.wire_type != 2) continue;
    ASSIGN_OR_RETURN(auto type, ParseMessage(f.bytes));
    for (const auto& t : type) {
      if (t.number != kTypeTensor || t.wire_type != 2) continue;
      ASSIGN_OR_RETURN(auto tensor, ParseMessage(t.bytes));
      for (const auto& tf : tensor) {
        if (tf.number != kTensorTypeShape || tf.wire_type != 2) continue;
        ASSIGN_OR_RETURN(auto dims, ParseMessage(tf.bytes));
        for (const auto& d : dims) {
          if (d.number != kShapeDim || d.wire_type != 2) continue;
          ASSIGN_OR_RETURN(auto dim, ParseMessage(d.bytes));
          int64_t value = -1;
          for (const auto& df : dim) {
            if (df.number == kDimValue && df.wire_type == 0)
              value = static_cast<int64_t>(df.varint);
          }
          shape.push_back(value);
        }
      }
    }
  }
  return shape;
}

// Re-encodes message `msg`, replacing each field number in `replace` by the
// function's output (which returns the new payload).
template <class Fn>
absl::StatusOr<std::string> Rewrite(std::string_view msg, uint32_t number, Fn&& fn) {
  ASSIGN_OR_RETURN(auto fields, ParseMessage(msg));
  std::string out;
  out.reserve(msg.size() + 64);
  for (const auto& f : fields) {
    if (f.number == number && f.wire_type == 2) {
      ASSIGN_OR_RETURN(std::string payload, fn(f.bytes));
      PutBytesField(out, number, payload);
    } else {
      out.append(f.raw);
    }
  }
  return out;
}

absl::StatusOr<std::string> FixValueInfo(std::string_view value_info, const Shape& shape) {
  return Rewrite(value_info, kValueInfoType, [&](std::string_view type) {
    return Rewrite(type, kTypeTensor, [&](std::string_view tensor) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(auto fields, ParseMessage(tensor));
      std::string out;
      for (const auto& f : fields) {
        if (f.number != kTensorTypeShape) out.append(f.raw);
      }
      std::string dims;
      for (int64_t d : shape) {
        std::string dim;
        PutVarintField(dim, kDimValue, static_cast<uint64_t>(d));
        PutBytesField(dims, kShapeDim, dim);
      }
      PutBytesField(out, kTensorTypeShape, dims);
      return out;
    });
  });
}

}  // namespace

absl::Status ReadField(std::string_view data, size_t* pos, WireField* field) {
  const size_t start = *pos;
  uint64_t tag = 0;
  if (!ReadVarint(data, pos, &tag)) return Malformed("truncated tag");
  WireField f;
  f.number = static_cast<uint32_t>(tag >> 3);
  f.wire_type = static_cast<int>(tag & 7);
  if (f.number == 0) return Malformed("field number 0");
  switch (f.wire_type) {
    case 0:
      if (!ReadVarint(data, pos, &f.varint)) return Malformed("truncated varint");
      break;
    case 1:
      if (data.size() - *pos < 8) return Malformed("truncated fixed64");
      *pos += 8;
      break;
    case 5:
      if (data.size() - *pos < 4) return Malformed("truncated fixed32");
      *pos += 4;
      break;
    case 2: {
      uint64_t len = 0;
      if (!ReadVarint(data, pos, &len) || len > data.size() - *pos) {
        return Malformed("length-delimited field runs past the end (truncated file?)");
      }
      f.bytes = data.substr(*pos, len);
      *pos += len;
      break;
    }
    default:
      return Malformed(StrCat("unsupported wire type ", f.wire_type));
  }
  f.raw = data.substr(start, *pos - start);
  *field = f;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WireField>> ParseMessage(std::string_view data) {
  std::vector<WireField> fields;
  size_t pos = 0;
  while (pos < data.size()) {
    WireField f;
    RETURN_IF_ERROR(ReadField(data, &pos, &f));
    fields.push_back(f);
  }
  return fields;
}

bool IsWellFormedMessage(std::string_view data) {
  size_t pos = 0;
  WireField f;
  while (pos < data.size()) {
    if (!ReadField(data, &pos, &f).ok()) return false;
  }
  return true;
}

bool LooksLikeOnnx(std::string_view data) {
  static constexpr uint32_t kKnown[] = {1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25};
  // Walked field by field: a crafted file of millions of tiny fields costs time, not memory.
  bool has_graph = false, has_ir = false;
  std::string_view graph;
  size_t pos = 0;
  WireField f;
  while (pos < data.size()) {
    if (!ReadField(data, &pos, &f).ok()) return false;
    if (std::find(std::begin(kKnown), std::end(kKnown), f.number) == std::end(kKnown)) return false;
    if (f.number == kModelGraph && f.wire_type == 2 && !has_graph) graph = f.bytes;
    has_graph |= f.number == kModelGraph && f.wire_type == 2;
    has_ir |= f.number == kModelIrVersion && f.wire_type == 0;
  }
  return has_graph && has_ir && IsWellFormedMessage(graph);
}

absl::StatusOr<std::vector<std::string>> ExternalDataLocations(std::string_view model) {
  ASSIGN_OR_RETURN(std::string_view graph, GraphOf(model));
  std::vector<std::string> out;
  RETURN_IF_ERROR(CollectGraph(graph, out, 0));
  return out;
}

absl::Status CheckExternalDataLocations(std::string_view model) {
  ASSIGN_OR_RETURN(auto locations, ExternalDataLocations(model));
  for (const std::string& loc : locations) {
    bool bad = loc.empty() || loc.front() == '/' || loc.front() == '\\' ||
               loc.find(':') != std::string::npos;
    const std::string normalized = ReplaceAll(loc, "\\", "/");
    for (std::string_view part : Split(normalized, '/')) bad |= part == "..";
    if (bad) {
      return absl::InvalidArgumentError(
          StrCat("external data location '", loc,
                 "' is outside the model's own directory (absolute paths and '..' are refused)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, Shape>> GraphInputShapes(std::string_view model) {
  ASSIGN_OR_RETURN(std::string_view graph, GraphOf(model));
  ASSIGN_OR_RETURN(auto fields, ParseMessage(graph));
  std::map<std::string, Shape> out;
  for (const auto& f : fields) {
    if (f.number != kGraphInput || f.wire_type != 2) continue;
    std::string name;
    ASSIGN_OR_RETURN(Shape shape, ValueInfoShape(f.bytes, &name));
    out[name] = std::move(shape);
  }
  return out;
}

absl::StatusOr<std::string> WithFixedInputShapes(std::string_view model,
                                                 const std::map<std::string, Shape>& shapes) {
  std::set<std::string> applied;
  ASSIGN_OR_RETURN(
      std::string fixed, Rewrite(model, kModelGraph, [&](std::string_view graph) {
        return Rewrite(graph, kGraphInput, [&](std::string_view vi) -> absl::StatusOr<std::string> {
          std::string name;
          ASSIGN_OR_RETURN(Shape declared, ValueInfoShape(vi, &name));
          auto it = shapes.find(name);
          if (it == shapes.end()) return std::string(vi);
          if (!declared.empty() && declared.size() != it->second.size()) {
            return absl::InvalidArgumentError(StrCat("shape for input '", name, "' has rank ",
                                                     it->second.size(), ", the model declares ",
                                                     ShapeToString(declared)));
          }
          for (size_t i = 0; i < declared.size(); ++i) {
            if (declared[i] >= 0 && declared[i] != it->second[i]) {
              return absl::InvalidArgumentError(
                  StrCat("shape ", ShapeToString(it->second), " for input '", name,
                         "' contradicts the model's ", ShapeToString(declared)));
            }
          }
          applied.insert(name);
          return FixValueInfo(vi, it->second);
        });
      }));
  for (const auto& [name, shape] : shapes) {
    if (!applied.count(name))
      return absl::InvalidArgumentError(StrCat("the model has no input '", name, "'"));
  }
  return fixed;
}

}  // namespace cinfer::onnx
