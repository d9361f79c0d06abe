// OnnxRuntimeEngine: loads ONNX models into ONNX Runtime sessions (C++ API).
// Thread count, graph optimisation level and execution providers come from
// config; CUDA/TensorRT are used when configured and present in the library,
// otherwise the model runs on CPU and fallback_reason() says why.
// The engine owns one Ort::Env shared by its sessions; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engines/engine.h"

namespace cinfer {

class OnnxRuntimeEngine final : public Engine {
 public:
  struct Options {
    int intra_op_threads = 4;  // 0: ONNX Runtime's default
    int inter_op_threads = 1;
    std::string graph_optimization = "all";  // disable | basic | extended | all
    std::vector<std::string> execution_providers = {"CPUExecutionProvider"};
  };
  static absl::StatusOr<std::unique_ptr<OnnxRuntimeEngine>> Create(const Options& options);
  ~OnnxRuntimeEngine() override;

  std::string_view name() const override { return "onnxruntime"; }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& path,
                                                    const LoadOptions& options) const override;

 private:
  struct State;
  explicit OnnxRuntimeEngine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cinfer
