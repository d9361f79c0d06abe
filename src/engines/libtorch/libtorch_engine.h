// LibTorchEngine: loads TorchScript archives with torch::jit::load (Debian's
// LibTorch 1.13, CPU) and runs them in inference mode. Archives written by a
// newer PyTorch than the library reads are rejected naming the version.
// TorchScript carries no tensor types or shapes: inputs are declared FP32 with
// the shapes given in LoadOptions (rank unknown otherwise); tuple and list
// outputs become outputs named output0, output1, ... Thread-safe.
#pragma once

#include <memory>

#include "engines/engine.h"

namespace cinfer {

class LibTorchEngine final : public Engine {
 public:
  struct Options {
    int threads = 4;  // intra-op threads of the process-wide LibTorch pool
  };
  static absl::StatusOr<std::unique_ptr<LibTorchEngine>> Create(const Options& options);

  std::string_view name() const override { return "libtorch"; }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& path,
                                                    const LoadOptions& options) const override;

 private:
  explicit LibTorchEngine(const Options& options) : options_(options) {}
  Options options_;
};

}  // namespace cinfer
