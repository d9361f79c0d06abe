#include "engines/builtin_engines.h"

#include "engines/onnxruntime/onnxruntime_engine.h"
#include "spdlog/spdlog.h"
#ifdef CINFER_WITH_LIBTORCH
#include "engines/libtorch/libtorch_engine.h"
#endif
#ifdef CINFER_WITH_OPENCV_DNN
#include "engines/opencv_dnn/opencv_engine.h"
#endif

namespace cinfer {
namespace {

template <class T>
void AddOrWarn(EngineRegistry& r, absl::StatusOr<std::unique_ptr<T>> engine,
               std::vector<ModelFormat> formats) {
  if (engine.ok()) {
    r.Add(*std::move(engine), std::move(formats));
  } else {
    spdlog::error("engine unavailable: {}", engine.status().ToString());
  }
}

}  // namespace

std::unique_ptr<EngineRegistry> BuildEngineRegistry(const EnginesConfig& config) {
  auto registry = std::make_unique<EngineRegistry>();
  const bool opencv_first = config.default_engine == "opencv";
#ifdef CINFER_WITH_OPENCV_DNN
  if (config.opencv.enabled && opencv_first) {
    AddOrWarn(*registry, OpenCvDnnEngine::Create({.threads = config.onnx.threads}),
              {ModelFormat::kOnnx});
  }
#endif
  if (config.onnx.enabled) {
    AddOrWarn(*registry,
              OnnxRuntimeEngine::Create({.intra_op_threads = config.onnx.threads,
                                         .inter_op_threads = config.onnx.inter_op_threads,
                                         .graph_optimization = config.onnx.graph_optimization,
                                         .execution_providers = config.onnx.execution_providers}),
              {ModelFormat::kOnnx});
  }
#ifdef CINFER_WITH_LIBTORCH
  if (config.pytorch.enabled) {
    AddOrWarn(*registry, LibTorchEngine::Create({.threads = config.pytorch.threads}),
              {ModelFormat::kTorchScript});
  }
#endif
#ifdef CINFER_WITH_OPENCV_DNN
  if (config.opencv.enabled && !opencv_first) {
    AddOrWarn(*registry, OpenCvDnnEngine::Create({.threads = config.onnx.threads}),
              {ModelFormat::kOnnx});
  }
#endif
  return registry;
}

}  // namespace cinfer
