// The ONNX Runtime engine as a plugin (engines/engine_plugin.h).
#include "common/status_macros.h"
#include "engines/engine_plugin.h"
#include "engines/onnxruntime/onnxruntime_engine.h"
#include "engines/plugin_options.h"

namespace cinfer {
namespace {

absl::StatusOr<std::unique_ptr<Engine>> CreateOnnxRuntime(const std::string& text) {
  ASSIGN_OR_RETURN(PluginOptions o, PluginOptions::Parse("onnxruntime", text));
  OnnxRuntimeEngine::Options opts;
  RETURN_IF_ERROR(o.Read("threads", &opts.intra_op_threads));
  RETURN_IF_ERROR(o.Read("inter_op_threads", &opts.inter_op_threads));
  RETURN_IF_ERROR(o.Read("graph_optimization", &opts.graph_optimization));
  RETURN_IF_ERROR(o.Read("execution_providers", &opts.execution_providers));
  ASSIGN_OR_RETURN(auto engine, OnnxRuntimeEngine::Create(opts));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace
}  // namespace cinfer

CINFER_ENGINE_PLUGIN("onnxruntime", &cinfer::CreateOnnxRuntime)
