// The OpenCV DNN engine as a plugin (engines/engine_plugin.h).
#include "common/status_macros.h"
#include "engines/engine_plugin.h"
#include "engines/opencv_dnn/opencv_engine.h"
#include "engines/plugin_options.h"

namespace cinfer {
namespace {

absl::StatusOr<std::unique_ptr<Engine>> CreateOpenCv(const std::string& text) {
  ASSIGN_OR_RETURN(PluginOptions o, PluginOptions::Parse("opencv", text));
  OpenCvDnnEngine::Options opts;
  RETURN_IF_ERROR(o.Read("threads", &opts.threads));
  ASSIGN_OR_RETURN(auto engine, OpenCvDnnEngine::Create(opts));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace
}  // namespace cinfer

CINFER_ENGINE_PLUGIN("opencv", &cinfer::CreateOpenCv)
