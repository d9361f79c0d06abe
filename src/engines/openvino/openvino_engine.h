// OpenVinoEngine: loads models with the OpenVINO C++ runtime and runs them on
// the CPU plugin. It reads ONNX, OpenVINO IR (the .xml, with its weights in the
// .bin of the same stem next to it) and PaddlePaddle inference models (the
// .pdmodel, with the .pdiparams of the same stem next to it), recognised by
// content (engines/model_format.h), whatever the file's name; anything else is
// refused before OpenVINO sees it. Dynamic input dimensions given in
// LoadOptions::input_shapes are fixed before compiling; the others stay
// dynamic.
//
// Known difference from ONNX Runtime: the CPU plugin computes INT64 tensors in
// 32 bits inside the graph, so INT64 values beyond the int32 range wrap (INT64
// inputs and outputs keep their type).
//
// Options: the performance hint ("latency" | "throughput"), the number of CPU
// streams (0: chosen by OpenVINO from the hint) and of inference threads (0:
// OpenVINO's default). LoadOptions::performance_hint / streams (when set) and
// intra_op_threads (when > 0) override them for one model.
//
// Concurrency: the engine owns one ov::Core; Load is thread-safe. A
// LoadedModel holds one ov::CompiledModel shared by all its Run calls, each of
// which borrows an ov::InferRequest from a mutex-protected free list (created
// on demand, so there are as many requests as concurrent Run calls ever were)
// and hands it back when done. Run is therefore thread-safe and calls run in
// parallel up to the compiled model's stream count (SupportsConcurrentRun() is
// true); inputs() and outputs() are immutable after Load.
#pragma once

#include <memory>
#include <string>

#include "engines/engine.h"

namespace cinfer {

class OpenVinoEngine final : public Engine {
 public:
  struct Options {
    int threads = 0;                           // ov::inference_num_threads; 0: OpenVINO's default
    std::string performance_hint = "latency";  // latency | throughput
    int streams = 0;                           // ov::num_streams; 0: from the hint
  };
  // InvalidArgument naming the bad value; Internal when OpenVINO cannot start.
  static absl::StatusOr<std::unique_ptr<OpenVinoEngine>> Create(const Options& options);
  ~OpenVinoEngine() override;

  std::string_view name() const override { return "openvino"; }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& path,
                                                    const LoadOptions& options) const override;

 private:
  struct State;
  explicit OpenVinoEngine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cinfer
