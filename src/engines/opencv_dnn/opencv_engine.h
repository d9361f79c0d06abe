// OpenCvDnnEngine: runs ONNX models with OpenCV DNN (Debian OpenCV 4.6, CPU
// backend). OpenCV 4.6 cannot import graphs with dynamic input shapes, so the
// input shapes given in LoadOptions are written into a copy of the graph
// before import; a dynamic input without a given shape is rejected with that
// reason. Inputs and outputs are FP32. cv::dnn::Net is not re-entrant: Run
// serialises on a mutex (SupportsConcurrentRun() is false). Thread-safe.
#pragma once

#include <memory>

#include "engines/engine.h"

namespace cinfer {

class OpenCvDnnEngine final : public Engine {
 public:
  struct Options {
    int threads = 4;  // cv::setNumThreads (process-wide)
  };
  static absl::StatusOr<std::unique_ptr<OpenCvDnnEngine>> Create(const Options& options);

  std::string_view name() const override { return "opencv"; }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& path,
                                                    const LoadOptions& options) const override;

 private:
  OpenCvDnnEngine() = default;
};

}  // namespace cinfer
