#include "engines/builtin_engines.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "common/strings.h"
#include "nlohmann/json.hpp"

namespace cinfer {
namespace {

struct PluginSpec {
  std::string name;
  nlohmann::json options;
  std::vector<ModelFormat> formats;
};

std::vector<PluginSpec> EnabledPlugins(const EnginesConfig& c) {
  std::vector<PluginSpec> specs;
  if (c.onnx.enabled) {
    specs.push_back({"onnxruntime",
                     {{"threads", c.onnx.threads},
                      {"inter_op_threads", c.onnx.inter_op_threads},
                      {"graph_optimization", c.onnx.graph_optimization},
                      {"execution_providers", c.onnx.execution_providers}},
                     {ModelFormat::kOnnx}});
  }
  if (c.pytorch.enabled) {
    specs.push_back({"libtorch", {{"threads", c.pytorch.threads}}, {ModelFormat::kTorchScript}});
  }
  if (c.opencv.enabled) {
    specs.push_back({"opencv", {{"threads", c.onnx.threads}}, {ModelFormat::kOnnx}});
  }
  if (c.openvino.enabled) {
    specs.push_back({"openvino",
                     {{"threads", c.openvino.threads},
                      {"performance_hint", c.openvino.performance_hint},
                      {"streams", c.openvino.streams}},
                     {ModelFormat::kOpenVinoIr, ModelFormat::kPaddle, ModelFormat::kOnnx}});
  }
  // engines.default moves its engine to the front: it gets ONNX models by default.
  const std::string first = c.default_engine == "opencv"     ? "opencv"
                            : c.default_engine == "openvino" ? "openvino"
                                                             : "";
  std::stable_partition(specs.begin(), specs.end(),
                        [&](const PluginSpec& s) { return s.name == first; });
  return specs;
}

}  // namespace

std::string EnginePluginDir(const EnginesConfig& config) {
  if (!config.plugin_dir.empty()) return config.plugin_dir;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "engines";
  return (exe.parent_path() / "engines").string();
}

std::unique_ptr<EngineRegistry> BuildEngineRegistry(const EnginesConfig& config) {
  auto registry = std::make_unique<EngineRegistry>();
  const std::string dir = EnginePluginDir(config);
  for (PluginSpec& s : EnabledPlugins(config)) {
    std::string library = StrCat(dir, "/libcinfer_engine_", s.name, ".so");
    registry->AddPlugin(
        std::make_unique<PluginEngine>(PluginEngine::Options{s.name, library, s.options.dump()}),
        std::move(s.formats));
  }
  return registry;
}

}  // namespace cinfer
