// The one registration point: every engine this server knows, each a plugin
// (libcinfer_engine_<name>.so in the plugin folder, engines/engine_plugin.h)
// opened when the first model of that engine is loaded or inspected. Engines
// disabled in `config` are left out; a plugin missing from the folder is listed
// as unavailable with the reason. Order decides which engine gets a sniffed
// format by default: ONNX goes to ONNX Runtime (or to OpenCV DNN / OpenVINO when
// `engines.default` names them), TorchScript to LibTorch, OpenVINO IR and
// PaddlePaddle models to OpenVINO.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "engines/engine_registry.h"

namespace cinfer {

// `engines.plugin_dir`, or <folder of the running binary>/engines when empty.
std::string EnginePluginDir(const EnginesConfig& config);

std::unique_ptr<EngineRegistry> BuildEngineRegistry(const EnginesConfig& config);

}  // namespace cinfer
