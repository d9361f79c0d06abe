// The engine plugin interface. Every engine backend is a shared library
// (libcinfer_engine_<name>.so in the plugin folder) exporting one C symbol,
// `cinfer_engine_plugin_v1`, that returns a static EnginePluginApi. The server
// opens a plugin with dlopen the first time a model of that engine is loaded or
// inspected (engines/plugin_loader.h), so a server without models maps none of
// the engine libraries.
//
// The API is C++: a plugin is built from the same tree and compiler as the
// binary that loads it. `abi` guards against a plugin left over from another
// build: the loader refuses a plugin whose abi string differs from its own
// (kEnginePluginAbi below, which changes whenever engine.h, tensor.h or this file
// change shape), with the reason in the log and system/info.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engines/engine.h"

namespace cinfer {

// Bump on any change to Engine, LoadedModel, LoadOptions, Tensor or EnginePluginApi.
inline constexpr const char* kEnginePluginAbi = "cinfer-engine-abi-2";

struct EnginePluginApi {
  const char* abi;   // kEnginePluginAbi of the plugin's build
  const char* name;  // "onnxruntime", "openvino", "libtorch", "opencv"
  // Creates the engine from its configuration section, as a JSON object text
  // (the engines.<name> keys of docs/CONFIG.md; unknown keys are ignored).
  // Never throws: failures (bad option values, a backend that cannot start)
  // are a Status.
  absl::StatusOr<std::unique_ptr<Engine>> (*create)(const std::string& options_json);
};

}  // namespace cinfer

// The plugin's one exported symbol.
extern "C" {
using CinferEnginePluginEntry = const cinfer::EnginePluginApi* (*)();
}

// Defines that symbol in a plugin's source, for the engine `name` that `create` builds:
//   CINFER_ENGINE_PLUGIN("openvino", &CreateOpenVino)
#define CINFER_ENGINE_PLUGIN(name, create)                                                 \
  extern "C" __attribute__((visibility("default"))) const cinfer::EnginePluginApi*         \
  cinfer_engine_plugin_v1() {                                                              \
    static constexpr cinfer::EnginePluginApi kApi{cinfer::kEnginePluginAbi, name, create}; \
    return &kApi;                                                                          \
  }
