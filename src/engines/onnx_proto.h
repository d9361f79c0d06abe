// Minimal reader/rewriter of the protobuf wire format for ONNX ModelProto, so
// the server can inspect untrusted ONNX files (format sniffing, external-data
// locations) and fix input shapes for engines that need static shapes,
// without linking protobuf. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engines/tensor.h"

namespace cinfer::onnx {

struct WireField {
  uint32_t number = 0;
  int wire_type = 0;       // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
  uint64_t varint = 0;     // wire type 0
  std::string_view bytes;  // wire type 2 payload
  std::string_view raw;    // the whole field, tag included
};

// Reads the field that starts at message[*pos] into *field and moves *pos past
// it; InvalidArgument on malformed input. Allocates nothing on success, so
// callers can walk messages of any size.
absl::Status ReadField(std::string_view message, size_t* pos, WireField* field);

// Splits one message into its fields; InvalidArgument on malformed input.
absl::StatusOr<std::vector<WireField>> ParseMessage(std::string_view message);

// True when every field of `message` is well formed (nested messages unchecked).
bool IsWellFormedMessage(std::string_view message);

// True when `data` parses as an ONNX ModelProto with a graph.
bool LooksLikeOnnx(std::string_view data);

// External-data locations of every tensor in the model (initializers, sparse
// initializers, node attributes, subgraphs).
absl::StatusOr<std::vector<std::string>> ExternalDataLocations(std::string_view model);

// Rejects locations that are absolute or climb out of the model's directory.
absl::Status CheckExternalDataLocations(std::string_view model);

// Input names with their declared shapes (-1 for symbolic or missing dims).
absl::StatusOr<std::map<std::string, Shape>> GraphInputShapes(std::string_view model);

// A copy of `model` whose graph inputs named in `shapes` get those static dims.
absl::StatusOr<std::string> WithFixedInputShapes(std::string_view model,
                                                 const std::map<std::string, Shape>& shapes);

}  // namespace cinfer::onnx
