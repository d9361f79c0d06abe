// Engine / LoadedModel: the small interface every inference backend
// implements (design document §4.1).
//
// An Engine is cheap to construct and validates + loads a model artifact into
// an immutable LoadedModel. A LoadedModel describes its inputs and outputs and
// runs a batch of tensors. Exceptions from backend libraries never cross this
// interface; failures are Status values with context.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engines/tensor.h"

namespace cinfer {

struct LoadOptions {
  // Fixes input dimensions (engines that need static shapes apply them at
  // load; others use them to resolve dynamic dimensions when describing IO).
  std::map<std::string, Shape> input_shapes;
  int intra_op_threads = 0;  // 0: the engine's configured default
  // False when several instances share the cores: intra-op threads block
  // instead of spinning (engines without such threads ignore it).
  bool allow_spinning = true;
  // OpenVINO: "latency" | "throughput" (empty: the engine's configured default), and
  // the number of CPU streams (0: sized by the engine from the cores and the hint).
  // Other engines ignore both.
  std::string performance_hint = "";
  int streams = 0;
};

class LoadedModel {
 public:
  virtual ~LoadedModel() = default;

  virtual const std::vector<TensorSpec>& inputs() const = 0;
  virtual const std::vector<TensorSpec>& outputs() const = 0;
  // Execution providers / devices actually in use, and why a requested one was
  // not (the design document's automatic degradation). Empty when none.
  virtual std::vector<std::string> devices() const = 0;
  virtual std::string fallback_reason() const { return {}; }

  // Runs one inference. `inputs` are matched by name to inputs() and must have
  // concrete shapes compatible with the declared ones and the declared dtype.
  // Outputs come back in outputs() order.
  //
  // Concurrency: Run is thread-safe on every engine. Engines whose backend
  // cannot run two executions at once serialise internally and say so through
  // SupportsConcurrentRun() so schedulers can create more instances instead.
  virtual absl::StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs) const = 0;
  virtual bool SupportsConcurrentRun() const = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // "onnxruntime", "libtorch", "opencv".
  virtual std::string_view name() const = 0;
  // Loads the file at `path`. InvalidArgument for content this engine cannot
  // read (with the reason), Internal for backend failures.
  virtual absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& path,
                                                            const LoadOptions& options) const = 0;
};

// Checks `inputs` against the model's declared inputs: names, dtypes, ranks,
// fixed dimensions and byte sizes. InvalidArgument naming the input otherwise.
absl::Status CheckInputs(const std::vector<TensorSpec>& declared,
                         const std::vector<Tensor>& inputs);

// The errors an engine returns when its framework throws. The framework's own
// text (source paths, C++ signatures, node names) is kept as a hidden detail
// for the server log (common/errors.h); the caller reads:
//   EngineRunError:  "<engine> could not run the model on these inputs ..." (a
//                    fixed sentence: the inputs passed CheckInputs, so the
//                    framework's reason is about the graph's inside);
//   EngineLoadError: "<engine> could not load the model: <scrubbed reason>".
absl::Status EngineRunError(std::string_view engine, std::string_view detail);
absl::Status EngineLoadError(std::string_view engine, std::string_view detail);

}  // namespace cinfer
