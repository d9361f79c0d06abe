// The one registration point: every engine this build has, configured from
// `config` (disabled engines are left out). Order decides which engine gets a
// sniffed format by default: ONNX goes to ONNX Runtime (or OpenCV DNN when
// `engines.default` is "opencv"), TorchScript to LibTorch.
#pragma once

#include <memory>

#include "config/config.h"
#include "engines/engine_registry.h"

namespace cinfer {

std::unique_ptr<EngineRegistry> BuildEngineRegistry(const EnginesConfig& config);

}  // namespace cinfer
