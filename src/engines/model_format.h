// Model file formats, recognised by content (never by file extension).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cinfer {

enum class ModelFormat { kOnnx, kTorchScript, kUnknown };

std::string_view ModelFormatName(ModelFormat f);  // "onnx", "torchscript", "unknown"

// Sniffs the content of a model file.
ModelFormat SniffModelFormat(std::string_view content);

// True when `content` is a zip archive holding a TorchScript module
// (a "<prefix>/data.pkl" plus "<prefix>/code/" or "constants.pkl" entry).
bool LooksLikeTorchScript(std::string_view content);

}  // namespace cinfer
