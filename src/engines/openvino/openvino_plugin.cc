// The OpenVINO engine as a plugin (engines/engine_plugin.h): the
// engines.openvino options "threads", "performance_hint" and "streams".
#include "common/status_macros.h"
#include "engines/engine_plugin.h"
#include "engines/openvino/openvino_engine.h"
#include "engines/plugin_options.h"

namespace cinfer {
namespace {

absl::StatusOr<std::unique_ptr<Engine>> CreateOpenVino(const std::string& text) {
  ASSIGN_OR_RETURN(PluginOptions o, PluginOptions::Parse("openvino", text));
  OpenVinoEngine::Options opts;
  RETURN_IF_ERROR(o.Read("threads", &opts.threads));
  RETURN_IF_ERROR(o.Read("performance_hint", &opts.performance_hint));
  RETURN_IF_ERROR(o.Read("streams", &opts.streams));
  ASSIGN_OR_RETURN(auto engine, OpenVinoEngine::Create(opts));  // checks the values
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace
}  // namespace cinfer

CINFER_ENGINE_PLUGIN("openvino", &cinfer::CreateOpenVino)
